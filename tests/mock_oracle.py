"""Answers questions with mock 6.7's own code (run by the mock reference venv's python, with a
private copy of mock's ``py/`` first on sys.path; see tests/mock_reference.py). One JSON question
on stdin, one JSON answer on stdout. Nothing of mock is copied here: this module calls it.

Questions (``"q"``):
  load        mock's load_config(confdir, name): the values a build depends on, config_paths
  cmdline     mock's command_parse, load_config, set_config_opts_per_cmdline and
              check_arch_combination (on a RH-family host) for ``argv``: the exit code mock's
              main would give for an error there, and the parsed options
  root_cache  the RootCache plugin's preinit (age check, unpack) for the build root and its
              bootstrap of ``argv``'s config, on the cache and basedir given (a scratch copy)
  uid         Buildroot.create_resultdir of ``resultdir`` under UidManager(uid, gid): 0 or 70
  debugconfig mock.py's do_debugconfig of a config: what --debug-config prints

Every question takes ``confdir`` (mock's config dir, SYSCONFDIR/mock) and ``home`` (the invoking
user's home: ~/.mock/user.cfg and ~/.config/mock.cfg are read from there).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import os
import sys
import time
from types import SimpleNamespace
from typing import Any

from mockbuild import config, exception  # type: ignore[import-not-found]

MOCK_PY = os.path.join(os.path.dirname(config.__file__), "..", "mock.py")


def mock_main_module() -> Any:
    """mock.py, the command, loaded as a module (its main() is not run)."""
    spec = importlib.util.spec_from_file_location("mock_command", MOCK_PY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def patch_home(home: str) -> None:
    """mock finds the user's configs at os.path.expanduser('~' + <user name>): that is ``home``."""
    real = os.path.expanduser

    def expanduser(path: str) -> str:
        if path.startswith("~"):
            rest = path[1:].split("/", 1)
            return os.path.join(home, rest[1]) if len(rest) > 1 else home
        return real(path)

    os.path.expanduser = expanduser  # type: ignore[assignment]


def selected(opts: Any) -> dict[str, Any]:
    keys = ("root", "dist", "releasever", "package_manager", "chroot_setup_cmd", "isolation", "ssl_ca_bundle_path",
            "use_bootstrap", "use_bootstrap_image", "bootstrap_image", "target_arch", "legal_host_arches",
            "basedir", "cache_topdir", "update_before_build", "clean", "cleanup_on_success", "cleanup_on_failure",
            "unique-ext", "resultdir", "yum_install_command")
    out = {k: opts[k] for k in keys if k in opts}
    out["yum.conf"] = opts["yum.conf"]
    out["macros"] = dict(opts["macros"])
    out["environment"] = {k: v for k, v in opts["environment"].items() if k != "HOME"}
    out["config_paths"] = sorted(opts["config_paths"])
    out["plugins_enabled"] = {p: bool(opts["plugin_conf"].get(f"{p}_enable")) for p in ("root_cache", "yum_cache",
                                                                                        "ccache")}
    if "legal_host_arches" in out:
        out["legal_host_arches"] = list(out["legal_host_arches"])
    return out


def load(q: dict[str, Any]) -> dict[str, Any]:
    try:
        opts = config.load_config(q["confdir"], q["name"])
    except exception.Error as exc:
        return {"exit": exc.resultcode, "error": str(exc)}
    return {"exit": 0, "opts": selected(opts)}


def parse_and_configure(q: dict[str, Any]) -> tuple[int, str, Any, Any, Any]:
    """What mock's main() does with ``argv`` before it needs privileges: (exit, message, options,
    args, config_opts); exit 0 when mock would go on."""
    main = mock_main_module()
    sys.argv = ["mock", *q["argv"]]
    try:
        with contextlib.redirect_stderr(io.StringIO()) as err:
            options, args = main.command_parse()
    except SystemExit as exc:  # argparse: a usage error
        return int(exc.code or 0), err.getvalue().strip().splitlines()[-1] if err.getvalue() else "", None, None, None
    except exception.Error as exc:
        return exc.resultcode, str(exc), None, None, None
    try:
        opts = config.load_config(q["confdir"], options.chroot)
        config.set_config_opts_per_cmdline(opts, options, args)
        main.util.is_host_rh_family = lambda: True  # the stand-in models a Fedora/EL build host
        main.check_arch_combination(opts["rpmbuild_arch"], opts)
        for key, value in q.get("override", {}).items():  # e.g. a scratch copy of the cache dirs
            opts[key] = value
    except exception.Error as exc:
        return exc.resultcode, str(exc), options, args, None
    return 0, "", options, args, opts


def cmdline(q: dict[str, Any]) -> dict[str, Any]:
    code, message, options, args, opts = parse_and_configure(q)
    out: dict[str, Any] = {"exit": code, "message": message}
    if options is not None:
        out["options"] = {k: getattr(options, k) for k in (
            "mode", "chroot", "resultdir", "uniqueext", "clean", "cleanup_after", "isolation", "enabled_plugins",
            "disabled_plugins", "scrub", "repos", "online")}
        out["args"] = list(args)
    if opts is not None:
        out["config"] = selected(opts)
    return out


class _State:
    def start(self, what: str) -> None:
        if what.startswith("Waiting"):
            raise RuntimeError(f"mock would wait here: {what}")

    def finish(self, what: str) -> None:
        pass


