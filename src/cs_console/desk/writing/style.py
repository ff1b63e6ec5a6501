"""Style checks for a written support reply.

Each function takes the reply and returns hints of one kind. The rules come
from good practice for written support: correct spelling, no jargon, no
one-word answers, at most two ideas per answer, greet and close, don't shout,
answer what was asked, and use the customer's words and name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from cs_console.desk.canned.textnorm import terms, words
from cs_console.desk.writing.messages import message
from cs_console.desk.writing.model import Hint
from cs_console.textsafe import one_line, strip_controls

__all__ = [
    "check_closing",
    "check_customer_name",
    "check_greeting",
    "check_ideas",
    "check_jargon",
    "check_shouting",
    "check_too_short",
    "check_unanswered_questions",
    "count_ideas",
]

MIN_WORDS = 5
"""A reply with fewer words than this is too short to be an answer."""

SENTENCES_PER_IDEA = 3
"""A paragraph with more sentences than this counts as more than one idea."""

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?…]+[.!?…]+|[^.!?…]+$")

GREETINGS: dict[str, tuple[str, ...]] = {
    "es": (
        "hola",
        "buenos dias",
        "buenas tardes",
        "buenas noches",
        "buen dia",
        "buenas",
        "estimado",
        "estimada",
        "estimados",
        "estimadas",
        "querido",
        "querida",
        "saludos",
        "apreciado",
        "apreciada",
    ),
    "en": (
        "hi",
        "hello",
        "hey",
        "dear",
        "good morning",
        "good afternoon",
        "good evening",
        "greetings",
        "howdy",
    ),
}
"""Phrases a reply's first line may start with (compared without accents)."""

CLOSINGS: dict[str, tuple[str, ...]] = {
    "es": (
        "un saludo",
        "saludos",
        "un abrazo",
        "atentamente",
        "cordialmente",
        "gracias",
        "muchas gracias",
        "hasta pronto",
        "hasta luego",
        "quedamos a tu disposicion",
        "quedamos a su disposicion",
        "quedo a tu disposicion",
        "quedo a su disposicion",
        "un cordial saludo",
        "que tengas un buen dia",
        "que tenga un buen dia",
        "feliz dia",
        "besos",
        "nos vemos",
    ),
    "en": (
        "regards",
        "best regards",
        "kind regards",
        "warm regards",
        "best",
        "all the best",
        "best wishes",
        "thanks",
        "thank you",
        "many thanks",
        "sincerely",
        "yours sincerely",
        "yours truly",
        "cheers",
        "take care",
        "have a great day",
        "have a nice day",
        "talk soon",
        "speak soon",
        "warmly",
    ),
}
"""Phrases one of a reply's last lines should start with (without accents)."""

CLOSING_LINES = 4
"""How many of the last non-empty lines are searched for a closing."""

CLOSING_MAX_CHARS = 60
"""A closing line is short; a longer line that starts with "Gracias por..." is body."""


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _starts_with_phrase(line: str, phrases: Sequence[str]) -> bool:
    plain = _plain(line).lstrip(" \t¡!¿-–—*>")
    for phrase in phrases:
        if plain.startswith(phrase):
            rest = plain[len(phrase) :]
            if not rest or not rest[0].isalnum():
                return True
    return False


def _lines(text: str) -> list[tuple[int, str]]:
    """Non-empty lines with their start offsets."""
    result = []
    position = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            result.append((position, line.rstrip("\r\n")))
        position += len(line)
    return result


def check_too_short(text: str, *, language: str) -> list[Hint]:
    """Fires when the reply has fewer than :data:`MIN_WORDS` words."""
    count = len(_WORD.findall(text))
    if count >= MIN_WORDS:
        return []
    return [Hint("too_short", message("too_short", language), None, None)]


