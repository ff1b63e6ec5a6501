"""classify_automated: RFC 3834 signs of a robot, table-driven."""

from __future__ import annotations

from pathlib import Path

import pytest

from cs_console.mail.automation import AutomationVerdict, classify_automated
from cs_console.mail.parse import parse_headers, parse_message

CORPUS = Path(__file__).parent / "data" / "mail"

HUMAN_FROM = "From: Ana <ana@ejemplo.es>"


def build(*headers: str, body: str = "Hola") -> bytes:
    return ("\n".join(headers) + "\n\n" + body).encode()


CASES: list[tuple[str, tuple[str, ...], bool, str]] = [
    ("plain person", (HUMAN_FROM,), False, "no sign"),
    ("auto-submitted no", (HUMAN_FROM, "Auto-Submitted: no"), False, "no sign"),
    ("auto-submitted NO (case)", (HUMAN_FROM, "Auto-Submitted: NO"), False, "no sign"),
    ("auto-submitted no (comment)", (HUMAN_FROM, "Auto-Submitted: no (person)"), False, "no sign"),
    ("auto-replied", (HUMAN_FROM, "Auto-Submitted: auto-replied"), True, "Auto-Submitted"),
    ("auto-generated", (HUMAN_FROM, "Auto-Submitted: auto-generated"), True, "auto-generated"),
    (
        "auto-notified with params",
        (HUMAN_FROM, "Auto-Submitted: auto-notified; owner-email=x@y"),
        True,
        "auto-notified",
    ),
    ("precedence bulk", (HUMAN_FROM, "Precedence: bulk"), True, "Precedence: bulk"),
    ("precedence junk", (HUMAN_FROM, "Precedence: junk"), True, "Precedence: junk"),
    ("precedence list", (HUMAN_FROM, "Precedence: List"), True, "Precedence: list"),
    ("precedence auto_reply", (HUMAN_FROM, "Precedence: auto_reply"), True, "auto_reply"),
    ("precedence first-class", (HUMAN_FROM, "Precedence: first-class"), False, "no sign"),
    ("list-id", (HUMAN_FROM, "List-Id: <news.x>"), True, "List-Id header"),
    ("list-unsubscribe", (HUMAN_FROM, "List-Unsubscribe: <mailto:u@x>"), True, "List-Unsubscribe"),
    ("list-post", (HUMAN_FROM, "List-Post: <mailto:p@x>"), True, "List-Post"),
    ("x-autoreply", (HUMAN_FROM, "X-Autoreply: yes"), True, "X-Autoreply"),
    ("x-autorespond", (HUMAN_FROM, "X-Autorespond: 1"), True, "X-Autorespond"),
    ("suppress all", (HUMAN_FROM, "X-Auto-Response-Suppress: All"), True, "all"),
    ("suppress oof", (HUMAN_FROM, "X-Auto-Response-Suppress: DR, OOF"), True, "oof"),
    ("suppress autoreply", (HUMAN_FROM, "X-Auto-Response-Suppress: AutoReply"), True, "autoreply"),
    ("suppress dr only", (HUMAN_FROM, "X-Auto-Response-Suppress: DR, RN, NRN"), False, "no sign"),
    ("null return path", (HUMAN_FROM, "Return-Path: <>"), True, "null return path"),
    ("real return path", (HUMAN_FROM, "Return-Path: <ana@ejemplo.es>"), False, "no sign"),
    ("mailer-daemon", ("From: MAILER-DAEMON@mx.example",), True, "mailer-daemon"),
    ("postmaster", ("From: Postmaster <postmaster@x.example>",), True, "postmaster"),
    ("no-reply", ("From: Shop <no-reply@x.example>",), True, "no-reply"),
    ("noreply", ("From: <NoReply@x.example>",), True, "noreply"),
    ("no_reply", ("From: no_reply@x.example",), True, "no_reply"),
    ("donotreply", ("From: DoNotReply@x.example",), True, "donotreply"),
    ("noreply lookalike", ("From: noreplying.fan@x.example",), False, "no sign"),
    (
        "dsn report",
        (
            HUMAN_FROM,
            'Content-Type: multipart/report; report-type="delivery-status"; boundary=x',
        ),
        True,
        "delivery-status",
    ),
    (
        "other report",
        (HUMAN_FROM, "Content-Type: multipart/report; report-type=disposition-notification"),
        False,
        "no sign",
    ),
]


@pytest.mark.parametrize(
    ("headers", "automated", "reason"),
    [(h, a, r) for _, h, a, r in CASES],
    ids=[c[0] for c in CASES],
)
def test_classify_headers(headers: tuple[str, ...], automated: bool, reason: str) -> None:
    raw = build(*headers)
    for parsed in (parse_message(raw), parse_headers(raw)):
        verdict = classify_automated(parsed)
        assert verdict.automated is automated
        assert reason.lower() in verdict.reason.lower()


@pytest.mark.parametrize(
    ("own", "automated"),
    [
        (["soporte@tiendaverde.es"], True),
        (["SOPORTE@TiendaVerde.ES"], True),
        (["<soporte@tiendaverde.es>"], True),
        (["ventas@tiendaverde.es"], False),
        ([], False),
    ],
)
def test_own_addresses(own: list[str], automated: bool) -> None:
    raw = build("From: Tienda <Soporte@tiendaverde.es>")
    verdict = classify_automated(parse_message(raw), own_addresses=own)
    assert verdict.automated is automated
    if automated:
        assert "own" in verdict.reason


CORPUS_CASES = [
    ("auto_reply_out_of_office.eml", True),
    ("bounce_dsn.eml", True),
    ("mailing_list.eml", True),
    ("en_noreply_notification.eml", True),
    ("es_human_auto_submitted_no.eml", False),
    ("es_order_status_plain.eml", False),
    ("en_reply_quoted_gmail.eml", False),
    ("forwarded_rfc822.eml", False),
]


@pytest.mark.parametrize(("name", "automated"), CORPUS_CASES)
def test_corpus_classification(name: str, automated: bool) -> None:
    raw = (CORPUS / name).read_bytes()
    assert classify_automated(parse_message(raw)).automated is automated
    assert classify_automated(parse_headers(raw)).automated is automated


def test_verdict_is_frozen() -> None:
    verdict = AutomationVerdict(True, "x")
    with pytest.raises(AttributeError):
        verdict.automated = False  # type: ignore[misc]
