"""The ``[surveys]`` section of the config file (a leaf module: the config embeds it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cs_console.desk.sla.settings import parse_duration
from cs_console.i18n import _

SurveyKind = Literal["csat", "nps"]
#: The score range of each kind.
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10)}


class SurveySettings(BaseModel):
    """``[surveys]``: whether, when and how to ask for satisfaction after a ticket is solved."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Send a survey after a ticket is solved.")
    kind: SurveyKind = Field(
        default="csat",
        description="csat (1-5, share of 4-5) or nps (0-10, promoters - detractors).",
    )
    delay: str = Field(
        default="1h", description="Wait this long after the solution (wall time), e.g. 1h, 2d."
    )
    max_age: str = Field(
        default="7d",
        description="Never survey a ticket solved longer ago than this (e.g. when first enabled).",
    )
    language: Literal["auto", "es", "en"] = Field(
        default="auto", description="auto: the ticket's language, else the shop's."
    )
    link: str | None = Field(
        default=None,
        description="Optional answer page, with {token} and {score}, e.g. "
        "https://shop.example/survey?t={token}&s={score}. The page must ask for a "
        "confirming click (POST) before it records anything: scanners open links.",
    )

    @field_validator("delay", "max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")) or "{token}" not in value:
            raise ValueError(
                _("{key} must be an http(s) URL containing {token} (and {score})").format(
                    key="link", token="{token}", score="{score}"
                )
            )
        return value

    @property
    def delay_delta(self) -> timedelta:
        return _wall(self.delay)

    @property
    def max_age_delta(self) -> timedelta:
        return _wall(self.max_age)


def _wall(text: str) -> timedelta:
    d = parse_duration(text)
    return d.to_timedelta(day=timedelta(days=1), week=timedelta(weeks=1))
