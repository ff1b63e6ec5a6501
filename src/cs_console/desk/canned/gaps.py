"""Frequent questions that have no canned answer yet: what to add to the FAQ next.

A *hand-written* ticket is one an agent replied to without any canned answer
(no ``canned_answer_use`` for it). The customer's first message of each (with
the subject) is normalised as the suggestions are (:func:`.textnorm.terms`:
lowercase, no accents, no stop words, stems) and weighted by TF-IDF. Words
that only one question uses, or more than :data:`MAX_SHARE` of them, are
dropped (they cannot make two questions alike, or tell them apart). The
tickets are then grouped by cosine similarity with a single pass of leader
clustering against each group's centroid, oldest ticket first, so the result
is deterministic. Groups of at least ``min_count`` tickets are reported,
most frequent first, each with its most representative message, its most
telling words, and the existing answer closest to it (an answer that exists
but was not used is a different fix from a missing one).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from cs_console.desk.canned.library import CannedAnswer
from cs_console.desk.canned.suggest import SuggestionIndex
from cs_console.desk.canned.textnorm import detect_language, strip_accents, terms, words
from cs_console.store.models import CannedAnswerUse, Direction, Message, Ticket

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_SHARE",
    "Gap",
    "GapTicket",
    "find_gaps",
    "group_questions",
    "hand_written",
]

DEFAULT_THRESHOLD = 0.3
"""Cosine similarity a question needs with a group's centroid to join it."""

MAX_SHARE = 0.6
"""A word used by more than this share of the questions says nothing about their topic."""


@dataclass(frozen=True)
class GapTicket:
    """A ticket answered by hand: its number, language and the customer's first words."""

    ticket_id: int
    language: str
    text: str


@dataclass(frozen=True)
class Gap:
    """A group of similar questions answered by hand.

    Attributes:
        count: How many tickets.
        ticket_ids: The tickets, oldest first.
        example: The most representative customer message (closest to the centroid).
        words: The group's most telling words (as customers wrote them).
        language: The group's language.
        closest: The existing answer that matches the example best, if any.
    """

    count: int
    ticket_ids: tuple[int, ...]
    example: str
    words: tuple[str, ...]
    language: str
    closest: str | None = None


def hand_written(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    default_language: str = "en",
) -> list[GapTicket]:
    """Tickets with an agent's reply and no canned answer used, oldest first."""
    replied = (
        select(Message.ticket_id)
        .where(Message.direction == Direction.OUT.value, col(Message.agent_id).is_not(None))
        .distinct()
    )
    used = select(CannedAnswerUse.ticket_id).where(col(CannedAnswerUse.ticket_id).is_not(None))
    query = (
        select(Ticket)
        .where(col(Ticket.id).in_(replied), col(Ticket.id).not_in(used))
        .order_by(col(Ticket.created_at), col(Ticket.id))
    )
    if since is not None:
        query = query.where(col(Ticket.created_at) >= since)
    if until is not None:
        query = query.where(col(Ticket.created_at) < until)
    tickets = session.exec(query).all()
    if not tickets:
        return []
    first: dict[int, str] = {}
    ids = [t.id for t in tickets]
    for chunk in range(0, len(ids), 500):
        rows = session.exec(
            select(Message.ticket_id, Message.new_text, Message.body_text)
            .where(
                col(Message.ticket_id).in_(ids[chunk : chunk + 500]),
                Message.direction == Direction.IN.value,
            )
            .order_by(col(Message.ticket_id), col(Message.created_at), col(Message.id))
        ).all()
        for ticket_id, new_text, body_text in rows:
            first.setdefault(ticket_id, new_text or body_text or "")
    result = []
    for ticket in tickets:
        assert ticket.id is not None
        text = "\n".join(part for part in (ticket.subject, first.get(ticket.id, "")) if part)
        language = ticket.language or detect_language(text) or default_language
        result.append(GapTicket(ticket.id, language if language in ("es", "en") else "en", text))
    return result


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {t: v / norm for t, v in vector.items()} if norm else {}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


