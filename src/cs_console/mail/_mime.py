"""Walk a compat32 MIME tree: body text, HTML, attachments and what went wrong.

Transfer encodings are decoded here, leniently: broken base64 keeps what
decodes, broken quoted-printable keeps the bad sequences as written, and both
leave a warning. Charsets go through :mod:`cs_console.mail._charsets`. Depth
and part count are capped, a multipart whose boundary is missing or wrong gets
a guessed one, and a forwarded ``message/rfc822`` becomes quoted text whose
attachments join the list.
"""

from __future__ import annotations

import binascii
import mimetypes
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from typing import Any

from cs_console.mail._charsets import decode_8bit, decode_bytes, decode_header_value
from cs_console.mail._headers import raw_header_map
from cs_console.mail._html import html_to_text
from cs_console.textsafe import one_line, safe_filename, strip_controls

__all__ = ["MAX_DEPTH", "MAX_PARTS", "ParsedAttachment", "Walker", "join_texts"]

#: MIME nesting deeper than this is not descended into (a warning says so).
MAX_DEPTH = 50
#: At most this many MIME parts are looked at (a warning says so).
MAX_PARTS = 1000


@dataclass(frozen=True)
class ParsedAttachment:
    """A file carried by a message; ``filename`` is already safe to write."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None
    inline: bool


_DEFECT_TEXT = {
    "NoBoundaryInMultipartDefect": "a multipart part declares no boundary",
    "StartBoundaryNotFoundDefect": "a multipart boundary never appears in the body",
    "CloseBoundaryNotFoundDefect": (
        "the message seems truncated (a closing MIME boundary is missing)"
    ),
    "FirstHeaderLineIsContinuationDefect": "the first header line is a continuation line",
    "MisplacedEnvelopeHeaderDefect": "an mbox 'From ' line sits among the headers",
    "MissingHeaderBodySeparatorDefect": (
        "a header line is malformed or the blank line after the headers is missing"
    ),
    "MultipartInvariantViolationDefect": "a multipart part has no sub-parts",
    "MultipartConversionError": "a part could not be converted to multipart",
    "InvalidMultipartContentTransferEncodingDefect": (
        "a multipart part has an invalid transfer encoding"
    ),
    "UndecodableBytesDefect": "a part holds undecodable bytes",
    "InvalidBase64PaddingDefect": "broken base64 padding",
    "InvalidBase64CharactersDefect": "invalid characters in base64",
    "InvalidHeaderDefect": "a header is malformed",
}

_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_BASE64 = bytes(b for b in range(256) if b not in _BASE64_ALPHABET)
_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/=\s]")
_QP_BROKEN = re.compile(rb"=(?![0-9A-Fa-f]{2}|\r?\n|\s*$)")
_BOUNDARY_LINE = re.compile(r"^--([^\s]{1,70})\s*$", re.MULTILINE)
_CHARSET_PARAM = re.compile(r"""(?i)\bcharset\s*=\s*"?([^";\s]{1,60})""")


def _raw_payload(part: Message) -> object:
    """The payload as parsed: a list of parts, or surrogate-escaped text.

    Not ``get_payload()``: for 8-bit text that decodes with the declared
    charset (and raises on a charset name holding a NUL) before we can judge
    the bytes.
    """
    if hasattr(part, "_payload"):
        return part._payload
    try:
        return part.get_payload()
    except Exception:  # a hostile charset parameter: no payload
        return None


def _bytes_of(payload: str) -> bytes:
    try:
        return payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return payload.encode("utf-8", "surrogateescape")


_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _header(part: Message, name: str) -> str:
    for key, value in part.raw_items():
        if key.lower() == name:
            text = str(value)
            if "\n" in text:
                text = _FOLD.sub("", text)
            return decode_8bit(text).strip()
    return ""


class Walker:
    """Walks one MIME tree, collecting body text, HTML, attachments and warnings."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.forwards: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.parts = 0
        self.depth_warned = False
        self.parts_warned = False

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # -- decoding -------------------------------------------------------------

    def payload_bytes(self, part: Message, what: str) -> bytes:
        payload = _raw_payload(part)
        if isinstance(payload, list):
            return b""
        if not isinstance(payload, str | bytes):
            return b""
        raw = payload if isinstance(payload, bytes) else _bytes_of(payload)
        cte = _header(part, "content-transfer-encoding").lower().strip().strip('"')
        if cte == "base64":
            # One pass, one copy (a regex substitution builds a piece per line first).
            core = raw.translate(None, _NOT_BASE64)
            broken = _BASE64_JUNK.search(raw) is not None
            padded = b"=" in raw
            del raw, payload  # the encoded text is not needed past this point
            if len(core) % 4 == 1:
                core = core[:-1]
                broken = True
            elif len(core) % 4 and not padded:
                broken = True
            try:
                padding = -len(core) % 4  # no copy of a large body unless it needs padding
                data = binascii.a2b_base64(core + b"=" * padding if padding else core)
            except (binascii.Error, ValueError):
                data = b""
                broken = True
            if broken:
                self.warn(f"{what}: broken base64 (bad characters or truncated); kept what decoded")
            return data
        if cte == "quoted-printable":
            if _QP_BROKEN.search(raw) is not None:
                self.warn(f"{what}: broken quoted-printable; kept the undecodable sequences as is")
            return binascii.a2b_qp(raw)
        if cte in {"x-uuencode", "uuencode", "uue", "x-uue"}:
            try:
                decoded: object = part.get_payload(decode=True)
            except Exception:  # a broken uuencode block: keep the raw text
                decoded = None
            return decoded if isinstance(decoded, bytes) else raw
        if cte not in {"", "7bit", "8bit", "binary", "7-bit", "8-bit"}:
            self.warn(f"{what}: unknown transfer encoding {one_line(cte, limit=40)!r}; used as is")
        return raw

    def part_text(self, part: Message, what: str) -> str:
        data = self.payload_bytes(part, what)
        if data.isascii():
            return data.decode("ascii")
        match = _CHARSET_PARAM.search(_header(part, "content-type"))
        charset = match.group(1).strip("'") if match else None
        return decode_bytes(data, charset, warnings=self.warnings, what=what)

    # -- walking --------------------------------------------------------------

    def note_defects(self, part: Message) -> None:
        for defect in getattr(part, "defects", ()):
            name = type(defect).__name__
            self.warn(_DEFECT_TEXT.get(name, f"MIME defect: {name}"))

    def walk(self, part: Message, depth: int, *, collect_text: bool = True) -> None:
        if depth > MAX_DEPTH:
            if not self.depth_warned:
                self.warn(f"MIME nesting deeper than {MAX_DEPTH} levels; deeper parts ignored")
                self.depth_warned = True
            return
        self.parts += 1
        if self.parts > MAX_PARTS:
            if not self.parts_warned:
                self.warn(f"more than {MAX_PARTS} MIME parts; the rest were ignored")
                self.parts_warned = True
            return
        self.note_defects(part)
        ctype = part.get_content_type()
        maintype = ctype.partition("/")[0]
        what = f"part {self.parts}" if self.parts > 1 else "body"
        payload = _raw_payload(part)
        if ctype == "message/rfc822" or (maintype == "message" and isinstance(payload, list)):
            self.walk_attached_message(part, depth, ctype=ctype)
            return
        if maintype == "multipart":
            if isinstance(payload, list):
                self.walk_multipart(ctype, payload, depth, collect_text=collect_text)
            else:
                self.walk_broken_multipart(part, depth, what, collect_text=collect_text)
            return
        self.walk_leaf(part, depth, what, ctype, collect_text=collect_text)

    def walk_multipart(
        self, ctype: str, items: list[Any], depth: int, *, collect_text: bool
    ) -> None:
        children = [c for c in items if isinstance(c, Message)]
        if ctype != "multipart/alternative" or not collect_text:
            for child in children:
                self.walk(child, depth + 1, collect_text=collect_text)
            return
        plain = next((c for c in children if c.get_content_type() == "text/plain"), None)
        rich = [c for c in children if c is not plain]
        if plain is not None and self.part_text(plain, "text part").strip():
            self.walk(plain, depth + 1)
            for child in rich:
                self.walk(child, depth + 1, collect_text=False)
        else:
            # Use the richest alternative (the last one) as the body.
            for child in rich[:-1]:
                self.walk(child, depth + 1, collect_text=False)
            if rich:
                self.walk(rich[-1], depth + 1)

    def walk_broken_multipart(
        self, part: Message, depth: int, what: str, *, collect_text: bool
    ) -> None:
        payload = _raw_payload(part)
        text = payload if isinstance(payload, str) else ""
        match = _BOUNDARY_LINE.search(text)
        boundary = match.group(1).rstrip("-") if match is not None else ""
        if boundary and depth < MAX_DEPTH:
            rebuilt = (
                f'Content-Type: {part.get_content_type()}; boundary="{boundary}"\n\n'
            ).encode("utf-8", "surrogateescape") + _bytes_of(text)
            try:
                sub = message_from_bytes(rebuilt, policy=compat32)
            except Exception:  # the guess made things worse: fall back to text
                sub = None
            sub_payload = _raw_payload(sub) if sub is not None else None
            if sub is not None and isinstance(sub_payload, list):
                self.warn(f"{what}: MIME boundary missing or wrong; guessed {boundary!r}")
                children = [c for c in sub_payload if isinstance(c, Message)]
                self.walk_multipart(
                    sub.get_content_type(), children, depth, collect_text=collect_text
                )
                return
        self.warn(f"{what}: multipart without usable boundary; shown as plain text")
        if collect_text:
            self.texts.append(self.part_text(part, what))

    def walk_leaf(
        self, part: Message, depth: int, what: str, ctype: str, *, collect_text: bool
    ) -> None:
        try:
            disposition = part.get_content_disposition()
        except Exception:  # unparseable Content-Disposition: as if absent
            disposition = None
        filename = self.filename_of(part)
        is_body_type = ctype in {"text/plain", "text/html"} or (depth == 0 and ctype[:5] == "text/")
        if is_body_type and disposition != "attachment" and (filename is None or depth == 0):
            if ctype == "text/html":
                html = self.part_text(part, what)
                self.htmls.append(html)
                if collect_text:
                    self.texts.append(html_to_text(html, warnings=self.warnings))
            elif collect_text:
                self.texts.append(self.part_text(part, what))
            return
        self.add_attachment(part, what, ctype, disposition, filename)

    def filename_of(self, part: Message) -> str | None:
        disposition = _header(part, "content-disposition")
        ctype = _header(part, "content-type")
        if "name" not in disposition.lower() and "name" not in ctype.lower():
            return None
        source = part
        if not (disposition.isascii() and ctype.isascii()):
            # Raw 8-bit parameters: let the stdlib read already-decoded text
            # instead of replacing the bytes with U+FFFD.
            source = Message()
            if disposition:
                source["Content-Disposition"] = disposition
            if ctype:
                source["Content-Type"] = ctype
        try:
            name = source.get_filename() or source.get_param("name")
            if isinstance(name, tuple):  # an RFC 2231 value
                name = collapse_rfc2231_value(name)
        except Exception:  # malformed parameters: treat as unnamed
            name = None
        if not name or not isinstance(name, str):
            return None
        return decode_header_value(name)

    def add_attachment(
        self,
        part: Message,
        what: str,
        ctype: str,
        disposition: str | None,
        filename: str | None,
    ) -> None:
        data = self.payload_bytes(part, what)
        cid = one_line(_header(part, "content-id")).strip("<> ") or None
        if filename is None:
            ext = mimetypes.guess_extension(ctype, strict=False)
            ext = ext or (".txt" if ctype.startswith("text/") else ".bin")
            fallback = f"{part.get_content_maintype()}-{len(self.attachments) + 1}{ext}"
        else:
            fallback = f"attachment-{len(self.attachments) + 1}"
        inline = disposition == "inline" or (disposition is None and cid is not None)
        self.attachments.append(
            ParsedAttachment(
                filename=safe_filename(filename, fallback=fallback),
                content_type=one_line(ctype, limit=100),
                data=data,
                content_id=cid,
                inline=inline,
            )
        )

    def walk_attached_message(self, part: Message, depth: int, *, ctype: str) -> None:
        payload = _raw_payload(part)
        inner = payload[0] if isinstance(payload, list) and payload else None
        if ctype != "message/rfc822" or not isinstance(inner, Message):
            # message/delivery-status and friends: keep their text as an attachment.
            blocks = payload if isinstance(payload, list) else []
            text = "\n".join(
                "\n".join(f"{k}: {decode_8bit(str(v))}" for k, v in b.raw_items())
                for b in blocks
                if isinstance(b, Message)
            )
            name = ctype.replace("/", "-") + ".txt"
            self.attachments.append(
                ParsedAttachment(
                    filename=safe_filename(name),
                    content_type=ctype,
                    data=text.encode("utf-8", "replace"),
                    content_id=None,
                    inline=False,
                )
            )
            return
        sub = Walker(self.warnings)
        sub.parts = self.parts
        sub.depth_warned, sub.parts_warned = self.depth_warned, self.parts_warned
        sub.walk(inner, depth + 1)
        self.parts = sub.parts
        self.depth_warned, self.parts_warned = sub.depth_warned, sub.parts_warned
        self.attachments.extend(sub.attachments)
        raw = raw_header_map(inner)
        lines = ["---------- Forwarded message ----------"]
        for key in ("from", "date", "subject", "to"):
            label = key.title()
            if raw.get(key):
                lines.append(f"{label}: {one_line(decode_header_value(raw[key][0]))}")
        body = join_texts(sub.texts)
        lines += ["", body] if body else []
        if sub.forwards:
            lines += ["", *sub.forwards]
        self.forwards.append("\n".join(lines).strip())


def join_texts(texts: list[str]) -> str:
    return "\n\n".join(t for t in (strip_controls(x).strip() for x in texts) if t)