def _body_paragraphs(text: str, language: str) -> list[str]:
    """Paragraphs between the greeting line and the closing, signature excluded."""
    lines = _lines(text)
    if (
        lines
        and _starts_with_phrase(lines[0][1], GREETINGS.get(language, ()))
        and (len(lines[0][1]) <= 60 or lines[0][1].rstrip().endswith((",", ":")))
    ):
        text = text[lines[0][0] + len(lines[0][1]) :]
        lines = _lines(text)
    tail = lines[-CLOSING_LINES:]
    for offset, line in tail:
        if _starts_with_phrase(line, CLOSINGS.get(language, ())) and len(line) <= 60:
            text = text[:offset]
            break
    blocks = re.split(r"\n[ \t]*\n", text)
    return [b.strip() for b in blocks if len(_WORD.findall(b)) >= 3]


def count_ideas(text: str, *, language: str) -> int:
    """How many main ideas a reply holds (the heuristic behind ``too_many_ideas``).

    Greeting, closing and signature are set aside; each remaining paragraph is
    one idea, and a paragraph with more than :data:`SENTENCES_PER_IDEA`
    sentences counts as one idea per started group of that many sentences.
    """
    total = 0
    for paragraph in _body_paragraphs(text, language):
        sentences = [s for s in _SENTENCE.findall(paragraph) if len(_WORD.findall(s)) >= 2]
        total += max(1, -(-len(sentences) // SENTENCES_PER_IDEA))
    return total


def check_ideas(text: str, *, language: str, max_ideas: int) -> list[Hint]:
    """Fires when :func:`count_ideas` exceeds ``max_ideas``."""
    count = count_ideas(text, language=language)
    if count <= max_ideas:
        return []
    return [
        Hint(
            "too_many_ideas",
            message("too_many_ideas", language, count=count, max=max_ideas),
            None,
            None,
        )
    ]


def _jargon_pattern(term: str) -> re.Pattern[str]:
    flags = 0 if term.isupper() else re.IGNORECASE
    escaped = r"\s+".join(re.escape(part) for part in term.split())
    return re.compile(rf"(?<![\w-]){escaped}(?![\w-])", flags)


def check_jargon(text: str, *, language: str, jargon: Sequence[str]) -> list[Hint]:
    """Fires once per occurrence of a term of ``jargon``.

    Terms written in capitals (``SLA``) match only in capitals; others match
    in any case.
    """
    hints = []
    for term in jargon:
        if not term.strip():
            continue
        for match in _jargon_pattern(term.strip()).finditer(text):
            hints.append(
                Hint(
                    "jargon",
                    message("jargon", language, word=match.group(0)),
                    match.start(),
                    match.end(),
                )
            )
    hints.sort(key=lambda h: h.start or 0)
    return hints


def check_greeting(text: str, *, language: str, customer_name: str | None) -> list[Hint]:
    """Fires when the first line does not start with a greeting."""
    lines = _lines(text)
    if lines and _starts_with_phrase(lines[0][1], GREETINGS.get(language, GREETINGS["en"])):
        return []
    first = _first_name(customer_name)
    start, end = (lines[0][0], lines[0][0] + len(lines[0][1])) if lines else (None, None)
    return [Hint("no_greeting", message("no_greeting", language, name=first), start, end)]


def check_closing(text: str, *, language: str) -> list[Hint]:
    """Fires when none of the last lines is a closing.

    A closing is a short line (at most :data:`CLOSING_MAX_CHARS` characters)
    that starts with a closing phrase, or the last sentence of one of the last
    lines when it starts with one ("... Un saludo.").
    """
    lines = _lines(text)
    closings = CLOSINGS.get(language, CLOSINGS["en"])
    candidates = lines[1:] if len(lines) > 1 else lines  # the first line greets
    for _offset, line in candidates[-CLOSING_LINES:]:
        if len(line.strip()) <= CLOSING_MAX_CHARS and _starts_with_phrase(line, closings):
            return []
        # "... Un saludo." at the end of the last paragraph counts too.
        for sentence in _SENTENCE.findall(line)[-1:]:
            if _starts_with_phrase(sentence, closings):
                return []
    return [Hint("no_closing", message("no_closing", language), None, None)]


def _capital_words(text: str, ignore: frozenset[str]) -> list[re.Match[str]]:
    return [
        m for m in _WORD.finditer(text) if len(m.group(0)) >= 2 and _plain(m.group(0)) not in ignore
    ]


def check_shouting(text: str, *, language: str, ignore: frozenset[str]) -> list[Hint]:
    """Fires when most words are in capitals, or on a run of 3+ words in capitals.

    Words in ``ignore`` (the shop's words, jargon) do not count, and neither
    do one-letter words.
    """
    words = _capital_words(text, ignore)
    upper = [m for m in words if m.group(0).isupper()]
    if len(upper) >= 3 and len(upper) * 2 >= len(words):
        return [Hint("shouting", message("shouting", language), None, None)]
    hints = []
    run: list[re.Match[str]] = []
    for match in [*words, None]:
        if match is not None and match.group(0).isupper():
            run.append(match)
            continue
        if len(run) >= 3:
            hints.append(
                Hint("shouting", message("shouting", language), run[0].start(), run[-1].end())
            )
        run = []
    return hints


# Sentences end after . ! ? … or at a blank line (e-mails wrap lines), and a
# Spanish question starts at ¿.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])|\n[ \t]*\n|(?=¿)")


def customer_questions(customer_message: str) -> list[str]:
    """The questions in a customer's message (``¿...?`` or ending in ``?``)."""
    questions = []
    for chunk in _SENTENCE_BREAK.split(strip_controls(customer_message)):
        question = " ".join(chunk.split())
        if (question.startswith("¿") or question.endswith("?")) and question.strip("¿?").strip():
            questions.append(question)
    return questions


def check_unanswered_questions(
    text: str, *, language: str, customer_message: str, question_language: str | None
) -> list[Hint]:
    """Fires for each customer question whose content words the reply mostly lacks.

    A question counts as answered when the reply uses two of its content
    words (or its only one): answering in the customer's own words is good
    practice, and one shared word is often a coincidence ("envíos" vs
    "enviamos").

    Content words are compared after normalisation (lowercase, no accents,
    stop words removed, stems), so "devolución" answers "devolver".
    """
    reply_terms = set(terms(text, language))
    hints = []
    for question in customer_questions(customer_message):
        lang = question_language or language
        key: dict[str, str] = {}  # stem -> the customer's word
        for word in words(question):
            for term in terms(word, lang):
                key.setdefault(term, word)
        if not key or len(reply_terms.intersection(key)) >= min(2, len(key)):
            continue
        hints.append(
            Hint(
                "unanswered_question",
                message("unanswered_question", language, question=one_line(question, limit=80)),
                None,
                None,
                tuple(key.values()),
            )
        )
    return hints


def _first_name(customer_name: str | None) -> str:
    if not customer_name or "@" in customer_name:
        return ""
    parts = [p for p in re.split(r"[\s,]+", customer_name.strip()) if p]
    return parts[0] if parts else ""


def name_parts(customer_name: str | None) -> list[str]:
    """The words of a customer's name worth looking for (2+ letters, no e-mail)."""
    if not customer_name or "@" in customer_name:
        return []
    return [p for p in _WORD.findall(customer_name) if len(p) >= 2]


def check_customer_name(text: str, *, language: str, customer_name: str | None) -> list[Hint]:
    """Fires when a name is known and no part of it appears in the reply."""
    parts = name_parts(customer_name)
    if not parts:
        return []
    words = {_plain(w) for w in _WORD.findall(text)}
    if any(_plain(p) in words for p in parts):
        return []
    return [
        Hint(
            "no_customer_name",
            message("no_customer_name", language, name=" ".join(parts)),
            None,
            None,
            (parts[0],),
        )
    ]
