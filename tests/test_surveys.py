"""Satisfaction surveys: reading answers, queueing once, recording without reopening."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from cs_console.config import AccountSettings, Settings, ShopSettings
from cs_console.desk.surveys import (
    SurveySettings,
    answer_by_token,
    queue_due_surveys,
    recognise_survey_reply,
    record_survey_reply,
    survey_link,
)
from cs_console.desk.tickets import (
    add_message,
    add_tag,
    create_ticket,
    get_or_create_customer,
    set_status,
)
from cs_console.errors import DeskError
from cs_console.store.engine import session_scope
from cs_console.store.models import Customer, Direction, OutboxItem, Survey, Ticket

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "kind", "score", "comment"),
    [
        ("5", "csat", 5, None),
        ("un 9", "nps", 9, None),
        ("Un 9, muy buen trato", "nps", 9, "muy buen trato"),
        ("muy bien", "csat", 5, None),
        ("Muy bien, gracias por la rapidez", "csat", 5, "gracias por la rapidez"),
        ("excelente", "csat", 5, None),
        ("Excelente", "nps", 10, None),
        ("terrible", "csat", 1, None),
        ("Terrible. Nadie me contestó en tres días", "nps", 0, "Nadie me contestó en tres días"),
        ("10/10", "nps", 10, None),
        ("10/10", "csat", 5, None),
        ("4/5", "nps", 8, None),
        ("9 de 10", "nps", 9, None),
        ("nine", "nps", 9, None),
        ("Nine! Great help", "nps", 9, "Great help"),
        ("nueve", "nps", 9, None),
        ("cuatro", "csat", 4, None),
        ("0", "nps", 0, None),
        (
            "Le doy un 10. Me ayudaron mucho\ncon el cambio",
            "nps",
            10,
            "Me ayudaron mucho\ncon el cambio",
        ),
        ("my rating is 4", "csat", 4, None),
        ("I'd give you a 7 - slow but fine", "nps", 7, "slow but fine"),
        ("Hola,\n\n4 - bien", "csat", 4, "bien"),
        ("Hola, un 8", "nps", 8, None),
        ("Hi, 3", "csat", 3, None),
        ("⭐⭐⭐⭐", "csat", 4, None),
        ("Regular", "csat", 3, None),
        ("mal", "csat", 2, None),
        ("Bien, gracias", "csat", 4, "gracias"),
        ("5\n\n> ¿Qué tal le atendimos?\n> 1 muy mal", "csat", 5, None),
    ],
)
def test_answers_are_recognised(text: str, kind: str, score: int, comment: str | None) -> None:
    answer = recognise_survey_reply(text, kind=kind, language="es")
    assert answer is not None, text
    assert (answer.score, answer.comment) == (score, comment)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Bueno, tengo otra duda sobre mi pedido", "csat"),  # "bueno" opening a sentence
        ("Ok, but my order still has not arrived and I need it", "csat"),
        ("One more thing about my order", "csat"),
        ("Una pregunta más", "csat"),
        ("no muy bien", "csat"),  # negations are left to a person
        ("not good", "nps"),
        ("7", "csat"),  # outside the scale
        ("11", "nps"),
        ("12345", "nps"),  # an order number
        ("5 euros de descuento?", "csat"),
        ("4.5", "csat"),
        ("historia 5", "csat"),
        ("Good morning, I have a question about order 123", "csat"),
        ("", "nps"),
        ("> 9\n> quoted only", "nps"),
        ("¿Qué tal?", "csat"),
    ],
)
def test_other_messages_are_not_answers(text: str, kind: str) -> None:
    assert recognise_survey_reply(text, kind=kind, language=None) is None


@given(st.integers(min_value=0, max_value=10), st.sampled_from(["", ".", "!", " - gracias"]))
def test_every_score_of_the_scale_is_read_back(score: int, tail: str) -> None:
    answer = recognise_survey_reply(f"{score}{tail}", kind="nps", language="en")
    assert answer is not None and answer.score == score


@given(st.text(max_size=200), st.sampled_from(["csat", "nps"]))
def test_recognising_never_fails_and_stays_in_scale(text: str, kind: str) -> None:
    answer = recognise_survey_reply(text, kind=kind, language=None)
    if answer is not None:
        low, high = (1, 5) if kind == "csat" else (0, 10)
        assert low <= answer.score <= high


def test_settings_shape_and_validation() -> None:
    import tomllib

    toml = """
