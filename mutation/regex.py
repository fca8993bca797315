"""A cosmic-ray operator that mutates regular expressions: the manifest's and the trust boundary's
patterns are string literals cosmic-ray's own operators never touch (they change operators, numbers
and booleans), so a pattern loosened to take upper-case hex, a space, ``ftp:`` or a leading ``-``
would never be tried. Each mutant is one small change a careless edit makes:

- a character class: negated (``[a-f]`` -> ``[^a-f]``), one member removed (``[a-f0-9]`` ->
  ``[0-9]``), a space, a ``-`` or the upper case of a lower-case range added (``[a-f]`` ->
  ``[a-fA-F]``);
- a quantifier: ``+`` -> ``*`` (empty accepted), ``*`` -> ``+``, ``?`` dropped, ``{n}`` -> ``{n,}``
  and ``{n-1}``, ``{m,n}`` -> ``{m,n+1}`` and ``{m-1,n}``;
- an anchor or escape: ``\\Z`` -> ``$`` (a trailing newline accepted) or dropped, ``\\s``/``\\d``/
  ``\\w`` and their negations swapped, ``\\.`` -> ``.``;
- a lookahead ``(?!…)``/``(?=…)`` dropped; an alternative of ``a|b`` dropped.

What is mutated: raw string literals (``r"…"``: the project writes every pattern raw), the literal
parts of raw f-strings (``rf"^https://{_HOST}…"``), and plain strings without a backslash given to a
``re.`` function. A mutant of a whole literal that no longer compiles is not made."""

from __future__ import annotations

import re
from collections.abc import Iterator

import parso
from cosmic_ray.operators.operator import Example, Operator

_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_SWAP = {"\\s": "\\S", "\\S": "\\s", "\\d": "\\D", "\\D": "\\d", "\\w": "\\W", "\\W": "\\w"}


def _class_end(p: str, i: int) -> int:
    """Index of the ``]`` closing the class opened at ``p[i] == "["`` (-1: none)."""
    j = i + 1
    if j < len(p) and p[j] == "^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while j < len(p):
        if p[j] == "\\":
            j += 2
            continue
        if p[j] == "]":
            return j
        j += 1
    return -1


def _char_len(p: str, k: int) -> int:
    """Length of the one character (or escape: ``\\s``, ``\\xHH``, ``\\uHHHH``) at ``p[k]``."""
    if p[k] != "\\":
        return 1
    return {"x": 4, "u": 6, "U": 10}.get(p[k + 1 : k + 2], 2)


def _class_items(body: str) -> list[str]:
    """A class's members: ranges ``a-z``, escapes ``\\s``, single characters."""
    items, k = [], 0
    while k < len(body):
        n = _char_len(body, k)
        if k + n < len(body) - 1 and body[k + n] == "-":  # a range: a character after the '-'
            m = _char_len(body, k + n + 1)
            items.append(body[k : k + n + 1 + m])
            k += n + 1 + m
        else:
            items.append(body[k : k + n])
            k += n
    return items


def _class_sites(p: str, i: int, j: int) -> Iterator[tuple[int, int, str]]:
    body = p[i + 1 : j]
    neg = body.startswith("^")
    inner = body[1:] if neg else body
    yield i, j + 1, "[" + (inner if neg else "^" + inner) + "]"
    items = _class_items(inner)
    if len(items) > 1:
        for n in range(len(items)):
            yield i, j + 1, "[" + ("^" if neg else "") + "".join(items[:n] + items[n + 1 :]) + "]"
    if not neg:
        for add in (" ", "\\-"):
            if not {add, add.strip("\\")} & set(items):
                yield i, j + 1, "[" + add + inner + "]"
        for item in items:
            if len(item) == 3 and item[1] == "-" and item[0].islower() and item.upper() not in inner:
                yield i, j + 1, "[" + inner + item.upper() + "]"


def _group_end(p: str, i: int) -> int:
    """Index of the ``)`` closing the group opened at ``p[i]`` (-1: not in this literal)."""
    depth, j = 0, i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(p, j)
            if j < 0:
                return -1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1


def _alternative_end(p: str, i: int) -> int:
    """End of the alternative that starts after the ``|`` at ``i``: the next ``|`` or ``)`` at its depth."""
    depth, j = 0, i + 1
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(p, j)
            if j < 0:
                return len(p)
        elif c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return j
            depth -= 1
        elif c == "|" and depth == 0:
            return j
        j += 1
    return len(p)


