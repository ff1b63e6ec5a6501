"""Header decoding: addresses, message ids, dates and the selection the desk keeps.

Works on the raw ``(name, value)`` pairs of a compat32 message, so no value
passes through the stdlib's slow header-object machinery and nothing here can
raise on strange input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from cs_console.mail._charsets import decode_8bit, decode_header_value
from cs_console.textsafe import one_line

__all__ = ["Address", "ParsedHeaders", "headers_from_message", "raw_header_map"]

#: Headers kept (decoded, one line) in ``headers``; any ``list-*`` header is kept too.
KEPT_HEADERS = frozenset(
    {
        "auto-submitted",
        "precedence",
        "x-autoreply",
        "x-autorespond",
        "x-autoresponder",
        "x-auto-response-suppress",
        "return-path",
        "x-mailer",
        "user-agent",
        "content-language",
        "content-type",
        "delivered-to",
        "x-original-to",
        "x-failed-recipients",
        "feedback-id",
        "x-loop",
        "sender",
    }
)
_SINGLE_HEADERS = ("from", "subject", "date", "message-id", "to")
_MAX_HEADER_CHARS = 20_000
_MAX_ADDRESSES = 500


@dataclass(frozen=True)
class Address:
    """One mailbox: a display name (decoded, clean, maybe '') and an address."""

    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True)
class ParsedHeaders:
    """What the header block alone tells: enough to thread and de-duplicate."""

    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender: Address | None
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    headers: dict[str, str]
    content_hash: str
    warnings: list[str] = field(default_factory=list)


_FOLD = re.compile(r"\r?\n(?=[ \t])")
_MSGID_BRACKETED = re.compile(r"<([^<>\s]{1,500})>")
_ADDR_FALLBACK = re.compile(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+")


def raw_header_map(msg: Message) -> dict[str, list[str]]:
    """Lower-cased header names to their raw, unfolded values, in order."""
    result: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        key = str(name).strip().lower()
        text = value if isinstance(value, str) else str(value)
        if len(text) > _MAX_HEADER_CHARS:
            text = text[:_MAX_HEADER_CHARS]
        if "\n" in text:
            text = _FOLD.sub("", text)
        result.setdefault(key, []).append(text.strip())
    return result


def _decoded(value: str, warnings: list[str]) -> str:
    return one_line(decode_header_value(value, warnings=warnings))


def parse_message_ids(value: str | None) -> list[str]:
    """Message ids in a header, without angle brackets."""
    if not value:
        return []
    clean = one_line(decode_header_value(value))
    found = _MSGID_BRACKETED.findall(clean)
    if not found:
        found = [tok.strip("<>") for tok in clean.split() if "@" in tok]
    return [one_line(mid) for mid in found if mid.strip()]


def _lower_domain(address: str) -> str:
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local}@{domain.lower()}"


# One mailbox in the usual shapes: `Name <a@b>`, `"Name, X" <a@b>`, `a@b`.
# Anything else goes through the stdlib's full address parser.
_ATOM_ADDR = r"[^<>\s,;:()\"\\\[\]@]+@[^<>\s,;:()\"\\\[\]@]+"
_SIMPLE_ADDRESS = re.compile(
    rf'^(?:((?:"[^"\\]*"|[^<>",;:()\\\[\]@])*?)\s*<({_ATOM_ADDR})>|({_ATOM_ADDR}))$'
)
_ANGLE_ADDR = re.compile(r"^(.*?)<([^<>]*@[^<>]*)>")


def _split_addresses(text: str) -> list[tuple[str, str]]:
    """A forgiving splitter for headers the stdlib parser gets wrong."""
    pairs: list[tuple[str, str]] = []
    for chunk in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text):
        match = _ANGLE_ADDR.search(chunk)
        if match is not None:
            name = match.group(1).strip().strip('"').strip()
            pairs.append((name, match.group(2).strip("<> ")))
            continue
        pairs.extend(("", a) for a in _ADDR_FALLBACK.findall(chunk))
    return pairs


def parse_addresses(values: Iterable[str], warnings: list[str]) -> list[Address]:
    """Decode address headers; names are RFC 2047-decoded after splitting."""
    result: list[Address] = []
    for value in values:
        text = one_line(decode_8bit(value))
        simple = _SIMPLE_ADDRESS.match(text)
        if simple is not None:
            name = (simple.group(1) or "").strip()
            if len(name) > 1 and name[0] == name[-1] == '"':
                name = name[1:-1].replace('\\"', '"')
            pairs = [(name, simple.group(2) or simple.group(3))]
        else:
            try:
                pairs = getaddresses([text])
            except Exception:  # the stdlib parser has choked on hostile input before
                pairs = []
        pairs = [(n, a) for n, a in pairs if a.strip()]
        if "@" in text and (not pairs or any("@" not in a for _, a in pairs)):
            pairs = _split_addresses(text)
        for name, addr in pairs:
            address = one_line(addr).replace(" ", "")
            if not address:
                continue
            result.append(
                Address(
                    name=one_line(decode_header_value(name, warnings=warnings), limit=200),
                    address=_lower_domain(address)[:320],
                )
            )
            if len(result) >= _MAX_ADDRESSES:
                return result
    return result


def parse_date(value: str | None, warnings: list[str]) -> datetime | None:
    """An aware UTC datetime, or None (with a warning when the header is bad)."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(one_line(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        warnings.append(f"unreadable Date header: {one_line(value, limit=60)!r}")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        warnings.append(f"Date header out of range: {one_line(value, limit=60)!r}")
        return None


def headers_from_message(msg: Message, *, content_hash: str) -> ParsedHeaders:
    """Build :class:`ParsedHeaders` from a compat32 message's raw header pairs."""
    raw = raw_header_map(msg)
    warnings: list[str] = []

    def first(name: str) -> str | None:
        values = raw.get(name)
        return values[0] if values else None

    for name in _SINGLE_HEADERS:
        if len(raw.get(name, ())) > 1:
            warnings.append(f"duplicate {name.title()} header; the first one was used")
    if not raw:
        warnings.append("no headers found")
    ids = parse_message_ids(first("message-id"))
    senders = parse_addresses(raw.get("from", [])[:1], warnings)
    if not senders and raw.get("sender"):
        senders = parse_addresses(raw["sender"][:1], warnings)
    headers: dict[str, str] = {}
    for name, values in raw.items():
        if name in KEPT_HEADERS or name.startswith(("list-", "x-auto")):
            headers[name] = _decoded(values[0], warnings)[:2000]
    return ParsedHeaders(
        message_id=ids[0] if ids else None,
        in_reply_to=parse_message_ids(" ".join(raw.get("in-reply-to", []))),
        references=parse_message_ids(" ".join(raw.get("references", []))),
        subject=_decoded(first("subject") or "", warnings)[:1000],
        sender=senders[0] if senders else None,
        reply_to=parse_addresses(raw.get("reply-to", []), warnings),
        to=parse_addresses(raw.get("to", []), warnings),
        cc=parse_addresses(raw.get("cc", []), warnings),
        date=parse_date(first("date"), warnings),
        headers=headers,
        content_hash=content_hash,
        warnings=warnings,
    )
