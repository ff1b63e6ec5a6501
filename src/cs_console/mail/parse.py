"""Parse a raw email into a readable, safe :class:`ParsedMessage`; never raise.

Strategy (measured in ``benchmarks/parse_messages.py``): the stdlib parser
with ``policy.compat32`` splits the MIME tree (about 4x faster than
``policy.default``), and this module does its own decoding: header values from
the raw pairs (RFC 2047 words, raw 8-bit bytes), transfer encodings (lenient
base64 and quoted-printable that report damage), and charsets (declared,
wrong, unknown or missing). Every problem becomes a human-readable entry in
``warnings`` instead of an exception.

Bodies: ``text/plain`` is preferred in ``multipart/alternative``; HTML-only
mail is converted to text (links keep their real target); attachments get
safe names and inline images are kept as attachments flagged ``inline``;
a forwarded ``message/rfc822`` part becomes quoted text and its attachments
join the list. The body is then split into new text, quoted text and
signature by :mod:`cs_console.mail.quotes`.

:func:`parse_headers` is a header-only first pass (threading, de-duplication)
that parses only the bytes before the first blank line: about a third of the
cost of a full parse, and it works on a header block fetched alone (IMAP
``BODY.PEEK[HEADER]``), so known messages need never be downloaded whole.

Where things live: the MIME walk in ``_mime``, header and address decoding in
``_headers``, charsets and RFC 2047 in ``_charsets``, HTML in ``_html``,
the language guess in ``_language``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from datetime import datetime
from email.feedparser import BytesFeedParser
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from cs_console.mail._headers import Address, ParsedHeaders, headers_from_message
from cs_console.mail._language import guess_language
from cs_console.mail._mime import MAX_DEPTH, MAX_PARTS, ParsedAttachment, Walker, join_texts
from cs_console.mail.quotes import split_reply
from cs_console.textsafe import one_line, strip_controls

__all__ = [
    "MAX_DEPTH",
    "MAX_PARTS",
    "Address",
    "ParsedAttachment",
    "ParsedHeaders",
    "ParsedMessage",
    "parse_headers",
    "parse_headers_only",
    "parse_message",
]

_MULTIPART_HEADER = re.compile(rb"content-type:\s*multipart/", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedMessage:
    """Everything the desk needs from one email, decoded and made safe."""

    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender: Address | None
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    text: str
    new_text: str
    quoted_text: str
    signature: str
    html: str | None
    attachments: list[ParsedAttachment]
    headers: dict[str, str]
    language: str | None
    content_hash: str
    warnings: list[str]


def _to_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


_FEED_CHUNK = 1 << 20


def _feed_parse(raw: bytes) -> Message:
    """The stdlib's parse, fed in 1 MiB pieces.

    ``message_from_bytes`` decodes the whole message to one string and splits
    it into lines at once, peaking near 9x the message's size (a 30 MB
    attachment took 370 MB); fed in pieces, the feed parser peaks under 4x.
    The result is the same: bytes are decoded one by one (ASCII with
    surrogate escapes), and lines split across pieces are joined.
    """
    parser = BytesFeedParser(policy=compat32)
    view = memoryview(raw)
    for start in range(0, len(raw), _FEED_CHUNK):
        parser.feed(bytes(view[start : start + _FEED_CHUNK]))
    return parser.close()


def _parse_tree(raw: bytes, warnings: list[str]) -> Message:
    try:
        return _feed_parse(raw)
    except RecursionError:
        pass
    # Nesting too deep for the stdlib parser: cut before the MAX_DEPTH-th multipart.
    starts = [m.start() for m in _MULTIPART_HEADER.finditer(raw)]
    cut = starts[MAX_DEPTH] if len(starts) > MAX_DEPTH else len(raw) // 2
    warnings.append(f"MIME nesting deeper than {MAX_DEPTH} levels; deeper parts ignored")
    try:
        return _feed_parse(raw[:cut])
    except RecursionError:
        return BytesParser(policy=compat32).parsebytes(raw, headersonly=True)


def _clean_warnings(warnings: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for warning in warnings:
        seen.setdefault(one_line(warning, limit=300), None)
    return list(seen)


def parse_message(raw: bytes, *, head: ParsedMessage | None = None) -> ParsedMessage:
    """Parse one raw email; never raises, whatever the bytes.

    What could not be read is described in ``warnings``; every text field is
    free of control characters. With ``head``, the same message's
    :func:`parse_headers_only`, its header fields are taken as they are and
    only the body is read.
    """
    data = _to_bytes(raw)
    content_hash = head.content_hash if head is not None else hashlib.sha256(data).hexdigest()
    try:
        return _parse(data, content_hash, head)
    except Exception as exc:  # the promise is: never raise
        return _unparseable(data, content_hash, exc)


def _parse(data: bytes, content_hash: str, known: ParsedMessage | None = None) -> ParsedMessage:
    warnings: list[str] = []
    msg = _parse_tree(data, warnings)
    head = known if known is not None else headers_from_message(msg, content_hash=content_hash)
    warnings.extend(head.warnings)
    walker = Walker(warnings)
    walker.walk(msg, 0)
    del msg  # the tree holds a copy of every part: free it before the text work
    main = join_texts(walker.texts)
    walker.texts.clear()
    split = split_reply(main)
    forwards = "\n\n".join(walker.forwards)
    text = "\n\n".join(t for t in (main, forwards) if t)
    quoted = "\n\n".join(t for t in (split.quoted_text, forwards) if t)
    if not text and not walker.attachments:
        warnings.append("the message has no readable body")
    html = strip_controls(walker.htmls[0]) if walker.htmls else None
    return ParsedMessage(
        message_id=head.message_id,
        in_reply_to=head.in_reply_to,
        references=head.references,
        subject=head.subject,
        sender=head.sender,
        reply_to=head.reply_to,
        to=head.to,
        cc=head.cc,
        date=head.date,
        text=text,
        new_text=split.new_text,
        quoted_text=quoted,
        signature=split.signature,
        html=html,
        attachments=walker.attachments,
        headers=head.headers,
        language=guess_language(split.new_text or text, head.headers.get("content-language")),
        content_hash=content_hash,
        warnings=_clean_warnings(warnings),
    )


def _unparseable(data: bytes, content_hash: str, exc: BaseException) -> ParsedMessage:
    text = strip_controls(data[:200_000].decode("utf-8", "replace")).strip()
    return ParsedMessage(
        message_id=None,
        in_reply_to=[],
        references=[],
        subject="",
        sender=None,
        reply_to=[],
        to=[],
        cc=[],
        date=None,
        text=text,
        new_text=text,
        quoted_text="",
        signature="",
        html=None,
        attachments=[],
        headers={},
        language=None,
        content_hash=content_hash,
        warnings=[f"the message could not be parsed ({type(exc).__name__}); shown as raw text"],
    )


_HEADER_END = re.compile(rb"\r?\n\r?\n")


def parse_headers(raw: bytes) -> ParsedHeaders:
    """Parse only the header block (before the first blank line); never raises.

    For threading and de-duplication before the full :func:`parse_message`.
    """
    data = _to_bytes(raw)
    content_hash = hashlib.sha256(data).hexdigest()
    match = _HEADER_END.search(data)
    head_bytes = data[: match.end()] if match else data
    try:
        msg = BytesParser(policy=compat32).parsebytes(head_bytes, headersonly=True)
        head = headers_from_message(msg, content_hash=content_hash)
    except Exception as exc:
        return ParsedHeaders(
            message_id=None,
            in_reply_to=[],
            references=[],
            subject="",
            sender=None,
            reply_to=[],
            to=[],
            cc=[],
            date=None,
            headers={},
            content_hash=content_hash,
            warnings=[f"the headers could not be parsed ({type(exc).__name__})"],
        )
    return ParsedHeaders(
        message_id=head.message_id,
        in_reply_to=head.in_reply_to,
        references=head.references,
        subject=head.subject,
        sender=head.sender,
        reply_to=head.reply_to,
        to=head.to,
        cc=head.cc,
        date=head.date,
        headers=head.headers,
        content_hash=content_hash,
        warnings=_clean_warnings(head.warnings),
    )


def parse_headers_only(raw: bytes) -> ParsedMessage:
    """The header block as a :class:`ParsedMessage` with an empty body; never raises.

    What a large sync records a message from before it reads the body
    (:mod:`cs_console.desk.sync_bodies`): every header field is what
    :func:`parse_message` gives, the body fields are empty and there is no
    language.
    """
    head = parse_headers(raw)
    known = {item.name: getattr(head, item.name) for item in fields(head)}
    return ParsedMessage(
        **known,
        text="",
        new_text="",
        quoted_text="",
        signature="",
        html=None,
        attachments=[],
        language=None,
    )