def _escape_sites(p: str, i: int) -> list[tuple[int, int, str]]:
    esc = p[i : i + 2]
    if esc == "\\Z":
        return [(i, i + 2, "$"), (i, i + 2, "")]
    if esc in _SWAP:
        return [(i, i + 2, _SWAP[esc])]
    return [(i, i + 2, ".")] if esc == "\\." else []


def _repeat_sites(p: str, i: int) -> list[tuple[int, int, str]]:
    m = _REPEAT.match(p, i)
    if not m or p.startswith("{{", i):
        return []
    lo, comma, hi = int(m.group(1)), m.group(2), m.group(3)
    if not comma:
        return [(i, m.end(), f"{{{lo},}}")] + ([(i, m.end(), f"{{{lo - 1}}}")] if lo > 1 else [])
    if not hi:
        return []
    return [(i, m.end(), f"{{{lo},{int(hi) + 1}}}")] + ([(i, m.end(), f"{{{lo - 1},{hi}}}")] if lo > 0 else [])


def sites(p: str) -> list[tuple[int, int, str]]:
    """Every mutation of pattern text ``p``: (start, end, replacement of ``p[start:end]``)."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            out += _escape_sites(p, i)
            i += 2
            continue
        if c == "[":
            j = _class_end(p, i)
            if j < 0:
                break
            out += _class_sites(p, i, j)
            i = j + 1
            continue
        if c == "(" and p.startswith(("(?!", "(?="), i) and (k := _group_end(p, i)) > 0:
            out.append((i, k + 1, ""))
        elif c in "+*" and i > 0 and p[i - 1] not in "(|":
            out.append((i, i + 1, "*" if c == "+" else "+"))
        elif c == "?" and i > 0 and p[i - 1] not in "(*+?}":
            out.append((i, i + 1, ""))
        elif c == "|":
            out.append((i, _alternative_end(p, i), ""))
        elif c == "{":
            out += _repeat_sites(p, i)
        i += 1
    return out


def _string_parts(node: parso.tree.NodeOrLeaf) -> tuple[str, str, str] | None:
    """(head, pattern text, tail) of a literal that holds regular expression text, else None."""
    if node.type == "string":
        value = node.value
        q = min(k for k in (value.find('"'), value.find("'")) if k >= 0)
        prefix, body = value[:q].lower(), value[q:]
        if "b" in prefix or "f" in prefix or body.startswith(('"""', "'''")):
            return None
        if "r" not in prefix and ("\\" in body or not _in_re_call(node)):
            return None
        return value[: q + 1], body[1:-1], body[-1]
    if node.type == "fstring_string":
        start = node.parent.children[0] if node.parent is not None else None
        if start is not None and start.type == "fstring_start" and "r" in start.value.lower():
            return "", node.value, ""
    return None


def _in_re_call(node: parso.tree.NodeOrLeaf) -> bool:
    up = node.parent
    for _ in range(3):
        if up is None:
            return False
        if up.type in ("atom_expr", "power"):
            return up.get_code().lstrip().startswith("re.")
        up = up.parent
    return False


def _mutants(node: parso.tree.NodeOrLeaf) -> list[str]:
    parts = _string_parts(node)
    if parts is None:
        return []
    head, text, tail = parts
    whole = node.type == "string"
    out = []
    for start, end, new in sites(text):
        mutated = text[:start] + new + text[end:]
        if mutated == text:
            continue
        if whole:
            try:
                re.compile(mutated)
            except re.error:
                continue
        out.append(head + mutated + tail)
    return out


class RegexMutation(Operator):
    """One small change to a regular expression's text (see the module docstring)."""

    def mutation_positions(self, node: parso.tree.NodeOrLeaf) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
        for _ in _mutants(node):
            yield node.start_pos, node.end_pos

    def mutate(self, node: parso.tree.NodeOrLeaf, index: int) -> parso.tree.NodeOrLeaf:
        value = _mutants(node)[index]
        if node.type == "fstring_string":
            return parso.python.tree.FStringString(value, node.start_pos, prefix=node.prefix)
        return parso.python.tree.String(value, node.start_pos, prefix=node.prefix)

    @classmethod
    def examples(cls) -> tuple[Example, ...]:
        return (
            Example('X = re.compile(r"^[0-9a-f]{64}\\Z")', 'X = re.compile(r"^[^0-9a-f]{64}\\Z")'),
            Example('X = re.compile(r"^[0-9a-f]{64}\\Z")', 'X = re.compile(r"^[0-9a-fA-F]{64}\\Z")', occurrence=5),
        )


#: the provider cosmic-ray's plugin table holds (``cosmic_ray.plugins.OPERATOR_PROVIDERS["pmrepo"]``)
PROVIDER = {"RegexMutation": RegexMutation}
