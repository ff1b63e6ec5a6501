"""Build the outgoing :class:`~email.message.EmailMessage` of a reply or an automatic mail.

Everything that goes into a header is checked here: a CR or LF in a subject
or a display name is folded into a space (it can never start a new header),
and an address holding one is refused. Non-ASCII text is encoded by the
``email`` package's default policy (RFC 2047 words in headers, UTF-8 bodies).

The subject keeps the ticket token (``Re: <subject> [#123]``) so the
customer's answer finds its ticket again, without piling up ``Re:`` prefixes
or tokens.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from markdown_it import MarkdownIt

from cs_console.errors import MailError
from cs_console.i18n import N_, _
from cs_console.textsafe import one_line, strip_controls

__all__ = [
    "AUTO_GENERATED",
    "AUTO_REPLIED",
    "ComposeError",
    "OutgoingAttachment",
    "Recipient",
    "as_bytes",
    "bracketed_ids",
    "build_references",
    "compose_message",
    "header_text",
    "make_message_id",
    "message_domain",
    "render_html",
    "reply_subject",
    "ticket_token",
]

AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"
_AUTO_VALUES = frozenset({AUTO_REPLIED, AUTO_GENERATED})

#: Keep at most this many ids in References (the first one and the latest ones), as mail
#: clients do, so a very long thread cannot produce an oversized header.
MAX_REFERENCES = 20

_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw|ref|rv|fw|fwd|tr|wg)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_TOKEN = re.compile(r"\s*\[#\d+\]\s*")
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_LINE_SEPARATORS = re.compile("[\u2028\u2029]+")
_BARE_ID = re.compile(r"[^<>\s@]+@[^<>\s@]+")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


class ComposeError(MailError):
    """A message cannot be built (an unusable address, a header that would break)."""

    title = N_("Cannot write the message")


@dataclass(frozen=True)
class Recipient:
    """A name and an address; the name may hold any Unicode, the address may not hold CR/LF."""

    address: str
    name: str = ""


@dataclass(frozen=True)
class OutgoingAttachment:
    """A file to attach, already read into memory."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


def header_text(value: str) -> str:
    """``value`` as one header-safe line: controls stripped, every kind of line break a space.

    Besides CR and LF, Python treats U+2028/U+2029 as line ends: they are folded too.
    """
    return _LINE_SEPARATORS.sub(" ", one_line(value)).strip()


def ticket_token(ticket_id: int) -> str:
    """The token customers see in subjects: ``[#123]``."""
    return f"[#{ticket_id}]"


def reply_subject(subject: str, ticket_id: int | None) -> str:
    """``Re: <subject> [#123]``: one ``Re:``, one token, whatever the original held.

    Reply prefixes in several languages (``RE:``, ``AW:``, ``RV:``...) are dropped,
    as are ticket tokens anywhere in the subject, before one of each is added.
    """
    text = header_text(subject)
    text = _PREFIX.sub("", text)
    text = _TOKEN.sub(" ", text).strip()
    text = _PREFIX.sub("", text).strip()
    parts = ["Re:", text] if text else ["Re:"]
    if ticket_id is not None:
        parts.append(ticket_token(ticket_id))
    return " ".join(parts)


def message_domain(address: str) -> str:
    """The domain of an address, for Message-IDs; refuses what cannot be a domain."""
    _check_address(address)
    domain = address.rpartition("@")[2].strip().lower()
    if not _DOMAIN.match(domain):
        raise ComposeError(
            _("{address} has no usable domain for a Message-ID").format(address=repr(address))
        )
    return domain


def make_message_id(domain: str, *, unique: str | None = None) -> str:
    """A new ``<random.cs@domain>`` Message-ID; ``unique`` replaces the random part (tests)."""
    if not _DOMAIN.match(domain):
        raise ComposeError(
            _("{domain} is not a usable domain for a Message-ID").format(domain=repr(domain))
        )
    left = unique or uuid.uuid4().hex
    if not re.fullmatch(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+", left):
        raise ComposeError(
            _("{text} cannot be the left part of a Message-ID").format(text=repr(left))
        )
    return f"<{left}.cs@{domain}>"


def bracketed_ids(value: str | None) -> list[str]:
    """The Message-IDs in ``value`` as ``<id>``, whether it holds them bracketed or bare.

    The store keeps ids without angle brackets (as the parser gives them); headers
    need them with.
    """
    if not value:
        return []
    found = _MSGID.findall(value)
    if found:
        return found
    return [
        f"<{token.strip('<>')}>" for token in value.split() if _BARE_ID.fullmatch(token.strip("<>"))
    ]


def build_references(parent_id: str | None, parent_references: Sequence[str] = ()) -> list[str]:
    """References of a reply: the parent's References followed by the parent's id.

    Ids may come bracketed or bare; they come out bracketed. Anything that is
    not an id is dropped; duplicates are removed keeping the first place; a long
    chain keeps its root and the latest ids.
    """
    chain: list[str] = []
    for item in [*parent_references, *([parent_id] if parent_id else [])]:
        for found in bracketed_ids(item):
            if found not in chain:
                chain.append(found)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})


def render_html(text: str) -> str:
    """The HTML alternative of a plain-text reply: Markdown-ish, with any HTML in it escaped."""
    body = _markdown.render(strip_controls(text))
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>\n'
    )


