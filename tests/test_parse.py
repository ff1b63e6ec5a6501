"""parse_message / parse_headers: decoding rules, quote splitting, and fuzzing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_console.mail.parse import (
    MAX_PARTS,
    ParsedHeaders,
    ParsedMessage,
    parse_headers,
    parse_message,
)
from cs_console.mail.quotes import split_reply
from cs_console.textsafe import FORBIDDEN_CHARS

CORPUS = Path(__file__).parent / "data" / "mail"
CORPUS_FILES = sorted(CORPUS.rglob("*.eml"))
CORPUS_BYTES = [p.read_bytes() for p in CORPUS_FILES if p.stat().st_size < 20_000]


def text_fields(m: ParsedMessage | ParsedHeaders) -> list[str]:
    """Every string of a parse result that a surface might show."""
    out = [m.subject, *m.in_reply_to, *m.references, *m.warnings]
    out.append(m.message_id or "")
    for addr in [m.sender, *m.to, *m.cc, *m.reply_to]:
        if addr is not None:
            out += [addr.name, addr.address]
    out += [*m.headers.keys(), *m.headers.values()]
    if isinstance(m, ParsedMessage):
        out += [m.text, m.new_text, m.quoted_text, m.signature, m.html or ""]
        for att in m.attachments:
            out += [att.filename, att.content_type, att.content_id or ""]
    return out


def assert_clean(m: ParsedMessage | ParsedHeaders) -> None:
    for value in text_fields(m):
        bad = set(value) & FORBIDDEN_CHARS
        assert not bad, (value[:80], bad)
        assert "\r" not in value
    one_liners = [m.subject, *m.warnings, *m.headers.values()]
    for addr in [m.sender, *m.to, *m.cc, *m.reply_to]:
        if addr is not None:
            one_liners += [addr.name, addr.address]
    for value in one_liners:
        assert "\n" not in value


def msg(*header_lines: str, body: str = "", charset: str = "utf-8") -> bytes:
    head = "\n".join(header_lines)
    return (head + "\n\n").encode("utf-8") + body.encode(charset)


# -- headers -------------------------------------------------------------------


def test_message_ids_lose_brackets_and_whitespace() -> None:
    m = parse_message(
        msg(
            "Message-ID:   <abc@x.example>  ",
            "In-Reply-To: <r1@x.example> (comment)",
            "References: <a@x>\n <b@x>\t<c@x>",
            body="hi",
        )
    )
    assert m.message_id == "abc@x.example"
    assert m.in_reply_to == ["r1@x.example"]
    assert m.references == ["a@x", "b@x", "c@x"]


def test_missing_message_id_is_none() -> None:
    assert parse_message(msg("Subject: x", body="hi")).message_id is None


def test_date_is_aware_utc() -> None:
    m = parse_message(msg("Date: Mon, 3 Mar 2025 10:00:00 +0100", body="x"))
    assert m.date == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    naive = parse_message(msg("Date: Mon, 3 Mar 2025 10:00:00 -0000", body="x"))
    assert naive.date is not None and naive.date.tzinfo is not None


def test_bad_date_is_none_with_warning() -> None:
    m = parse_message(msg("Date: yesterday-ish", body="x"))
    assert m.date is None
    assert any("Date" in w for w in m.warnings)


def test_address_domain_lowercased_localpart_kept() -> None:
    m = parse_message(msg("From: =?utf-8?q?Jos=C3=A9?= <Jose.M@Correo.ES>", body="x"))
    assert m.sender is not None
    assert m.sender.address == "Jose.M@correo.es"
    assert m.sender.name == "José"


def test_encoded_name_with_comma_is_one_address() -> None:
    m = parse_message(msg("To: =?utf-8?q?Mu=C3=B1oz=2C_Jos=C3=A9?= <j@x.es>, b@y.es", body="x"))
    assert [(a.name, a.address) for a in m.to] == [("Muñoz, José", "j@x.es"), ("", "b@y.es")]


def test_rfc2047_split_utf8_sequence_joins() -> None:
    m = parse_message(msg("Subject: =?utf-8?q?precio_=E2=82?= =?utf-8?q?=AC?=", body="x"))
    assert m.subject == "precio €"


def test_raw_8bit_headers_decoded() -> None:
    raw = "Subject: Devolución\nFrom: Peña <p@x.es>\n\nx".encode("latin-1")
    m = parse_message(raw)
    assert m.subject == "Devolución"
    assert m.sender is not None and m.sender.name == "Peña"


def test_kept_headers_selection() -> None:
    m = parse_message(
        msg(
            "Auto-Submitted: auto-replied",
            "List-Id: <news.x>",
            "X-Secret-Internal: nope",
            "Return-Path: <>",
            body="x",
        )
    )
    assert m.headers["auto-submitted"] == "auto-replied"
    assert m.headers["list-id"] == "<news.x>"
    assert m.headers["return-path"] == "<>"
    assert "x-secret-internal" not in m.headers


def test_content_hash_is_sha256_of_raw() -> None:
    raw = msg("Subject: x", body="y")
    assert parse_message(raw).content_hash == hashlib.sha256(raw).hexdigest()
    assert parse_headers(raw).content_hash == hashlib.sha256(raw).hexdigest()


def test_parse_headers_matches_full_parse_on_corpus() -> None:
    for raw in CORPUS_BYTES:
        full, head = parse_message(raw), parse_headers(raw)
        assert head.message_id == full.message_id
        assert head.subject == full.subject
        assert head.sender == full.sender
        assert head.references == full.references
        assert head.date == full.date


# -- bodies --------------------------------------------------------------------


def test_undeclared_8bit_body_guessed() -> None:
    raw = b"Subject: x\n\n" + "Buenos días, señora".encode("cp1252")
    assert parse_message(raw).text == "Buenos días, señora"


def test_declared_charset_respected() -> None:
    raw = msg("Content-Type: text/plain; charset=koi8-r", body="Привет", charset="koi8-r")
    m = parse_message(raw)
    assert m.text == "Привет"
    assert m.warnings == []


def test_html_only_converted_with_link_targets() -> None:
    html = (
        '<p>Mira <a href="https://evil.example/x">https://shop.example</a></p>'
        "<script>alert(1)</script><img src='https://track.example/p.gif'>"
    )
    m = parse_message(msg("Content-Type: text/html; charset=utf-8", body=html))
    assert "https://evil.example/x" in m.text
    assert "alert" not in m.text
    assert "track.example" not in m.text
    assert m.html is not None and "<a href" in m.html


def test_plain_preferred_in_alternative() -> None:
    body = (
        "--a\nContent-Type: text/plain\n\nplain version\n"
        "--a\nContent-Type: text/html\n\n<p>html version</p>\n--a--\n"
    )
    m = parse_message(msg('Content-Type: multipart/alternative; boundary="a"', body=body))
    assert m.text == "plain version"
    assert m.html is not None and "html version" in m.html


def test_empty_plain_falls_back_to_html() -> None:
    body = (
        "--a\nContent-Type: text/plain\n\n \n"
        "--a\nContent-Type: text/html\n\n<p>only here</p>\n--a--\n"
    )
    m = parse_message(msg('Content-Type: multipart/alternative; boundary="a"', body=body))
    assert m.text == "only here"


def test_attachment_without_name_gets_one_from_type() -> None:
    body = (
        "--b\nContent-Type: text/plain\n\nhola\n"
        "--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERg==\n--b--\n"
    )
    m = parse_message(msg('Content-Type: multipart/mixed; boundary="b"', body=body))
    assert [a.filename for a in m.attachments] == ["application-1.pdf"]
    assert m.attachments[0].data == b"%PDF"
    assert m.attachments[0].inline is False


def test_too_many_parts_capped_with_warning() -> None:
    parts = "".join(f"--b\nContent-Type: application/x-y\n\n{i}\n" for i in range(MAX_PARTS + 50))
    m = parse_message(msg('Content-Type: multipart/mixed; boundary="b"', body=parts + "--b--\n"))
    assert len(m.attachments) < MAX_PARTS
    assert any("MIME parts" in w for w in m.warnings)


def test_not_bytes_input_does_not_raise() -> None:
    assert parse_message("Subject: str input\n\nbody").subject == "str input"  # type: ignore[arg-type]
    assert parse_message(None).text == ""  # type: ignore[arg-type]


# -- quotes and signatures -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "new", "quoted_start", "signature"),
    [
        ("Hola\n\n> antes\n> más", "Hola", "> antes", ""),
        ("Hi\n\nOn Mon, 3 Mar 2025, Shop <a@b>\nwrote:\n> old", "Hi", "On Mon", ""),
        ("Hola\n\nEl lun, 3 mar 2025 a las 9:00, Tienda escribió:\n> x", "Hola", "El lun", ""),
        ("Hi\n-----Original Message-----\nFrom: a\nSent: b\n\nold", "Hi", "-----Original", ""),
        ("Hola\n-----Mensaje original-----\nDe: a\n\nviejo", "Hola", "-----Mensaje", ""),
        ("Hola\n\nDe: Tienda <t@x>\nEnviado: lunes\nPara: yo\n\nviejo", "Hola", "De: Tienda", ""),
        ("Hi\n\nFrom: Shop <s@x>\nSent: Monday\nTo: me\nSubject: y\n\nold", "Hi", "From: Shop", ""),
        ("Gracias\n\nEnviado desde mi iPhone", "Gracias", None, "Enviado desde mi iPhone"),
        ("Thanks\n\nSent from my Galaxy", "Thanks", None, "Sent from my Galaxy"),
        ("Ok\n\nGet Outlook for Android", "Ok", None, "Get Outlook for Android"),
        ("Vale\n-- \nAna\n600 000 000", "Vale", None, "-- \nAna\n600 000 000"),
        (
            "Vale\n\nEnviado desde mi móvil\n\nEl mar, 4 mar escribió:\n> hola",
            "Vale",
            "El mar",
            "Enviado desde mi móvil",
        ),
        ("Hola\n\n* * *\nDe: T <t@x>\nEnviado: lunes\nPara: yo\n\nviejo", "Hola", "* * *", ""),
        ("Texto\n\n---\n\nmás texto", "Texto\n\n---\n\nmás texto", None, ""),
        ("> pregunta\nrespuesta mía", "> pregunta\nrespuesta mía", None, ""),
        ("Sin cita ni firma.", "Sin cita ni firma.", None, ""),
        (
            "From: my phone I wrote this\nand more",
            "From: my phone I wrote this\nand more",
            None,
            "",
        ),
    ],
)
def test_split_reply(body: str, new: str, quoted_start: str | None, signature: str) -> None:
    split = split_reply(body)
    assert split.new_text == new
    if quoted_start is None:
        assert split.quoted_text == ""
    else:
        assert split.quoted_text.startswith(quoted_start)
    assert split.signature == signature


# -- never raise, never leak controls ---------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert_clean(parse_message(raw))
    assert_clean(parse_headers(raw))


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS_BYTES)))
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        if not data:
            break
        pos = draw(st.integers(min_value=0, max_value=len(data) - 1))
        if kind == "flip":
            data[pos] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[pos:pos] = draw(
                st.sampled_from(
                    [
                        b"\x1b[2J",
                        b"\n\n",
                        b"--",
                        b"=?utf-8?b?",
                        b"\r",
                        b"\x00",
                        b"\xe2\x80\xae",
                        b"Content-Type: multipart/mixed; boundary=x\n",
                        b"=",
                        b"\x9b",
                    ]
                )
            )
        elif kind == "delete":
            end = pos + draw(st.integers(min_value=1, max_value=40))
            del data[pos:end]
        elif kind == "truncate":
            del data[pos:]
        else:
            end = min(len(data), pos + draw(st.integers(min_value=1, max_value=200)))
            data[pos:pos] = data[pos:end]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus())
def test_mutated_corpus_never_raises(raw: bytes) -> None:
    m = parse_message(raw)
    assert_clean(m)
    assert m.content_hash == hashlib.sha256(raw).hexdigest()
    assert_clean(parse_headers(raw))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_is_clean(path: Path) -> None:
    assert_clean(parse_message(path.read_bytes()))


def test_dangling_tags_in_html_are_text() -> None:
    # Python's html.parser rescans input like this quadratically (minutes for
    # a few hundred KB); it must be treated as text instead.
    body = "<p>hola</p>" + "<script" * 30_000
    m = parse_message(msg("Content-Type: text/html; charset=utf-8", body=body))
    assert m.text.startswith("hola")
    assert "<script<script" in m.text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?utf-8?q?Jos=C3=A9?= =?utf-8?q?_Mu=C3=B1oz?=", "José Muñoz"),
        ("=?UTF-8?B?Sm9zw6k=?==?UTF-8?B?IE11w7Fveg?=", "José Muñoz"),  # glued, no padding
        ("Re: =?iso-8859-1?q?pedido_n=BA_1?= urgente", "Re: pedido nº 1 urgente"),
        ("=?utf-8*es?q?hola?=", "hola"),  # RFC 2231 language suffix
        ("=?utf-8?q?sin_cerrar", "=?utf-8?q?sin_cerrar"),  # left as written
        ("=?x-unknown?q?caf=E9?=", "café"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_decode_header_value(raw: str, expected: str) -> None:
    from cs_console.mail._charsets import decode_header_value

    assert decode_header_value(raw) == expected


@pytest.mark.parametrize(
    ("data", "charset", "expected", "warns"),
    [
        ("año".encode(), "utf-8", "año", False),
        ("año".encode("latin-1"), "utf-8", "año", True),
        ("año".encode("latin-1"), "us-ascii", "año", True),
        ("año".encode("latin-1"), None, "año", False),
        ("“€”".encode("cp1252"), "iso-8859-1", "“€”", False),  # Latin-1 read as cp1252
        ("año".encode(), "x-klingon", "año", True),
        ("Привет".encode("koi8-r"), "koi8-r", "Привет", False),
        (b"\xff\xfe", "rot13", "ÿþ", True),  # not a text charset
        (b"\\x1b caf\xe9", "unicode_escape", "\\x1b café", True),  # would make an ESC
        ("año".encode("latin-1"), "undefined", "año", True),  # a codec that always fails
    ],
)
def test_decode_bytes(data: bytes, charset: str | None, expected: str, warns: bool) -> None:
    from cs_console.mail._charsets import decode_bytes

    warnings: list[str] = []
    assert decode_bytes(data, charset, warnings=warnings, what="body") == expected
    assert bool(warnings) is warns


def test_html_mailto_links_collapse() -> None:
    html = '<p>Escribid a <a href="mailto:s@t.es">s@t.es</a> o <a href="mailto:x@y.es">aquí</a></p>'
    m = parse_message(msg("Content-Type: text/html; charset=utf-8", body=html))
    assert m.text == "Escribid a s@t.es o [aquí](mailto:x@y.es)"


def test_hostile_charset_parameter_does_not_fall_back_to_raw() -> None:
    body = '--e\nContent-Type: text/plain; charset="\x00utf-8"\n\nHola \xe2\x80\xae\n--e--\n'
    raw = b'Content-Type: multipart/mixed; boundary="e"\n\n' + body.encode("latin-1")
    m = parse_message(raw)
    assert m.text.startswith("Hola")
    assert not any("could not be parsed" in w for w in m.warnings)


def test_guessed_boundary_with_8bit_byte() -> None:
    raw = (
        b"Content-Type: multipart/mixed\n\n--fr\x80ontera\nContent-Type: text/plain\n\n"
        b"texto del pedido\n--fr\x80ontera--\n"
    )
    m = parse_message(raw)
    assert "texto del pedido" in m.text
    assert not any("could not be parsed" in w for w in m.warnings)
