"""Property tests and a fixed-budget fuzz run of the MIME parser.

``tests/test_parse.py`` already throws random bytes and a mutated corpus at
the parser. Here: generated MIME trees (nesting, charsets, transfer
encodings, hostile names), a round trip of what a well-formed message says,
and a derandomised fuzz run over the hostile corpus with a fixed budget, so
CI runs the same examples every time.
"""

from __future__ import annotations

import base64
import hashlib
import quopri
from email.message import EmailMessage
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_console.mail.parse import ParsedMessage, parse_message
from cs_console.textsafe import FORBIDDEN_CHARS, strip_controls

HOSTILE = sorted((Path(__file__).parent / "data" / "hostile").glob("*.eml"))
HOSTILE_BYTES = [p.read_bytes() for p in HOSTILE if p.stat().st_size < 60_000]

NASTY = st.sampled_from(
    ["\x1b[2J", "\x1b]8;;http://x\x1b\\", "\x1b]52;c;YQ==\a", "\u202e", "\x9b", "[b]", "\x00", "\r"]
)
TEXT = st.lists(st.one_of(st.text(max_size=12), NASTY), max_size=6).map("".join)
CHARSETS = st.sampled_from(
    ["utf-8", "iso-8859-1", "windows-1252", "us-ascii", "x-unknown", "utf-7", "unicode_escape", ""]
)
ENCODINGS = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "bogus"])


def assert_clean(m: ParsedMessage) -> None:
    for value in (m.subject, m.text, m.new_text, m.quoted_text, m.signature):
        assert not (set(value) & FORBIDDEN_CHARS), repr(value[:80])
    assert "\n" not in m.subject
    for address in [m.sender, *m.to, *m.cc, *m.reply_to]:
        if address is not None:
            assert not (set(str(address)) & FORBIDDEN_CHARS)
    for part in m.attachments:
        name = part.filename or ""
        assert not (set(name) & FORBIDDEN_CHARS)


def _encode(payload: bytes, cte: str) -> bytes:
    if cte == "base64":
        return base64.encodebytes(payload)
    if cte == "quoted-printable":
        return quopri.encodestring(payload)
    return payload


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    charset = draw(CHARSETS)
    cte = draw(ENCODINGS)
    text = draw(TEXT)
    kind = draw(st.sampled_from(["text/plain", "text/html", "application/octet-stream"]))
    try:
        payload = text.encode(charset or "utf-8", "replace")
    except LookupError:
        payload = text.encode("utf-8", "surrogatepass")
    headers = f'Content-Type: {kind}; charset="{charset}"\r\nContent-Transfer-Encoding: {cte}\r\n'
    if draw(st.booleans()):
        name = draw(TEXT)
        encoded = "=?utf-8?b?" + base64.b64encode(name.encode("utf-8", "replace")).decode() + "?="
        headers += f'Content-Disposition: attachment; filename="{encoded}"\r\n'
    if draw(st.booleans()):  # a damaged body
        payload = payload[: draw(st.integers(0, len(payload)))] + b"=\xff=="
    return headers.encode() + b"\r\n" + _encode(payload, cte)


@st.composite
def tree(draw: st.DrawFn, depth: int = 0) -> bytes:
    if depth >= 6 or draw(st.integers(0, 3)) == 0:
        return draw(leaf())
    boundary = f"b{depth}{draw(st.integers(0, 99))}"
    children = draw(st.lists(tree(depth + 1), min_size=0, max_size=4))
    sub = draw(st.sampled_from(["mixed", "alternative", "related", "digest", "report"]))
    body = b"".join(f"--{boundary}\r\n".encode() + child + b"\r\n" for child in children)
    if draw(st.booleans()):
        body += f"--{boundary}--\r\n".encode()  # sometimes never closed
    return f'Content-Type: multipart/{sub}; boundary="{boundary}"\r\n\r\n'.encode() + body


@st.composite
def whole_message(draw: st.DrawFn) -> bytes:
    subject = draw(TEXT)
    name = draw(TEXT)
    enc = base64.b64encode
    head = (
        f"From: =?utf-8?b?{enc(name.encode('utf-8', 'replace')).decode()}?= <a@example.org>\r\n"
        f"To: shop@example.com\r\n"
        f"Subject: =?utf-8?b?{enc(subject.encode('utf-8', 'replace')).decode()}?=\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode()
    return head + draw(tree())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(whole_message())
def test_generated_mime_trees_parse_clean(raw: bytes) -> None:
    m = parse_message(raw)
    assert_clean(m)
    assert m.content_hash == hashlib.sha256(raw).hexdigest()


@settings(max_examples=150, deadline=None)
@given(
    subject=st.text(max_size=80),
    body=st.text(min_size=1, max_size=400),
)
def test_what_a_well_formed_message_says_survives(subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "a@example.org"
    message["To"] = "shop@example.com"
    message["Subject"] = strip_controls(subject).replace("\n", " ")
    message["Message-ID"] = "<p@example.org>"
    message.set_content(strip_controls(body).encode("utf-8", "replace").decode("utf-8"))
    m = parse_message(message.as_bytes())
    assert_clean(m)
    assert m.message_id == "p@example.org"
    expected_words = strip_controls(body).encode("utf-8", "replace").decode("utf-8").split()
    assert m.text.split() == expected_words
    assert " ".join(m.subject.split()) == " ".join(
        strip_controls(subject).replace("\n", " ").split()
    )


# -- the fixed-budget fuzz run CI does every time ---------------------------------------------


@st.composite
def mutated_hostile(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(HOSTILE_BYTES)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        action = draw(st.integers(0, 3))
        if action == 0:
            data[pos] = draw(st.integers(0, 255))
        elif action == 1:
            data[pos:pos] = draw(
                st.sampled_from([b"\r\n\r\n", b"--", b"=?", b"?=", b"\x1b", b"boundary=", b"=\r\n"])
            )
        elif action == 2:
            del data[pos : pos + draw(st.integers(1, 64))]
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 256))]
    return bytes(data)


@settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_hostile())
def test_fuzz_budget_mutated_hostile_corpus(raw: bytes) -> None:
    assert_clean(parse_message(raw))