[surveys]
enabled = true
kind = "nps"
delay = "1h"
max_age = "7d"
language = "auto"
link = "https://shop.example/encuesta?t={token}&score={score}"
"""
    parsed = SurveySettings.model_validate(tomllib.loads(toml)["surveys"])
    assert (parsed.enabled, parsed.kind, parsed.max_age_delta) == (True, "nps", timedelta(days=7))
    conf = SurveySettings.model_validate(
        {
            "enabled": True,
            "kind": "nps",
            "delay": "2h",
            "link": "https://s.example/a?t={token}&s={score}",
        }
    )
    assert conf.delay_delta == 2 * H
    assert survey_link(conf, "tok", 9) == "https://s.example/a?t=tok&s=9"
    assert survey_link(SurveySettings(), "tok", 9) is None
    with pytest.raises(ValidationError):
        SurveySettings(delay="soon")
    with pytest.raises(ValidationError):
        SurveySettings(link="javascript:alert(1)")
    with pytest.raises(ValidationError):
        SurveySettings.model_validate({"kind": "stars"})


def workspace() -> Settings:
    return Settings(
        shop=ShopSettings(name="Tienda", timezone="Europe/Madrid", language="es"),
        accounts=[
            AccountSettings(
                name="shop", address="help@shop.example", imap_host="imap.example", username="u"
            )
        ],
    )


ON = SurveySettings(
    enabled=True, delay="1h", max_age="7d", link="https://shop.example/s/{token}/{score}"
)


def solved_ticket(
    session,  # type: ignore[no-untyped-def]
    email: str,
    *,
    solved: datetime,
    language: str | None = "es",
    automated: bool = False,
) -> Ticket:
    customer = get_or_create_customer(session, email, name="Ana Pérez", now=solved - 5 * H)
    ticket = create_ticket(
        session, customer=customer, subject="¿Dónde está mi pedido?", now=solved - 5 * H,
        language=language,
    )  # fmt: skip
    add_message(
        session,
        ticket,
        direction=Direction.IN.value,
        now=solved - 5 * H,
        from_address=email,
        from_name="Ana Pérez",
        message_id=f"<{email}.in@example.com>",
        automated=automated,
    )
    set_status(session, ticket, "solved", now=solved)
    return ticket


def test_due_surveys_are_queued_once(engine: Engine, now: datetime) -> None:
    with session_scope(engine) as session:
        due = solved_ticket(session, "due@example.com", solved=now - 2 * H)
        recent = solved_ticket(session, "recent@example.com", solved=now - timedelta(minutes=30))
        solved_ticket(session, "old@example.com", solved=now - timedelta(days=10))
        blocked = solved_ticket(session, "blocked@example.com", solved=now - 2 * H)
        customer = session.get(Customer, blocked.customer_id)
        assert customer is not None
        customer.blocked = True
        tagged = solved_ticket(session, "bounce@example.com", solved=now - 2 * H)
        add_tag(session, tagged, "automated", now=now - 2 * H)
        solved_ticket(session, "robot@example.com", solved=now - 2 * H, automated=True)
        still_open = solved_ticket(session, "open@example.com", solved=now - 3 * H)
        set_status(session, still_open, "open", now=now - 2 * H)
        due_id, recent_id = due.id, recent.id
    with session_scope(engine) as session:
        run = queue_due_surveys(session, workspace(), now=now, surveys=ON)
    assert run.queued == [due_id]
    assert run.skipped == []
    with session_scope(engine) as session:
        items = session.exec(select(OutboxItem)).all()
        assert [(i.kind, i.ticket_id) for i in items] == [("survey", due_id)]
        mail = message_from_bytes(items[0].raw, policy=policy.default)
        assert mail["Auto-Submitted"] == "auto-generated"
        assert f"[#{due_id}]" in mail["Subject"]
        assert mail["To"].addresses[0].addr_spec == "due@example.com"
        assert mail["In-Reply-To"] == "<due@example.com.in@example.com>"
        body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Hola, Ana:" in body and "del 1 (muy" in body
        survey = session.exec(select(Survey)).one()
        assert f"https://shop.example/s/{survey.token}/5" in body
        assert (survey.kind, survey.sent_at) == ("csat", now)
    # Never twice: not on the next run, nor after the ticket is reopened and solved again.
    with session_scope(engine) as session:
        ticket = session.get(Ticket, due_id)
        assert ticket is not None
        set_status(session, ticket, "open", now=now + H)
        set_status(session, ticket, "solved", now=now + 2 * H)
    with session_scope(engine) as session:
        again = queue_due_surveys(session, workspace(), now=now + 5 * H, surveys=ON)
    assert again.queued == [recent_id]  # its delay has passed now; the first one is not sent again
    with session_scope(engine) as session:
        assert (
            len(session.exec(select(OutboxItem).where(OutboxItem.ticket_id == due_id)).all()) == 1
        )


def test_a_second_survey_row_is_refused_by_the_store(engine: Engine, now: datetime) -> None:
    with session_scope(engine) as session:
        ticket = solved_ticket(session, "x@example.com", solved=now - 2 * H)
        session.add(Survey(ticket_id=ticket.id, token="a", sent_at=now))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Survey(ticket_id=ticket.id, token="b", sent_at=now))


def test_surveys_off_sends_nothing(sqlite_engine: Engine, now: datetime) -> None:
    with session_scope(sqlite_engine) as session:
        solved_ticket(session, "due@example.com", solved=now - 2 * H)
        run = queue_due_surveys(session, workspace(), now=now, surveys=SurveySettings())
        assert run.queued == [] and session.exec(select(OutboxItem)).all() == []


def test_a_reply_is_recorded_and_never_reopens(engine: Engine, now: datetime) -> None:
    with session_scope(engine) as session:
        ticket = solved_ticket(session, "c@example.com", solved=now - 2 * H, language="en")
        other = solved_ticket(session, "d@example.com", solved=now - 2 * H)
        nps = SurveySettings(enabled=True, kind="nps")
        queue_due_surveys(session, workspace(), now=now, surveys=nps)
        session.flush()
        survey = session.exec(select(Survey).where(Survey.ticket_id == ticket.id)).one()
        body = message_from_bytes(
            session.exec(select(OutboxItem).where(OutboxItem.ticket_id == ticket.id)).one().raw,
            policy=policy.default,
        ).get_body(("plain",))
        assert "from 0 (not at all)" in body.get_content()  # type: ignore[union-attr]
        # Not an answer: nothing recorded, the caller goes on as usual.
        assert not record_survey_reply(session, ticket, "Where is my refund?", now=now + H)
        assert survey.score is None
        assert record_survey_reply(session, ticket, "un 9, genial\nGracias", now=now + H)
        assert (survey.score, survey.comment, survey.answered_at) == (9, "genial\nGracias", now + H)
        assert ticket.status == "solved"
        # A second answer replaces the first.
        assert record_survey_reply(session, ticket, "10/10", now=now + 2 * H)
        assert (survey.score, survey.comment) == (10, None)
        # A ticket without a survey never takes an answer.
        session.exec(select(Survey).where(Survey.ticket_id == other.id)).one()
        fresh = solved_ticket(session, "e@example.com", solved=now)
        assert not record_survey_reply(session, fresh, "5", now=now + H)


def test_answer_by_token(sqlite_engine: Engine, now: datetime) -> None:
    with session_scope(sqlite_engine) as session:
        ticket = solved_ticket(session, "c@example.com", solved=now - 2 * H)
        queue_due_surveys(session, workspace(), now=now, surveys=ON)
        session.flush()
        survey = session.exec(select(Survey)).one()
        with pytest.raises(DeskError, match="from 1 to 5"):
            answer_by_token(session, survey.token, 9, now=now)
        with pytest.raises(DeskError, match="no survey"):
            answer_by_token(session, "nope", 4, now=now)
        answer_by_token(session, survey.token, 4, now=now + H, comment="Rápido\x1b[31m")
        assert (survey.score, survey.comment) == (4, "Rápido[31m")
        assert ticket.status == "solved"


def test_an_answer_to_the_survey_mail_threads_to_its_ticket(engine: Engine, now: datetime) -> None:
    """Ingest's view: the reply names the survey's Message-ID; the ticket is found and kept solved."""
    from cs_console.desk.threading import ThreadingSettings, decide_thread

    with session_scope(engine) as session:
        ticket = solved_ticket(session, "c@example.com", solved=now - 2 * H)
        queue_due_surveys(session, workspace(), now=now, surveys=ON)
        session.flush()
        item = session.exec(select(OutboxItem).where(OutboxItem.kind == "survey")).one()
        mail = message_from_bytes(item.raw, policy=policy.default)
        decision = decide_thread(
            session,
            sender="c@example.com",
            customer_id=ticket.customer_id,
            subject=f"Re: {mail['Subject']}",
            in_reply_to=[item.message_id.strip("<>")],
            references=[],
            at=now + H,
            settings=ThreadingSettings(),
        )
        target = decision.ticket or decision.follow_up_of
        assert target is not None and target.id == ticket.id
        assert record_survey_reply(session, target, "Excelente, gracias", now=now + H)
        assert ticket.status == "solved"
        survey = session.exec(select(Survey)).one()
        assert (survey.score, survey.comment) == (5, "gracias")
