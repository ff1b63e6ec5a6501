"""Make text from outside (emails, customer names, file names) safe to show and store.

Everything a customer sends is data. Before it reaches a terminal, a table
cell, a file name or a spreadsheet, it passes through one of these helpers:

- :func:`strip_controls` removes every character that can steer a terminal
  (ESC and so CSI/OSC sequences, C1 controls) or reorder what is shown (bidi
  overrides), and normalises line ends.
- :func:`one_line` is the same for a single line (subjects, names in a cell).
- :func:`safe_filename` turns a declared attachment name into a name that
  cannot leave the folder it is written to, on POSIX or Windows.
- :func:`csv_safe_cell` stops a spreadsheet from reading a cell as a formula.
"""

from __future__ import annotations

import re

__all__ = [
    "FORBIDDEN_CHARS",
    "csv_safe_cell",
    "one_line",
    "safe_filename",
    "strip_controls",
]

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

#: Every character :func:`strip_controls` removes (``\r`` is turned into ``\n``).
FORBIDDEN_CHARS: frozenset[str] = frozenset(
    [chr(c) for c in range(0x00, 0x20) if chr(c) not in "\n\t"]
    + [chr(0x7F)]
    + [chr(c) for c in range(0x80, 0xA0)]
    + list(_BIDI)
)

_DELETE_TABLE = {ord(c): None for c in FORBIDDEN_CHARS if c != "\r"}
_FORBIDDEN_RE = re.compile("[" + re.escape("".join(sorted(FORBIDDEN_CHARS - {"\r"}))) + "]")
_WS_RE = re.compile(r"\s*[\n\t]\s*")
_ELLIPSIS = "…"


def strip_controls(text: str) -> str:
    """Remove control and bidi-override characters; normalise line ends to ``\\n``.

    Keeps ``\\n`` and ``\\t``. Removes the other C0 controls (so ESC, and with it
    any CSI, OSC 8 or OSC 52 sequence, cannot reach a terminal), DEL, the C1
    controls U+0080-U+009F, and the bidi embedding/override/isolate/mark
    characters that can make a name or a link read backwards.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii() and text.isprintable():
        return text
    if _FORBIDDEN_RE.search(text) is None:
        return text
    return text.translate(_DELETE_TABLE)


def one_line(text: str, *, limit: int | None = None) -> str:
    """Return ``text`` as one clean line, cut to ``limit`` characters with an ellipsis.

    Controls are stripped, runs of newlines and tabs become one space, and the
    ends are trimmed.
    """
    line = strip_controls(text)
    if "\n" in line or "\t" in line:
        line = _WS_RE.sub(" ", line)
    line = line.strip()
    if limit is not None and len(line) > limit:
        if limit <= 0:
            return ""
        line = line[: limit - 1].rstrip() + _ELLIPSIS
    return line


_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{i}" for i in range(1, 10)]
    + [f"LPT{i}" for i in range(1, 10)]
)
_WINDOWS_INVALID_RE = re.compile(r'[<>:"|?*]')
_MAX_NAME = 150
_MAX_BYTES = 240  # most file systems allow 255 bytes of UTF-8 per name
_MAX_EXT = 16


def _fits(name: str) -> bool:
    return len(name) <= _MAX_NAME and len(name.encode("utf-8")) <= _MAX_BYTES


def safe_filename(name: str | None, *, fallback: str = "attachment") -> str:
    """Return a file name that cannot escape the folder it is written into.

    The result has no path separator, no ``..`` component, no control
    character, no leading dot or space, no character Windows refuses, is not a
    reserved Windows device name (``CON``, ``NUL.txt``... get a ``_`` prefix), is
    at most 150 characters and 240 UTF-8 bytes long (the extension is kept) and
    is never empty.

    Args:
        name: The name as declared by the sender, possibly hostile or missing.
        fallback: What to use when nothing usable is left; sanitised too.
    """
    result = _clean_name(name or "")
    if not result:
        result = _clean_name(fallback) or "attachment"
    return result


def _clean_name(name: str) -> str:
    # Lone surrogates cannot be written to any file system: make them "?" (then "_").
    text = one_line(name).encode("utf-8", "replace").decode("utf-8")
    # Keep only the last path component: "../../etc/passwd" -> "passwd".
    text = re.split(r"[/\\]", text)[-1]
    text = _WINDOWS_INVALID_RE.sub("_", text)
    text = text.strip().lstrip(". ").rstrip(". ")
    if not text or text in {".", ".."}:
        return ""
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem:
        stem, ext = text, ""
    if stem.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        text = "_" + text
        stem = "_" + stem
    if not _fits(text):
        suffix = "." + ext if ext and len(ext) <= _MAX_EXT else ""
        base = (stem if suffix else text)[: _MAX_NAME - len(suffix)]
        while base and not _fits(base + suffix):
            base = base[:-1]
        text = base.rstrip(". ") + suffix
    return text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value: str) -> str:
    """Prefix ``'`` to a value a spreadsheet would read as a formula."""
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value
