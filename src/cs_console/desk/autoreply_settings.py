"""The ``[autoreply]`` section: acknowledgements and their texts (the config embeds it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cs_console.desk.sla.settings import parse_duration_minutes


class AutoReplyTexts(BaseModel):
    """The texts of one language. Placeholders: {ticket} {name} {shop} {expected} {subject}."""

    model_config = ConfigDict(extra="forbid")

    subject: str
    acknowledgement: str
    out_of_hours: str


_DEFAULT_TEXTS = {
    "es": AutoReplyTexts(
        subject="Hemos recibido tu mensaje [#{ticket}]",
        acknowledgement=(
            "Hola {name}:\n\n"
            "Gracias por escribirnos. Hemos recibido tu mensaje y lo hemos registrado con el "
            "número de caso #{ticket}.\n\n"
            "Te responderemos {expected}. Si quieres añadir algo, responde a este correo "
            "sin cambiar el asunto.\n\n"
            "Un saludo,\n{shop}\n"
        ),
        out_of_hours=(
            "Hola {name}:\n\n"
            "Gracias por escribirnos. Ahora mismo estamos fuera de nuestro horario de atención, "
            "pero tu mensaje ya está registrado con el número de caso #{ticket}.\n\n"
            "Te responderemos {expected}. Si quieres añadir algo, responde a este correo "
            "sin cambiar el asunto.\n\n"
            "Un saludo,\n{shop}\n"
        ),
    ),
    "en": AutoReplyTexts(
        subject="We have received your message [#{ticket}]",
        acknowledgement=(
            "Hello {name},\n\n"
            "Thank you for writing to us. We have received your message and logged it as "
            "case #{ticket}.\n\n"
            "We will answer {expected}. To add anything, reply to this email without changing "
            "the subject.\n\n"
            "Kind regards,\n{shop}\n"
        ),
        out_of_hours=(
            "Hello {name},\n\n"
            "Thank you for writing to us. We are outside our opening hours right now, but your "
            "message is logged as case #{ticket}.\n\n"
            "We will answer {expected}. To add anything, reply to this email without changing "
            "the subject.\n\n"
            "Kind regards,\n{shop}\n"
        ),
    ),
}


class AutoReplySettings(BaseModel):
    """The ``[autoreply]`` section."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    out_of_hours: bool = Field(default=True, description="Use the out-of-hours text when closed.")
    period: str = Field(
        default="1d", description="At most one acknowledgement per customer per period."
    )
    max_age: str = Field(
        default="1d",
        description="Never acknowledge mail older than this (a first sync of old mail).",
    )
    language: Literal["auto", "es", "en"] = Field(
        default="auto", description="auto: the customer's language when known, else the shop's."
    )
    es: AutoReplyTexts = Field(default_factory=lambda: _DEFAULT_TEXTS["es"])
    en: AutoReplyTexts = Field(default_factory=lambda: _DEFAULT_TEXTS["en"])

    @field_validator("period", "max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_minutes(value)
        return value

    @property
    def period_delta(self) -> timedelta:
        return timedelta(minutes=parse_duration_minutes(self.period))

    @property
    def max_age_delta(self) -> timedelta:
        return timedelta(minutes=parse_duration_minutes(self.max_age))

    def texts(self, language: str) -> AutoReplyTexts:
        return self.es if language == "es" else self.en
