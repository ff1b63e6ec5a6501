"""Composing replies: headers, encodings, threading headers, and no header injection."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_console.mail.compose import (
    AUTO_REPLIED,
    ComposeError,
    OutgoingAttachment,
    Recipient,
    as_bytes,
    build_references,
    compose_message,
    header_text,
    make_message_id,
    message_domain,
    render_html,
    reply_subject,
)
from cs_console.textsafe import strip_controls

DATE = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(part: EmailMessage) -> str:
    """Decoded text with line ends normalised (the wire form uses CRLF)."""
    return str(part.get_content()).replace("\r\n", "\n")


def squash(text: str) -> str:
    """Text without its whitespace: folding a long encoded header may move spaces."""
    return "".join(text.split())


def build(**overrides: object) -> EmailMessage:
    fields: dict[str, object] = {
        "from_address": "shop@example.com",
        "from_name": "Tienda Ñandú",
        "to": [Recipient("maria@example.org", "María Muñoz")],
        "subject": reply_subject("¿Dónde está mi pedido? 📦", 123),
        "body": "Hola María,\n\nTu pedido sale mañana. ¡Gracias! 😀\n",
        "message_id": "<abc123.cs@example.com>",
        "date": DATE,
        "in_reply_to": "<c2@example.org>",
        "references": ["<c1@example.org>", "<r1.cs@example.com>", "<c2@example.org>"],
    }
    fields.update(overrides)
    return compose_message(**fields)  # type: ignore[arg-type]


def test_reply_headers_and_encoding_survive_a_real_parser() -> None:
    raw = as_bytes(build())
    assert raw.isascii(), "headers and bodies are encoded for 7-bit transport"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = parse(raw)
    assert parsed["From"].addresses[0].display_name == "Tienda Ñandú"
    assert parsed["From"].addresses[0].addr_spec == "shop@example.com"
    assert parsed["To"].addresses[0].display_name == "María Muñoz"
    assert parsed["Subject"] == "Re: ¿Dónde está mi pedido? 📦 [#123]"
    assert parsed["Message-ID"] == "<abc123.cs@example.com>"
    assert parsed["In-Reply-To"] == "<c2@example.org>"
    assert parsed["References"].split() == [
        "<c1@example.org>",
        "<r1.cs@example.com>",
        "<c2@example.org>",
    ]
    assert email.utils.parsedate_to_datetime(parsed["Date"]) == DATE
    assert parsed["Auto-Submitted"] is None
    body = parsed.get_body(("plain",))
    assert body is not None
    assert text_of(body) == "Hola María,\n\nTu pedido sale mañana. ¡Gracias! 😀\n"
    assert body.get_content_charset() == "utf-8"


def test_html_part_is_rendered_from_the_text_and_escaped() -> None:
    message = build(
        body="Hola **Ana**\n\n<script>alert(1)</script> & [web](https://example.com)", html=True
    )
    parsed = parse(as_bytes(message))
    html = parsed.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "<strong>Ana</strong>" in content
    assert "<script>" not in content and "&lt;script&gt;" in content
    assert '<a href="https://example.com">web</a>' in content
    plain = parsed.get_body(("plain",))
    assert plain is not None and "**Ana**" in text_of(plain)


def test_html_refuses_javascript_links() -> None:
    html = render_html("[x](javascript:alert(1))")
    assert "href" not in html and "<a" not in html


def test_attachments_keep_name_type_and_bytes() -> None:
    data = bytes(range(256))
    message = build(attachments=[OutgoingAttachment("factura ñ.pdf", data, "application/pdf")])
    parsed = parse(as_bytes(message))
    attachments = list(parsed.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_filename() == "factura ñ.pdf"
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == data


def test_automatic_mail_is_marked() -> None:
    parsed = parse(as_bytes(build(auto_submitted=AUTO_REPLIED)))
    assert parsed["Auto-Submitted"] == "auto-replied"
    with pytest.raises(ComposeError):
        build(auto_submitted="yes")


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("Hola", "Re: Hola [#7]"),
        ("Re: Hola", "Re: Hola [#7]"),
        ("RE: Re: AW: Hola [#7]", "Re: Hola [#7]"),
        ("Re: [#7] Hola", "Re: Hola [#7]"),
        ("Hola [#7] [#7]", "Re: Hola [#7]"),
        ("RV: Consulta", "Re: Consulta [#7]"),
        ("", "Re: [#7]"),
    ],
)
def test_reply_subject_keeps_one_prefix_and_one_token(original: str, expected: str) -> None:
    assert reply_subject(original, 7) == expected


@given(st.text(max_size=80))
def test_reply_subject_is_idempotent_and_one_line(subject: str) -> None:
    once = reply_subject(subject, 42)
    assert reply_subject(once, 42) == once
    assert once.startswith("Re:") and once.endswith("[#42]")
    assert "\r" not in once and "\n" not in once
    assert once.count("[#42]") == 1


@given(
    name=st.text(max_size=40),
    subject=st.text(max_size=80),
)
def test_no_header_injection_through_names_or_subjects(name: str, subject: str) -> None:
    hostile_name = f"{name}\r\nBcc: victim@example.net"
    hostile_subject = f"{subject}\nX-Injected: yes"
    message = build(to=[Recipient("ana@example.org", hostile_name)], subject=hostile_subject)
    parsed = parse(as_bytes(message))
    assert parsed["Bcc"] is None
    assert parsed["X-Injected"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["ana@example.org"]


@pytest.mark.parametrize(
    "address",
    [
        "ana@example.org\r\nBcc: x@y",
        "ana@example.org, eve@example.net",
        "no-at-sign",
        "a@b@c",
        "<a@b>",
    ],
)
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(ComposeError):
        build(to=[Recipient(address, "Ana")])


def test_message_ids_are_new_and_under_the_account_domain() -> None:
    domain = message_domain("Shop@Example.COM")
    assert domain == "example.com"
    first, second = make_message_id(domain), make_message_id(domain)
    assert first != second
    assert first.startswith("<") and first.endswith("@example.com>")
    with pytest.raises(ComposeError):
        make_message_id("bad domain\r\nX: y")


def test_references_chain_is_deduplicated_and_bounded() -> None:
    chain = build_references("<c@x>", ["<a@x> <b@x>\r\n <a@x>", "junk"])
    assert chain == ["<a@x>", "<b@x>", "<c@x>"]
    long = build_references("<last@x>", [" ".join(f"<m{i}@x>" for i in range(50))])
    assert len(long) == 20
    assert long[0] == "<m0@x>" and long[-1] == "<last@x>"


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(max_size=30),
    subject=st.text(max_size=120),
    body=st.text(max_size=300),
)
def test_any_text_round_trips_through_a_real_parser(name: str, subject: str, body: str) -> None:
    final_subject = reply_subject(subject, 5)
    message = build(to=[Recipient("ana@example.org", name)], subject=final_subject, body=body)
    parsed = parse(as_bytes(message))
    # Folding may move whitespace in a long encoded header; every other character survives.
    assert squash(parsed["Subject"]) == squash(final_subject)
    assert squash(parsed["To"].addresses[0].display_name) == squash(header_text(name))
    plain = parsed.get_body(("plain",))
    assert plain is not None
    expected = strip_controls(body).rstrip("\n") + "\n"
    assert text_of(plain) == expected.replace("\r\n", "\n")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\r", "\n", "\x85", "\x0b"])
def test_every_kind_of_line_break_is_folded(separator: str) -> None:
    message = build(
        to=[Recipient("ana@example.org", f"Ana{separator}Bcc: x@y")],
        subject=f"Hola{separator}X-Injected: yes",
    )
    parsed = parse(as_bytes(message))
    assert parsed["X-Injected"] is None and parsed["Bcc"] is None
    assert "X-Injected: yes" in parsed["Subject"]
