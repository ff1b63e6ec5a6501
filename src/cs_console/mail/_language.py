"""A cheap guess of the language a customer wrote in: Spanish or English.

Counts common stop words; Content-Language decides when the text is too
short to tell. Good enough to pick canned answers and a spell-check
dictionary, not meant to be more.
"""

from __future__ import annotations

import re

__all__ = ["guess_language"]

_ES_TEXT = """
el la los las de del que y en por para con mi mis un una pedido hola gracias es se al lo
su pero muy como está estoy favor saludos cuando hace ya compra envío devolución quiero
tengo
"""
_EN_TEXT = """
the and to of is my i you it for on in order hello hi thanks thank please with have was
not this that be are can your would could received
"""
_ES_WORDS = frozenset(_ES_TEXT.split())
_EN_WORDS = frozenset(_EN_TEXT.split())
_WORD = re.compile(r"[a-záéíóúñü]+")


def guess_language(text: str, content_language: str | None) -> str | None:
    """Return "es" or "en" from the text, else Content-Language's primary tag, else None.

    Three or more stop words decide; with fewer, Content-Language wins if given
    (it is often the sender's locale rather than the text's language, which is
    why the text comes first).
    """
    words = _WORD.findall(text[:800].lower())
    es = sum(map(_ES_WORDS.__contains__, words))
    en = sum(map(_EN_WORDS.__contains__, words))
    if max(es, en) >= 3 and es != en:
        return "es" if es > en else "en"
    if content_language:
        tag = content_language.split(",")[0].strip().split("-")[0].lower()
        if tag.isalpha() and 2 <= len(tag) <= 3:
            return tag
    if max(es, en) >= 1 and es != en:
        return "es" if es > en else "en"
    return None
