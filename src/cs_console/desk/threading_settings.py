"""The ``[threading]`` section: how replies are joined to tickets (the config embeds it)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cs_console.desk.sla.settings import parse_duration_minutes


class ThreadingSettings(BaseModel):
    """How replies are joined to tickets (durations like ``7d``, ``14d``, ``12h``)."""

    model_config = ConfigDict(extra="forbid")

    subject_window: str = Field(
        default="7d", description="Join by same customer and subject within this time."
    )
    reopen_within: str = Field(
        default="14d", description="A reply to a solved ticket reopens it within this time."
    )

    @field_validator("subject_window", "reopen_within")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_minutes(value)
        return value

    @property
    def subject_window_delta(self) -> timedelta:
        return timedelta(minutes=parse_duration_minutes(self.subject_window))

    @property
    def reopen_delta(self) -> timedelta:
        return timedelta(minutes=parse_duration_minutes(self.reopen_within))