@dataclass
class _Group:
    language: str
    members: list[int]
    total: dict[str, float]
    unit: dict[str, float]

    def add(self, position: int, vector: dict[str, float]) -> None:
        self.members.append(position)
        for term, value in vector.items():
            self.total[term] = self.total.get(term, 0.0) + value
        self.unit = _unit(self.total)

    def centroid(self) -> dict[str, float]:
        return self.unit


def group_questions(
    questions: Sequence[GapTicket],
    *,
    min_count: int = 3,
    threshold: float = DEFAULT_THRESHOLD,
    answers: Sequence[CannedAnswer] = (),
    max_words: int = 5,
) -> list[Gap]:
    """Group similar questions; the groups of ``min_count`` or more, largest first."""
    term_lists = [terms(q.text, q.language) for q in questions]
    df: Counter[str] = Counter()
    for found in term_lists:
        df.update(set(found))
    count = len(questions)
    common = count if count < 3 else max(2, int(count * MAX_SHARE))
    vectors = []
    for found in term_lists:
        # A word only one question uses cannot make it like another, and one most of
        # them use ("consulta" in every subject) cannot tell them apart: both only dilute.
        tf = Counter(t for t in found if 1 < df[t] <= common)
        vectors.append(
            _unit(
                {
                    t: (1 + math.log(n)) * (math.log((1 + count) / (1 + df[t])) + 1.0)
                    for t, n in tf.items()
                }
            )
        )
    groups: list[_Group] = []
    # Only groups that share a word with a question can reach the threshold.
    by_term: dict[tuple[str, str], set[int]] = defaultdict(set)
    for position, (question, vector) in enumerate(zip(questions, vectors, strict=True)):
        candidates = set().union(*(by_term[(question.language, t)] for t in vector))
        best: tuple[float, int] | None = None
        for number in sorted(candidates):
            score = _cosine(vector, groups[number].centroid())
            if score >= threshold and (best is None or score > best[0]):
                best = (score, number)
        if best is None:
            number = len(groups)
            groups.append(_Group(question.language, [position], dict(vector), dict(vector)))
        else:
            number = best[1]
            groups[number].add(position, vector)
        for term in vector:
            by_term[(question.language, term)].add(number)
    index = SuggestionIndex(answers) if answers else None
    gaps = []
    for group in groups:
        if len(group.members) < min_count:
            continue
        centroid = group.centroid()
        example_at = max(group.members, key=lambda p: (_cosine(vectors[p], centroid), -p))
        example = questions[example_at].text
        closest = None
        if index is not None:
            suggested = index.suggest(example, language=group.language, limit=1)
            closest = suggested[0].answer.slug if suggested else None
        gaps.append(
            Gap(
                count=len(group.members),
                ticket_ids=tuple(questions[p].ticket_id for p in group.members),
                example=example,
                words=_telling_words(
                    [questions[p] for p in group.members], centroid, limit=max_words
                ),
                language=group.language,
                closest=closest,
            )
        )
    gaps.sort(key=lambda g: (-g.count, g.ticket_ids[0]))
    return gaps


def _telling_words(
    members: Sequence[GapTicket], centroid: dict[str, float], *, limit: int
) -> tuple[str, ...]:
    """The heaviest terms of the centroid, each shown as customers most often wrote it."""
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    for member in members:
        for word in words(member.text):
            found = terms(word, member.language)
            if found:
                surface[found[0]][strip_accents(word) if word.isascii() else word] += 1
    ranked = sorted(centroid.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return tuple(
        surface[term].most_common(1)[0][0] if surface.get(term) else term for term, _ in ranked
    )


def find_gaps(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    min_count: int = 3,
    threshold: float = DEFAULT_THRESHOLD,
    answers: Sequence[CannedAnswer] = (),
    default_language: str = "en",
) -> list[Gap]:
    """The frequent questions answered by hand (see the module's docstring)."""
    questions = hand_written(session, since=since, until=until, default_language=default_language)
    return group_questions(questions, min_count=min_count, threshold=threshold, answers=answers)
