"""What each hint tells the agent, in the reply's language."""

from __future__ import annotations

__all__ = ["message"]

_MESSAGES: dict[str, dict[str, str]] = {
    "spelling": {
        "es": "«{word}» no está en el diccionario.",
        "en": '"{word}" is not in the dictionary.',
    },
    "too_short": {
        "es": "La respuesta es muy breve: explica al cliente qué ha pasado y qué va a pasar.",
        "en": "This reply is very short: tell the customer what happened and what happens next.",
    },
    "too_many_ideas": {
        "es": "La respuesta trata {count} ideas; mejor {max} como mucho, o envía otro mensaje.",
        "en": "This reply covers {count} ideas; keep it to {max}, or send another message.",
    },
    "jargon": {
        "es": "«{word}» es jerga interna: usa palabras que el cliente conozca.",
        "en": '"{word}" is internal jargon: use words the customer knows.',
    },
    "no_greeting": {
        "es": "Empieza con un saludo (por ejemplo «Hola, {name}:»).",
        "en": 'Start with a greeting (for example "Hi {name},").',
    },
    "no_closing": {
        "es": "Termina con una despedida (por ejemplo «Un saludo»).",
        "en": 'End with a closing (for example "Best regards").',
    },
    "shouting": {
        "es": "Demasiadas mayúsculas: se leen como gritos.",
        "en": "Too many capitals: they read as shouting.",
    },
    "unanswered_question": {
        "es": "El cliente preguntó «{question}» y la respuesta no parece contestarlo.",
        "en": 'The customer asked "{question}" and the reply does not seem to answer it.',
    },
    "no_customer_name": {
        "es": "La respuesta no nombra al cliente ({name}).",
        "en": "The reply does not use the customer's name ({name}).",
    },
}

_DEFAULT_NAME = {"es": "nombre", "en": "name"}


def message(code: str, language: str, **values: object) -> str:
    """The text of hint ``code`` in ``language`` (English if not es/en)."""
    texts = _MESSAGES[code]
    language = language if language in texts else "en"
    if "name" in values and not values["name"]:
        values["name"] = _DEFAULT_NAME[language]
    return texts[language].format(**values)
