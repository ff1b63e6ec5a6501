"""Satisfaction surveys: sent after a ticket is solved, answered by a reply or a link.

A survey is one email, queued in the outbox (kind ``survey``, ``Auto-Submitted:
auto-generated``) a configurable delay after the ticket was solved. It asks for
CSAT (1-5) or NPS (0-10). The customer answers by replying with the number or
a word ("5", "un 9", "10/10", "nine", "muy bien", "terrible"), optionally with
a comment after it, or through a link the shop hosts.

Links: the URL only carries the survey token and the score. Mail security
scanners open every link of a message, so the page behind it must not record
anything on GET: it shows the score and asks for a deliberate click (a form
that POSTs), and only that POST records the answer (:func:`answer_by_token`).

Never:

- a second survey for a ticket (one row per ticket, enforced by a unique index);
- a survey to a blocked customer, or for a ticket an automated sender opened;
- a reopened ticket because of a survey answer (:func:`record_survey_reply`
  tells ingest the message was an answer, and ingest appends it without reopening).

This module imports nothing that reads the config at import time, so
:mod:`cs_console.config` can import :class:`SurveySettings`.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cs_console.desk.survey_settings import SCALES, SurveySettings
from cs_console.desk.tickets import record_event
from cs_console.errors import DeskError
from cs_console.i18n import _
from cs_console.store.models import Customer, Direction, Message, Status, Survey, Ticket, TicketTag
from cs_console.textsafe import one_line, strip_controls

if TYPE_CHECKING:
    from cs_console.config import Settings

__all__ = [
    "SCALES",
    "SurveyAnswer",
    "SurveyRun",
    "SurveySettings",
    "answer_by_token",
    "due_survey_tickets",
    "queue_due_surveys",
    "queue_survey",
    "recognise_survey_reply",
    "record_survey_reply",
    "survey_link",
    "survey_settings",
    "survey_text",
]

_COMMENT_LIMIT = 4000


def survey_settings(settings: Settings) -> SurveySettings:
    """The workspace's ``[surveys]`` section (defaults: off)."""
    found = getattr(settings, "surveys", None)
    return found if isinstance(found, SurveySettings) else SurveySettings()


# --------------------------------------------------------------------------- recognising answers


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """A score read from a reply, and what the customer wrote after it."""

    score: int
    comment: str | None = None


