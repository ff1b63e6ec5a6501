"""Turn bytes from an email into text, whatever charset the sender claimed.

Mail in the wild declares charsets it does not use (``us-ascii`` over Latin-1
bytes), declares names Python does not know, or declares nothing at all. The
rule here: trust a declared, known charset when the bytes decode cleanly with
it; otherwise try UTF-8, then Windows-1252 (a superset of Latin-1 for every
printable character, as browsers do), and say so in a warning.

Also decodes RFC 2047 encoded words (``=?utf-8?q?Jos=C3=A9?=``) leniently:
bad padding, unknown charsets, words split in the middle of a UTF-8 sequence
and words glued to other text all still give readable text.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re

__all__ = ["decode_8bit", "decode_bytes", "decode_header_value", "lookup_charset"]

_ALIASES = {
    "x-unknown": None,
    "unknown": None,
    "unknown-8bit": None,
    "x-user-defined": None,
    "default": None,
    "charset": None,
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "ansi_x3.4-1968": "ascii",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
}


# Python codecs that are text encodings but no MIME charset: they turn "\\x1b"
# into ESC, or always fail.
_NOT_CHARSETS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}
)


@functools.lru_cache(maxsize=256)
def lookup_charset(name: str | None) -> str | None:
    """Return a Python codec name for a declared MIME charset, or None if unknown.

    ISO-8859-1 maps to Windows-1252, as every browser does: mail that says
    Latin-1 and holds curly quotes or the euro sign is the common case.
    """
    if not name:
        return None
    key = name.strip().strip("\"'").lower()
    key = key.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*es
    if not key or len(key) > 40:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        info = codecs.lookup(key)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None  # rot13, base64_codec, unicode_escape and friends are not charsets
    codec = info.name
    if codec in {"latin-1", "iso8859-1"}:
        return "cp1252"
    return codec


def _fallback(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


def decode_bytes(data: bytes, charset: str | None, *, warnings: list[str], what: str) -> str:
    """Decode ``data`` declared as ``charset``, never raising.

    Args:
        data: The bytes, transfer encoding already removed.
        charset: The declared charset name, or None.
        warnings: Problems are appended here, readable by a person.
        what: Names the thing decoded in warnings ("body", "part 2"...).
    """
    if data.isascii():
        return data.decode("ascii")
    codec = lookup_charset(charset)
    if charset and codec is None and charset.strip().lower() not in _ALIASES:
        warnings.append(f"{what}: unknown charset {charset[:40]!r}; guessed the encoding")
    if codec is None:
        return _fallback(data)
    if codec in {"ascii", "utf-8"}:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            warnings.append(
                f"{what}: declared {charset[:40]!r} but holds other bytes; read as Windows-1252"
                if charset
                else f"{what}: invalid UTF-8; read as Windows-1252"
            )
            return _fallback(data)
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError, ValueError):
        pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"{what}: bytes invalid for declared charset {charset!r}; some replaced")
        try:
            return data.decode(codec, errors="replace")
        except (UnicodeError, LookupError, ValueError):
            return _fallback(data)
    warnings.append(f"{what}: declared {charset!r} but is UTF-8")
    return text


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?\s]*)\?=")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _decode_word(enc: str, payload: str) -> bytes | None:
    if enc in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        cleaned = cleaned[: len(cleaned) - len(cleaned) % 4 if len(cleaned) % 4 == 1 else None]
        try:
            return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            return None
    raw = payload.replace("_", " ").encode("utf-8", "surrogatepass")
    return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_8bit(value: str) -> str:
    """Decode the surrogate-escaped raw 8-bit bytes of a compat32 header value.

    UTF-8 is tried first, then Windows-1252. Encoded words are left alone.
    """
    if value.isascii():
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "replace")
    return _fallback(raw)


def decode_header_value(value: str, *, warnings: list[str] | None = None) -> str:
    """Decode a raw header value: 8-bit bytes and RFC 2047 encoded words.

    ``value`` is the header as the stdlib's compat32 parser returns it, where
    raw 8-bit bytes are surrogate-escaped. Those are decoded as UTF-8, else
    Windows-1252. Whitespace between adjacent encoded words is dropped, and
    adjacent words of one charset are joined before decoding, so a character
    split across two words survives. Malformed words are left as written.
    """
    value = decode_8bit(value)
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    pos = 0
    bad_charsets: set[str] = set()

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            data = b"".join(pending)
            codec = lookup_charset(pending_charset)
            if codec is None and pending_charset and pending_charset.lower() not in _ALIASES:
                bad_charsets.add(pending_charset)
            out.append(decode_bytes(data, pending_charset, warnings=[], what="header"))
        pending = []
        pending_charset = None

    after_word = False
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        charset, enc, payload = match.groups()
        decoded = _decode_word(enc, payload)
        if decoded is None:
            flush()
            out.append(value[pos : match.end()])
            pos = match.end()
            after_word = False
            continue
        if between and not (after_word and between.isspace()):
            flush()
            out.append(between)
        charset_key = charset.split("*", 1)[0].lower()
        if pending and charset_key != pending_charset:
            flush()
        pending.append(decoded)
        pending_charset = charset_key
        pos = match.end()
        after_word = True
    flush()
    out.append(value[pos:])
    if warnings is not None and bad_charsets:
        names = ", ".join(sorted(repr(c[:40]) for c in bad_charsets))
        warnings.append(f"header: unknown charset {names} in encoded word; guessed the encoding")
    return "".join(out)