def _buildroot(opts: Any, shared: str, ext: str | None, bootstrap: bool) -> Any:
    """What RootCache reads of a Buildroot (mockbuild/buildroot.py), for ``shared`` + ext."""
    name = f"{shared}-{ext}" if ext else shared
    basedir = os.path.join(opts["basedir"], name)
    rootdir = os.path.join(basedir, "root")

    def make_chroot_path(*paths: str) -> str:
        return os.path.join(rootdir, *(p.lstrip("/") for p in paths))

    br = SimpleNamespace(config=opts, state=_State(), is_bootstrap=bootstrap, shared_root_name=shared,
                         basedir=basedir, cache_topdir=opts["cache_topdir"],
                         cachedir=os.path.join(opts["cache_topdir"], shared), make_chroot_path=make_chroot_path,
                         chrootWasCached=False)
    br.chroot_was_initialized = os.path.exists(make_chroot_path(".initialized"))
    return br


BOOTSTRAP_CACHE_LINE = '"{{cache_topdir}}/" + bootstrap_buildroot_config[\'root\'] + "/root_cache/"'


def root_cache(q: dict[str, Any]) -> dict[str, Any]:
    """The RootCache preinit hook of both buildroots, as mock.py sets them up: the bootstrap's
    config is the build config with root ``<root>-bootstrap`` and its own root cache directory
    (the line checked below is mock.py's; a changed mock fails here instead of diverging)."""
    import copy

    from mockbuild.plugins import root_cache as rc  # type: ignore[import-not-found]

    with open(MOCK_PY) as fh:
        assert BOOTSTRAP_CACHE_LINE in fh.read(), "mock.py no longer derives the bootstrap's root cache so"
    code, message, options, _, opts = parse_and_configure(q)
    if code:
        return {"exit": code, "message": message}
    shift = float(q.get("time_shift", 0))
    real_time = time.time
    time.time = lambda: real_time() + shift
    answers: dict[str, Any] = {"exit": 0}
    boot_opts = opts.copy()
    boot_opts["plugin_conf"] = copy.deepcopy(opts["plugin_conf"])
    boot_opts["root"] = opts["root"] + "-bootstrap"
    boot_opts["plugin_conf"]["root_cache_opts"]["dir"] = "{{cache_topdir}}/" + boot_opts["root"] + "/root_cache/"
    for kind, cfg, bootstrap in (("build", opts, False), ("bootstrap", boot_opts, True)):
        if not cfg["plugin_conf"]["root_cache_enable"]:
            answers[kind] = {"enabled": False}
            continue
        br = _buildroot(cfg, cfg["root"], options.uniqueext, bootstrap)
        conf = cfg["plugin_conf"]["root_cache_opts"]
        for key in ("basedir", "cache_topdir", "cachedir"):  # as Plugins.init_plugins sets them
            conf[key] = getattr(br, key)
        conf["root"] = br.shared_root_name
        hooks: dict[str, Any] = {}
        plugin = rc.RootCache(SimpleNamespace(add_hook=hooks.setdefault), conf, br)
        existed = os.path.exists(plugin.rootCacheFile)
        logs = io.StringIO()
        handler = logging.StreamHandler(logs)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        try:
            hooks["preinit"]()
        finally:
            logging.getLogger().removeHandler(handler)
        answers[kind] = {"enabled": True, "cache_file": plugin.rootCacheFile, "existed": existed,
                         "deleted": existed and not os.path.exists(plugin.rootCacheFile),
                         "unpacked": bool(br.chrootWasCached), "log": logs.getvalue()}
    time.time = real_time
    return answers


def uid(q: dict[str, Any]) -> dict[str, Any]:
    """Buildroot.create_resultdir (mock's own method, on a stand-in for the rest of the buildroot)."""
    import grp

    from mockbuild import buildroot
    from mockbuild import uid as mock_uid

    real_getgrnam = grp.getgrnam

    def getgrnam(name: str) -> Any:
        if name == "mock":  # a host without the mock group: the gid asked for
            try:
                return real_getgrnam(name)
            except KeyError:
                return SimpleNamespace(gr_gid=q["gid"])
        return real_getgrnam(name)

    mock_uid.grp.getgrnam = getgrnam
    manager = mock_uid.UidManager(q["uid"], q["gid"])
    stub = SimpleNamespace(_setup_basedir=lambda: None, uid_manager=manager, resultdir=q["resultdir"])
    try:
        buildroot.Buildroot.create_resultdir(stub)
    except exception.Error as exc:
        return {"exit": exc.resultcode, "message": str(exc).strip()}
    return {"exit": 0, "message": ""}


def debugconfig(q: dict[str, Any]) -> dict[str, Any]:
    main = mock_main_module()
    opts = config.load_config(q["confdir"], q["name"])
    with contextlib.redirect_stdout(io.StringIO()) as out:
        main.do_debugconfig(opts)
    return {"exit": 0, "output": out.getvalue()}


def main() -> None:
    q = json.load(sys.stdin)
    patch_home(q["home"])
    answer = {"load": load, "cmdline": cmdline, "root_cache": root_cache, "uid": uid, "debugconfig": debugconfig}[
        q["q"]](q)
    sys.stdout.write(json.dumps(answer, default=str))


if __name__ == "__main__":
    main()