_NUMBER_WORDS = {
    # Spanish
    "cero": 0, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
    # English
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip

# Words on a five-level scale; longer phrases are tried first.
_LEVEL_WORDS: dict[str, int] = {
    **dict.fromkeys(
        [
            "muy bien", "muy bueno", "muy buena", "excelente", "excelent", "excellent",
            "perfecto", "perfecta", "perfect", "genial", "fantastico", "fantastic",
            "estupendo", "maravilloso", "great", "amazing", "outstanding", "very good",
            "very satisfied", "muy satisfecho", "muy satisfecha", "encantado", "encantada",
            "superb", "brilliant", "de diez", "top",
        ],
        5,
    ),
    **dict.fromkeys(
        ["bien", "bueno", "buena", "good", "satisfecho", "satisfecha", "satisfied",
         "correcto", "fine", "nice"],
        4,
    ),
    **dict.fromkeys(
        ["regular", "normal", "ok", "okay", "aceptable", "so so", "so-so", "average",
         "neutral", "mas o menos", "meh"],
        3,
    ),
    **dict.fromkeys(
        ["mal", "malo", "mala", "bad", "poor", "insatisfecho", "insatisfecha",
         "unsatisfied", "dissatisfied", "decepcionado", "decepcionada", "disappointed"],
        2,
    ),
    **dict.fromkeys(
        ["muy mal", "muy malo", "muy mala", "very bad", "very poor", "terrible", "horrible",
         "pesimo", "pesima", "awful", "fatal", "desastre", "desastroso", "disaster",
         "lamentable", "very dissatisfied", "muy insatisfecho", "muy insatisfecha", "worst"],
        1,
    ),
}  # fmt: skip
_LEVEL_TO_NPS = {5: 10, 4: 8, 3: 5, 2: 3, 1: 0}

# Words people put before a score: "un 9", "le doy un 10", "my rating: 4", "nota: 8".
_FILLER = (
    r"(?:(?:le\s+doy|les\s+doy|os\s+doy|doy|pongo|le\s+pongo|i\s+give\s+(?:you|it)|"
    r"i'?d\s+give\s+(?:you|it)|i\s+would\s+give\s+(?:you|it)|give\s+(?:you|it)|"
    r"my\s+(?:score|rating|answer)\s+is|mi\s+(?:nota|puntuacion|respuesta)\s+es|"
    r"nota|puntuacion|valoracion|calificacion|score|rating|answer|respuesta)\s*[:=-]?\s*)?"
    r"(?:(?:un|una|a|an)\s+)?"
)
_NEGATION = re.compile(r"^(?:no|not|nada|ni|nunca|never|none)\b")
_FRACTION = re.compile(
    _FILLER + r"(?P<n>\d{1,2})\s*(?:/|de|sobre|out\s+of|of)\s*(?P<d>5|10)(?![\d.,])"
)
_DIGIT = re.compile(_FILLER + r"(?P<n>\d{1,2})(?![\d%€$£]|[.,]\d|\s*(?:€|eur|euros|usd|%))")
_STARS = re.compile(r"^(?P<stars>[★⭐*]{1,5})(?:\s|$)")
_WORD_RE = re.compile(
    _FILLER
    + r"(?P<w>"
    + "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True))
    + r")(?=\s*(?:$|[,.;:!?)\-–—/]))"  # "nine", "nueve, muy bien"; not "one more thing"
)
_LEVEL_RE = re.compile(
    r"(?:(?:todo|everything|all|it\s+was|fue|ha\s+sido|estuvo|was)\s+)?(?P<w>"
    + "|".join(sorted((re.escape(w) for w in _LEVEL_WORDS), key=len, reverse=True))
    + r")(?=$|[\s,.;:!?)\-–—])"
)
# Words that also open ordinary sentences ("Bueno, tengo otra duda", "Ok, but..."):
# taken as an answer only when few words follow.
_WEAK = frozenset({"bien", "bueno", "buena", "good", "fine", "nice", "ok", "okay", "normal"})
_WEAK_MAX_WORDS = 3
_GREETING = re.compile(
    r"^(?:hola|hello|hi|hey|buenos\s+dias|buenas\s+tardes|buenas\s+noches|buenas|"
    r"good\s+(?:morning|afternoon|evening)|dear\b[^,]*|estimad[oa]s?\b[^,]*)\b\s*[,.!:]*\s*"
)
_QUOTE_HEADER = re.compile(r"^(?:on .+ wrote:|el .+ escribi[oó]:|-----\s*original)", re.I)


def _fold(text: str) -> str:
    """Lowercase without accents; keeps the length of ASCII-only text."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _answer_lines(text: str) -> list[str]:
    lines: list[str] = []
    for raw in strip_controls(text).splitlines():
        line = raw.strip()
        if line.startswith(">") or _QUOTE_HEADER.match(line):
            break
        if line:
            lines.append(line)
    return lines


def _comment(rest: str, more: list[str]) -> str | None:
    text = "\n".join([rest.strip(" \t-–—:,.;!)"), *more]).strip()
    if not text:
        return None
    return text[:_COMMENT_LIMIT]


def _scale(n: int, denominator: int, kind: str) -> int:
    low, high = SCALES[kind]
    if denominator == high:
        return n
    return max(low, min(high, round(n * high / denominator)))


def recognise_survey_reply(
    text: str, *, kind: str, language: str | None = None
) -> SurveyAnswer | None:
    """Read a survey answer from the start of a reply, or None when it is not one.

    The score must open the reply (after words such as "un", "le doy", "my
    rating is"): a digit ("5", "un 9"), a fraction ("10/10", "4 de 5"), a
    number word in Spanish or English ("nueve", "nine"), stars ("★★★★") or a
    judgement ("muy bien", "excelente", "terrible"; on the NPS scale these map
    to 10, 8, 5, 3, 0). Whatever follows the score is the comment. A reply that
    opens with a negation ("no muy bien", "not good") is not guessed at, nor is
    a number outside the scale: those are read by a person.

    Args:
        text: The new text of the reply (quotes and signature already split off;
            quoted lines are dropped anyway).
        kind: ``csat`` (1-5) or ``nps`` (0-10).
        language: The ticket's language; words of both languages are known, so
            it is only a hint.
    """
    del language  # both languages are always recognised; people mix them
    if kind not in SCALES:
        raise ValueError(f"unknown survey kind {kind!r}")
    low, high = SCALES[kind]
    lines = _answer_lines(text)
    while lines:
        # A greeting before the answer ("Hola, un 9" or "Hello," on its own line) is skipped.
        greeting = _GREETING.match(_fold(lines[0]))
        if greeting is None:
            break
        remainder = lines[0][greeting.end() :].strip()
        lines = [remainder, *lines[1:]] if remainder else lines[1:]
    if not lines:
        return None
    first, more = lines[0], lines[1:]
    folded = _fold(first)
    # Folding can change the length of non-ASCII text; offsets are taken on the folded
    # line and applied to it, and the comment is cut from the original when lengths agree.
    same = len(folded) == len(first)

    def rest(end: int) -> str:
        return first[end:] if same else folded[end:]

    if _NEGATION.match(folded):
        return None
    stars = _STARS.match(first)
    if stars and kind == "csat":
        return SurveyAnswer(len(stars.group("stars")), _comment(rest(stars.end()), more))
    if m := _FRACTION.match(folded):
        n, d = int(m.group("n")), int(m.group("d"))
        if 0 <= n <= d:
            return SurveyAnswer(_scale(n, d, kind), _comment(rest(m.end()), more))
        return None
    if m := _DIGIT.match(folded):
        n = int(m.group("n"))
        if low <= n <= high:
            return SurveyAnswer(n, _comment(rest(m.end()), more))
        return None
    if m := _WORD_RE.match(folded):
        n = _NUMBER_WORDS[m.group("w")]
        if low <= n <= high:
            return SurveyAnswer(n, _comment(rest(m.end()), more))
        return None
    if m := _LEVEL_RE.match(folded):
        word = m.group("w")
        if word in _WEAK and len(re.findall(r"\w+", rest(m.end()))) > _WEAK_MAX_WORDS:
            return None
        level = _LEVEL_WORDS[word]
        score = level if kind == "csat" else _LEVEL_TO_NPS[level]
        return SurveyAnswer(score, _comment(rest(m.end()), more))
    return None


def _survey_of(session: Session, ticket_id: int) -> Survey | None:
    return session.exec(select(Survey).where(Survey.ticket_id == ticket_id)).first()


def record_survey_reply(
    session: Session, ticket: Ticket, message_text: str, *, now: datetime
) -> bool:
    """Record a reply as the answer to the ticket's survey, if it is one.

    Returns True when the ticket had a sent survey and the text answers it: the
    caller (ingest) then appends the message to the ticket without reopening
    it. A second answer replaces the first (the customer's latest word counts).
    Returns False otherwise, and changes nothing.
    """
    if ticket.id is None:
        return False
    survey = _survey_of(session, ticket.id)
    if survey is None or survey.sent_at is None:
        return False
    answer = recognise_survey_reply(message_text, kind=survey.kind, language=ticket.language)
    if answer is None:
        return False
    _store_answer(session, ticket, survey, answer, now=now, via="reply")
    return True


def answer_by_token(
    session: Session, token: str, score: int, *, now: datetime, comment: str | None = None
) -> Survey:
    """Record an answer given on the shop's page (after the customer's confirming POST).

    Raises:
        DeskError: unknown token, or a score outside the survey's scale.
    """
    survey = session.exec(select(Survey).where(Survey.token == token.strip())).first()
    if survey is None or survey.sent_at is None:
        raise DeskError(_("there is no survey with this token"))
    low, high = SCALES.get(survey.kind, (0, 10))
    if not low <= score <= high:
        raise DeskError(
            _("a {kind} score goes from {low} to {high}, not {score}").format(
                kind=survey.kind.upper(), low=low, high=high, score=score
            )
        )
    ticket = session.get(Ticket, survey.ticket_id)
    if ticket is None:
        raise DeskError(_("the survey's ticket no longer exists"))
    text = strip_controls(comment or "").strip()[:_COMMENT_LIMIT] or None
    _store_answer(session, ticket, survey, SurveyAnswer(score, text), now=now, via="link")
    return survey


def _store_answer(
    session: Session,
    ticket: Ticket,
    survey: Survey,
    answer: SurveyAnswer,
    *,
    now: datetime,
    via: str,
) -> None:
    survey.score = answer.score
    survey.comment = answer.comment
    survey.answered_at = now
    session.add(survey)
    record_event(
        session, ticket, "survey", now=now, new=str(answer.score), detail=f"{survey.kind} {via}"
    )


# --------------------------------------------------------------------------- sending


def survey_link(settings: SurveySettings, token: str, score: int) -> str | None:
    """The answer page's URL for one score, or None when no link is configured."""
    if settings.link is None:
        return None
    return settings.link.replace("{token}", token).replace("{score}", str(score))


_TEXTS = {
    "en": {
        "subject": "How did we do?",
        "hello": "Hello {name},",
        "hello_anon": "Hello,",
        "csat": 'Your request "{subject}" is solved. How satisfied are you with the help '
        "you got?\n\nJust reply to this email with a number from 1 (very dissatisfied) to "
        "5 (very satisfied). You can add a comment after it, for example: "
        '"5 - quick and friendly".',
        "nps": 'Your request "{subject}" is solved. How likely are you to recommend '
        "{shop} to a friend?\n\nJust reply to this email with a number from 0 (not at all) "
        'to 10 (certainly). You can add a comment after it, for example: "9 - very helpful".',
        "links": "Or choose on our page (you will be asked to confirm):",
        "bye": "Thank you,\n{shop}",
        "labels_csat": {1: "very dissatisfied", 3: "neutral", 5: "very satisfied"},
    },
    "es": {
        "subject": "¿Qué tal le atendimos?",
        "hello": "Hola, {name}:",
        "hello_anon": "Hola:",
        "csat": "Su consulta «{subject}» está resuelta. ¿Cómo de satisfecho está con la "
        "atención recibida?\n\nBasta con responder a este correo con un número del 1 (muy "
        "insatisfecho) al 5 (muy satisfecho). Puede añadir un comentario detrás, por "
        "ejemplo: «5 - rápidos y amables».",
        "nps": "Su consulta «{subject}» está resuelta. ¿Con qué probabilidad recomendaría "
        "{shop} a un amigo?\n\nBasta con responder a este correo con un número del 0 (nada "
        "probable) al 10 (seguro). Puede añadir un comentario detrás, por ejemplo: "
        "«9 - muy útil».",
        "links": "O elija en nuestra página (le pediremos que lo confirme):",
        "bye": "Gracias,\n{shop}",
        "labels_csat": {1: "muy insatisfecho", 3: "normal", 5: "muy satisfecho"},
    },
}


def survey_text(
    *,
    kind: str,
    language: str,
    customer_name: str,
    subject: str,
    shop: str,
    settings: SurveySettings,
    token: str,
) -> tuple[str, str]:
    """The subject line (without the ticket token) and the body of a survey."""
    texts = _TEXTS["es" if language == "es" else "en"]
    first = one_line(customer_name).split(" ")[0] if customer_name.strip() else ""
    hello = str(texts["hello"]).format(name=first) if first else str(texts["hello_anon"])
    body = [hello, "", str(texts[kind]).format(subject=one_line(subject, limit=120), shop=shop)]
    low, high = SCALES[kind]
    if settings.link:
        body += ["", str(texts["links"])]
        labels: dict[int, str] = texts["labels_csat"] if kind == "csat" else {}  # type: ignore[assignment]
        for score in range(high, low - 1, -1):
            label = f" ({labels[score]})" if score in labels else ""
            body.append(f"  {score}{label}: {survey_link(settings, token, score)}")
    body += ["", str(texts["bye"]).format(shop=shop)]
    return str(texts["subject"]), "\n".join(body)


def new_token() -> str:
    """An unguessable survey token (URL-safe)."""
    return secrets.token_urlsafe(24)


@dataclass
class SurveyRun:
    """What a pass of :func:`queue_due_surveys` did."""

    queued: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def due_survey_tickets(
    session: Session, settings: SurveySettings, *, now: datetime, limit: int = 200
) -> list[Ticket]:
    """Solved or closed tickets whose survey is due and that never had one.

    Due: solved at least ``delay`` ago and at most ``max_age`` ago. Left out:
    tickets of blocked customers, merged tickets, tickets tagged ``automated``
    (opened by an auto-reply, a bounce or a list) and tickets where no person
    ever wrote (every inbound message automated, or none, as in an outreach
    the customer never answered).
    """
    has_survey = select(Survey.id).where(Survey.ticket_id == Ticket.id).exists()
    automated = (
        select(TicketTag.ticket_id)
        .where(TicketTag.ticket_id == Ticket.id, TicketTag.tag == "automated")
        .exists()
    )
    # A person wrote at least once: not only auto-replies, bounces or list mail.
    human = (
        select(Message.id)
        .where(
            Message.ticket_id == Ticket.id,
            Message.direction == Direction.IN.value,
            col(Message.automated).is_(False),
        )
        .exists()
    )
    query = (
        select(Ticket)
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .where(
            col(Ticket.status).in_([Status.SOLVED.value, Status.CLOSED.value]),
            col(Ticket.solved_at).is_not(None),
            col(Ticket.solved_at) <= now - settings.delay_delta,
            col(Ticket.solved_at) >= now - settings.max_age_delta,
            col(Ticket.merged_into_id).is_(None),
            col(Customer.blocked).is_(False),
            ~has_survey,
            ~automated,
            human,
        )
        .order_by(col(Ticket.solved_at), col(Ticket.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def queue_survey(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    *,
    now: datetime,
    surveys: SurveySettings | None = None,
    token: str | None = None,
) -> Survey:
    """Compose and queue the survey of one ticket, in the caller's transaction.

    Raises:
        DeskError: the ticket already has a survey, its customer is blocked, or
            no account can send it.
        ComposeError: the customer's address is unusable.
    """
    from cs_console.desk.outbox import queue_message
    from cs_console.desk.replies import account_for, thread_headers
    from cs_console.mail.compose import (
        AUTO_GENERATED,
        Recipient,
        compose_message,
        make_message_id,
        message_domain,
        ticket_token,
    )

    conf = surveys or survey_settings(settings)
    assert ticket.id is not None
    if _survey_of(session, ticket.id) is not None:
        raise DeskError(_("ticket #{number} already had a survey").format(number=ticket.id))
    customer = session.get(Customer, ticket.customer_id)
    if customer is None or customer.blocked:
        raise DeskError(
            _("the customer of ticket #{number} is blocked or unknown").format(number=ticket.id)
        )
    account = account_for(settings, ticket)
    thread = thread_headers(session, ticket, customer)
    language: str = conf.language
    if language == "auto":
        language = ticket.language if ticket.language in ("es", "en") else settings.shop.language
    token = token or new_token()
    shop = account.display_name or settings.shop.name
    subject, body = survey_text(
        kind=conf.kind,
        language=language,
        customer_name=thread.to_name or customer.name,
        subject=ticket.subject,
        shop=shop,
        settings=conf,
        token=token,
    )
    mail = compose_message(
        from_address=account.address,
        from_name=shop,
        to=[Recipient(thread.to_address, thread.to_name)],
        subject=f"{subject} {ticket_token(ticket.id)}",
        body=body,
        message_id=make_message_id(message_domain(account.address)),
        date=now,
        in_reply_to=thread.in_reply_to,
        references=thread.references,
        auto_submitted=AUTO_GENERATED,
    )
    survey = Survey(ticket_id=ticket.id, kind=conf.kind, token=token, sent_at=now)
    session.add(survey)
    session.flush()  # the unique index refuses a second survey here
    queue_message(session, mail, account=account.name, now=now, kind="survey", ticket_id=ticket.id)
    session.flush()
    return survey


def queue_due_surveys(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    limit: int = 200,
    surveys: SurveySettings | None = None,
    dry_run: bool = False,
) -> SurveyRun:
    """Queue the surveys that are due (what ``cs-console surveys send`` runs from cron).

    Each survey goes in its own savepoint: one that cannot be sent (an unusable
    address, another sender that got there first) is reported in
    :attr:`SurveyRun.skipped` and tried again on the next run until it ages
    out of ``max_age``.
    """
    from cs_console.errors import CsConsoleError

    conf = surveys or survey_settings(settings)
    run = SurveyRun()
    if not conf.enabled:
        return run
    for ticket in due_survey_tickets(session, conf, now=now, limit=limit):
        assert ticket.id is not None
        if dry_run:
            run.queued.append(ticket.id)
            continue
        try:
            with session.begin_nested():
                queue_survey(session, settings, ticket, now=now, surveys=conf)
        except IntegrityError:
            run.skipped.append((ticket.id, "already surveyed"))
        except CsConsoleError as exc:
            run.skipped.append((ticket.id, exc.message))
        else:
            run.queued.append(ticket.id)
    return run