def compose_message(
    *,
    from_address: str,
    from_name: str,
    to: Sequence[Recipient],
    subject: str,
    body: str,
    message_id: str,
    date: datetime,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    cc: Sequence[Recipient] = (),
    html: bool = False,
    attachments: Sequence[OutgoingAttachment] = (),
    auto_submitted: str | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> EmailMessage:
    """Build a complete message.

    Args:
        from_address: The account's address.
        from_name: The shop's name as the customer should see it.
        to: Recipients (at least one).
        subject: The final subject (see :func:`reply_subject`); CR/LF are folded.
        body: Plain text; also rendered to HTML when ``html`` is true.
        message_id: Fixed before the first attempt (see :func:`make_message_id`).
        date: The Date header (an aware datetime).
        in_reply_to: The id of the message this answers.
        references: The thread's chain (see :func:`build_references`).
        cc: Copy recipients.
        html: Add an HTML alternative rendered from ``body``.
        attachments: Files to attach.
        auto_submitted: ``auto-replied`` or ``auto-generated`` for automatic mail
            (RFC 3834); None for mail a person wrote.
        extra_headers: More headers (name, value); values are folded like the subject.

    Raises:
        ComposeError: an address is unusable, or no recipient was given.
    """
    try:
        return _compose(
            from_address=from_address,
            from_name=from_name,
            to=to,
            subject=subject,
            body=body,
            message_id=message_id,
            date=date,
            in_reply_to=in_reply_to,
            references=references,
            cc=cc,
            html=html,
            attachments=attachments,
            auto_submitted=auto_submitted,
            extra_headers=extra_headers,
        )
    except (ValueError, TypeError) as exc:  # the email package refusing a header, as a last guard
        raise ComposeError(_("the message cannot be built: {reason}").format(reason=exc)) from exc


def _compose(
    *,
    from_address: str,
    from_name: str,
    to: Sequence[Recipient],
    subject: str,
    body: str,
    message_id: str,
    date: datetime,
    in_reply_to: str | None,
    references: Sequence[str],
    cc: Sequence[Recipient],
    html: bool,
    attachments: Sequence[OutgoingAttachment],
    auto_submitted: str | None,
    extra_headers: Sequence[tuple[str, str]],
) -> EmailMessage:
    if not to:
        raise ComposeError(_("a message needs at least one recipient"))
    if auto_submitted is not None and auto_submitted not in _AUTO_VALUES:
        raise ComposeError(
            _("{header} must be one of {choices}").format(
                header="Auto-Submitted", choices=sorted(_AUTO_VALUES)
            )
        )
    if date.tzinfo is None:
        raise ComposeError(_("the {header} must be an aware datetime").format(header="Date"))
    if not _MSGID.fullmatch(message_id):
        raise ComposeError(_("{text} is not a Message-ID").format(text=repr(message_id)))

    message = EmailMessage()
    message["From"] = _address(Recipient(from_address, from_name))
    message["To"] = [_address(r) for r in to]
    if cc:
        message["Cc"] = [_address(r) for r in cc]
    message["Subject"] = header_text(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    parents = bracketed_ids(in_reply_to)
    if parents:
        message["In-Reply-To"] = parents[0]
    chain = build_references(None, references)
    if chain:
        message["References"] = " ".join(chain)
    if auto_submitted:
        message["Auto-Submitted"] = auto_submitted
        message["X-Auto-Response-Suppress"] = "All"
    for name, value in extra_headers:
        if not re.fullmatch(r"[A-Za-z0-9-]{1,76}", name):
            raise ComposeError(_("{name} is not a header name").format(name=repr(name)))
        message[name] = header_text(value)
    message["MIME-Version"] = "1.0"

    text = _plain(body)
    message.set_content(text, subtype="plain", charset="utf-8", cte=_cte(text))
    if html:
        rendered = render_html(body)
        message.add_alternative(rendered, subtype="html", charset="utf-8", cte=_cte(rendered))
    for attachment in attachments:
        maintype, _slash, subtype = attachment.content_type.partition("/")
        if not maintype or not subtype or "\n" in attachment.content_type:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=header_text(attachment.filename) or "attachment",
        )
    return message


def as_bytes(message: EmailMessage) -> bytes:
    """The wire form (CRLF line ends), as stored in the outbox and sent."""
    return message.as_bytes(policy=SMTP)


def _plain(body: str) -> str:
    text = strip_controls(body).rstrip("\n")
    return text + "\n"


def _cte(text: str) -> str:
    """8bit-unsafe servers exist: quoted-printable keeps non-ASCII text readable and safe."""
    if text.isascii() and all(len(line) <= 900 for line in text.splitlines()):
        return "7bit"
    return "quoted-printable"


def _check_address(address: str) -> None:
    if any(c in address for c in "\r\n\x00") or address.count("@") != 1:
        raise ComposeError(
            _("{address} is not a usable email address").format(address=repr(address))
        )
    local, _at, domain = address.partition("@")
    if not local or not domain or any(c.isspace() or c in '<>,;"()' for c in address):
        raise ComposeError(
            _("{address} is not a usable email address").format(address=repr(address))
        )


def _address(recipient: Recipient) -> Address:
    address = recipient.address.strip()
    _check_address(address)
    local, _at, domain = address.partition("@")
    name = header_text(recipient.name)
    try:
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, TypeError) as exc:
        raise ComposeError(
            _("{address} is not a usable email address: {reason}").format(
                address=repr(address), reason=exc
            )
        ) from exc
