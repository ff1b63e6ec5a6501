"""Language-aware normalisation for matching customer text: words, accents,
stop words, stems, and a stop-word language guess.

Stemming uses the Snowball stemmers (``snowballstemmer``) when installed, and
a small suffix stripper otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

__all__ = ["STOP_WORDS", "detect_language", "strip_accents", "terms", "words"]

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    "es": _wordset(
        """
        a al algo algun alguna algunas alguno algunos ante antes aqui asi aun aunque bien
        cada como con contra cual cuales cuando de del desde donde dos e el ella ellas
        ello ellos en entre era eran eres es esa esas ese eso esos esta estaba estaban
        estamos estan estar estas este esto estos estoy fue fueron fui ha habeis haber
        habia han has hasta hay he hemos hola la las le les lo los mas me mi mia mis
        mucho muchos muy nada ni no nos nosotros nuestra nuestro o os otra otro para pero
        poco por porque que quien se sea ser si sido sin sobre sois solo somos son soy
        su sus tambien te tenemos tener tengo ti tiene tienen toda todo todos tu tus un
        una uno unos usted ustedes va vais vamos van vosotros y ya yo buenas buenos dias
        tardes noches gracias saludos favor hacer hace puedo pueden podria podrian
        quiero queria quisiera hice ayer hoy todavia nada algo alguien podeis podrias
        saber decir decis haceis teneis
        """
    ),
    "en": _wordset(
        """
        a about above after again all am an and any are as at be been before being below
        between both but by can could did do does doing down during each few for from
        further had has have having he her here hers him his how i i'm if in into is it
        it's its itself just me more most my myself no nor not now of off on once only
        or other our ours out over own same she should so some such than that the their
        theirs them then there these they this those through to too under until up very
        was we were what when where which while who whom why will with would you your
        yours hi hello hey dear thanks thank please regards cheers ok get got im ive dont
        can't cant didnt want wanted yesterday today yet still nothing anything
        something just also even know like need let i'd id
        """
    ),
}
"""Words that carry no topic, per language (compared without accents)."""

# Words that mark a language well even in short texts (without accents).
_MARKERS: dict[str, frozenset[str]] = {
    "es": STOP_WORDS["es"] | _wordset("pedido compra envio recibido llega llegado gracias hola"),
    "en": STOP_WORDS["en"] | _wordset("order received delivery arrived shipping thanks hello"),
}
# Words in both lists say nothing about the language.
_AMBIGUOUS = _MARKERS["es"] & _MARKERS["en"]


def strip_accents(text: str) -> str:
    """``"devolución"`` -> ``"devolucion"`` (ñ becomes n too)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Lowercased words of ``text``, accents kept."""
    return [match.group(0).lower() for match in _WORD.finditer(text)]


def _suffix_stemmer(language: str) -> Callable[[str], str]:
    suffixes = {
        "es": (
            "aciones",
            "iciones",
            "amiento",
            "imiento",
            "aciones",
            "ación",
            "ición",
            "mente",
            "ando",
            "iendo",
            "ados",
            "idos",
            "adas",
            "idas",
            "ado",
            "ido",
            "ada",
            "ida",
            "ar",
            "er",
            "ir",
            "es",
            "as",
            "os",
            "a",
            "o",
            "e",
            "s",
        ),
        "en": ("ations", "ation", "ings", "ing", "edly", "ed", "ly", "es", "s"),
    }[language]

    def stem(word: str) -> str:
        for suffix in suffixes:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
        return word

    return stem


@lru_cache(maxsize=4)
def _stemmer(language: str) -> Callable[[str], str]:
    try:
        import snowballstemmer
    except ImportError:  # pragma: no cover - exercised only without the package
        return _suffix_stemmer(language)
    snowball = snowballstemmer.stemmer({"es": "spanish", "en": "english"}[language])
    stem: Callable[[str], str] = snowball.stemWord
    return stem


@lru_cache(maxsize=20_000)
def _term(word: str, language: str) -> str | None:
    plain = strip_accents(word)
    stop_words = STOP_WORDS.get(language, frozenset())
    if plain in stop_words or plain.replace("'", "") in stop_words:
        return None
    if len(plain) < 2 or plain.isdigit():
        return None  # order numbers and amounts say nothing about the topic
    if language not in STOP_WORDS:
        return plain
    # Stem the unaccented form: customers often type without accents, and
    # "garantia" must meet "garantía".
    return _stemmer(language)(plain.replace("'", ""))


def terms(text: str, language: str) -> list[str]:
    """Index terms of ``text``: lowercased, stop words out, stemmed, no accents.

    Args:
        text: Any text.
        language: ``es`` or ``en`` (stop words and stemmer to use); any other
            language gets plain lowercase words without accents.
    """
    result = []
    for word in words(text):
        term = _term(word, language)
        if term:
            result.append(term)
    return result


def detect_language(text: str) -> str | None:
    """Guess whether ``text`` is Spanish or English from its common words.

    Returns ``"es"``, ``"en"``, or ``None`` when there is no evidence either
    way (empty text, only names and numbers, a tie).
    """
    bonus_es = 2 if any(ch in text for ch in "¿¡ñÑ") else 0
    score = {"es": bonus_es, "en": 0}
    for word in words(text):
        plain = strip_accents(word)
        if plain in _AMBIGUOUS:
            continue
        for language in ("es", "en"):
            if plain in _MARKERS[language]:
                score[language] += 1
    if score["es"] == score["en"]:
        return None
    return "es" if score["es"] > score["en"] else "en"
