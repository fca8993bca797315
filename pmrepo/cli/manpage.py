"""The man page ``pmrepo(1)``, generated from the command table (``cli.COMMANDS``) and the option
table (``cli_options.GROUPS``), so that it says what ``--help`` says.

``python3 -m pmrepo.cli.manpage --output docs/pmrepo.1`` writes the page the package installs
(``share/man/man1/pmrepo.1``); ``tests/unit/cli/test_manpage.py`` regenerates it and fails on a
difference. The environment variables a user sets are listed here, in ``ENVIRONMENT``, once; the
same test holds that list to the ``PMREPO_*`` names the code reads.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from .. import __version__
from . import COMMANDS, parser
from .option_table import GROUPS, Opt

# what the page says of each variable (the ones pmrepo's code reads, and the others it honours)
ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("PMREPO_BACKEND", "the default of --backend (rpmbuild or mock)."),
    ("PMREPO_GPG_KEY", "the fingerprint of the signing key (--sign, publish of a signed release)."),
    ("GNUPGHOME", "the keyring PMREPO_GPG_KEY is taken from."),
    (
        "PMREPO_GPG_PASSPHRASE_FILE",
        "a file holding the key's passphrase; it must belong to you and be readable by you only (mode 0600).",
    ),
    ("PUBLISH_TARGET", "the default of publish --target."),
    ("PMREPO_PUBLISH_USER, PMREPO_PUBLISH_PASSWORD", "credentials for an https:// publish target (else ~/.netrc)."),
    ("PMREPO_PUBLISH_SSH", "the ssh command of ssh:// and rsync:// publish targets (e.g. ssh -i KEY)."),
    (
        "PMREPO_MIRROR_<REPOID>, PMREPO_MIRROR_<DIST>_<REPOID>",
        "the URL of a mock build root's repository (above the manifest and --mock-opt mirror.); "
        "a variable naming no repository of the release's dists is an error.",
    ),
    ("PMREPO_BUILD_USER", "the unprivileged user builds run as when pmrepo is root (default: pmrepo-build)."),
    ("PMREPO_BUILD_TREES", "where the rpmbuild trees live (default: /var/tmp/pmrepo-build-<uid>)."),
    (
        "PMREPO_CACHE_DIR",
        "the host-wide cache (the build time history), else $XDG_CACHE_HOME/pmrepo, else ~/.cache/pmrepo.",
    ),
    ("PMREPO_FETCH_MAX_BYTES", "the most a download without a pinned size may be (default: 2 GiB)."),
    ("PMREPO_FETCH_DEADLINE", "seconds a download or an HTTP answer may take overall (default: 1800)."),
    ("PMREPO_MIN_FREE_MIB", "the free space preflight wants on the work and output filesystems (default: 1024)."),
    ("PMREPO_PYPI_URL", "the PyPI JSON API upstream asks (default: https://pypi.org/pypi)."),
    ("PMREPO_CONTAINERS_CONF", "podman's containers.conf for the container tests (empty: podman's own)."),
    (
        "PMREPO_DEBIAN_MIRROR",
        "the Debian mirror the local test image is made from (default: http://deb.debian.org/debian).",
    ),
    ("PMREPO_IMAGE_TMP", "where the local test image is assembled (default: /var/tmp)."),
    ("PMREPO_BROWSER", "the browser setup and the release page test use instead of chromium."),
    ("CI", "true: progress is printed as plain lines, never rewritten in place."),
)
# PMREPO_* names the code sets for itself (the build sandbox's script, an option carried to a
# child): not for a user to set
INTERNAL = frozenset(
    {
        "PMREPO_AS",
        "PMREPO_DEPS",
        "PMREPO_DIRS",
        "PMREPO_OVL",
        "PMREPO_PRIVATE",
        "PMREPO_TOP",
    }
)

DESCRIPTION = (
    "pmrepo turns a release manifest (one TOML file) into a repository package per target "
    "distribution (el6, el7): an RPM that installs a complete local yum repository and its .repo "
    "file, so that an operator runs rpm -ivh and then yum install of the metapackage. It renders "
    "the spec templates, fetches and verifies the sources, builds the SRPMs and binary RPMs in "
    "BuildRequires order (mock in production, rpmbuild for development), makes the repositories "
    "and the repository packages, checks them, writes the release notes, checksums, signatures, an "
    "SBOM and a provenance, and publishes to a mirror.",
    "In a checkout the same commands are ./build.py COMMAND. Every failure a user can cause is one "
    "line on standard error naming the file, the field and the fix, and a non-zero exit status.",
)
EXIT_STATUS = (
    ("0", "success (upstream: nothing new)."),
    ("1", "an error: bad input, a failed build or check (one line on standard error)."),
    ("2", "a usage error, a preflight problem, or a missing Python module (run setup)."),
    ("3", "upstream: newer versions exist (every upstream was checked)."),
    ("4", "upstream: at least one upstream could not be checked."),
    ("130", "interrupted."),
)
FILES = (
    ("work/", "the work directory (--workdir): rendered specs, sources, logs, the build store, the trees."),
    ("repo/<release>/<dist>/", "the output (--outdir): repository packages, build.json, gates/, SBOM, provenance."),
    ("~/.cache/pmrepo/timings.json", "the host-wide build time history the scheduler estimates from."),
    ("/var/tmp/pmrepo-build-<uid>/", "the fixed rpmbuild trees (reproducible paths)."),
)
SEE_ALSO = "mock(1), rpmbuild(8), rpmsign(8), createrepo_c(8), rpmlint(1), gpg(1)"
DOCS = "README.md, CONTRIBUTING.md and docs/*.md of the source tree (docs/commands.md: every command)."


def roff(text: str) -> str:
    """``text`` as roff running text: backslashes and hyphens escaped, non-ASCII as ``\\[uXXXX]``, and
    a line that would start with a control character (``.`` or ``'``) protected."""
    out = []
    for ch in text.replace("\\", "\\e"):
        if ch == "-":
            out.append("\\-")
        elif ord(ch) > 127:
            out.append(f"\\[u{ord(ch):04X}]")
        else:
            out.append(ch)
    line = "".join(out)
    return "\\&" + line if line[:1] in (".", "'") else line


def _takes_value(o: Opt) -> bool:
    return o.kw.get("action") not in ("store_true", "store_false", "store_const", "count")


def invocation(o: Opt) -> str:
    """How ``--help`` spells the option: ``--jobs JOBS, -j JOBS``, ``--force [COMPONENT]``, ``DIR|URL``."""
    if not o.flags[0].startswith("-"):
        return str(o.kw.get("metavar") or o.dest)
    if not _takes_value(o):
        return ", ".join(o.flags)
    choices = o.kw.get("choices")
    metavar = str(o.kw.get("metavar") or ("{" + ",".join(choices) + "}" if choices else o.dest.upper()))
    value = f"[{metavar}]" if o.kw.get("nargs") == "?" else metavar
    return ", ".join(f"{flag} {value}" for flag in o.flags)


def command_parser(name: str, prog: str = "pmrepo") -> argparse.ArgumentParser:
    """The subcommand's parser as ``cli.parser`` builds it (its usage line is the synopsis)."""
    p = argparse.ArgumentParser(prog=f"{prog} {name}", description=COMMANDS[name].text)
    for group in COMMANDS[name].groups:
        for o in GROUPS[group]:
            p.add_argument(*o.flags, **o.kw)
    return p


def _synopsis(name: str) -> str:
    usage = command_parser(name).format_usage().removeprefix("usage: ")
    return " ".join(usage.split())


def command_options(name: str) -> Iterable[Opt]:
    """The command's options as --help shows them (a refused old spelling, help=SUPPRESS, is not one)."""
    for group in COMMANDS[name].groups:
        yield from (o for o in GROUPS[group] if o.kw.get("help") is not argparse.SUPPRESS)


def _tagged(items: Iterable[tuple[str, str]], bold: bool = True) -> list[str]:
    lines = []
    for tag, text in items:
        lines += [".TP", (r"\fB" + roff(tag) + r"\fR") if bold else roff(tag), roff(text)]
    return lines


def render() -> str:
    """The whole page, roff (man macros)."""
    top = parser("pmrepo")
    lines = [
        '.\\" generated by pmrepo/cli/manpage.py from the CLI table: do not edit, run python3 -m pmrepo.cli.manpage',
        f'.TH PMREPO 1 "" "pmrepo {__version__}" "User Commands"',
        ".SH NAME",
        "pmrepo \\- " + roff(str(top.description).removeprefix("pmrepo: ")),
        ".SH SYNOPSIS",
        r".B pmrepo",
        r"[\fB\-v\fR] \fICOMMAND\fR [\fIoptions\fR]",
        ".br",
        r".B pmrepo",
        r"\fICOMMAND\fR \fB\-\-help\fR",
        ".SH DESCRIPTION",
    ]
    for paragraph in DESCRIPTION:
        lines += [".PP", roff(paragraph)]
    lines += [
        ".SH OPTIONS",
        *_tagged(
            [
                ("-v, --verbose", "log every external command line"),
                ("-h, --help", "show the help of pmrepo or of a command"),
            ]
        ),
    ]
    lines.append(".SH COMMANDS")
    for name, cmd in COMMANDS.items():
        lines += [f".SS {roff(name)}", roff(cmd.text) + ".", ".PP", r"\fB" + roff(_synopsis(name)) + r"\fR"]
        lines += _tagged((invocation(o), str(o.kw.get("help", ""))) for o in command_options(name))
    lines += [".SH EXIT STATUS", *_tagged(EXIT_STATUS)]
    lines += [".SH ENVIRONMENT", *_tagged(ENVIRONMENT)]
    lines += [".SH FILES", *[line for tag, text in FILES for line in (".TP", r"\fI" + roff(tag) + r"\fR", roff(text))]]
    lines += [".SH SEE ALSO", roff(SEE_ALSO), ".PP", roff(DOCS)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m pmrepo.cli.manpage", description="write the man page pmrepo(1)")
    ap.add_argument("--output", type=Path, default=None, help="the file to write (default: standard output)")
    args = ap.parse_args(argv)
    page = render()
    if args.output is None:
        sys.stdout.write(page)
    else:
        args.output.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
