"""The ``[writing]`` section of the config file (a leaf module: the config embeds it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cs_console.desk.writing.model import ALL_CODES, DEFAULT_JARGON, WritingSettings
from cs_console.i18n import _

__all__ = ["WritingConfig"]


class WritingConfig(BaseModel):
    """``[writing]``: which hints the writing assistant gives and its word lists."""

    model_config = ConfigDict(extra="forbid")

    enabled: list[str] | None = Field(
        default=None,
        description="Hint codes to give (default all): " + ", ".join(sorted(ALL_CODES)) + ".",
        json_schema_extra={"doc_default": "all"},
    )
    disabled: list[str] = Field(
        default_factory=list, description="Hint codes to leave out (instead of listing enabled)."
    )
    jargon: list[str] = Field(
        default_factory=lambda: list(DEFAULT_JARGON),
        description="Internal words to flag in replies.",
        json_schema_extra={"doc_default": "SLA, RMA, SKU, backorder, ticket..."},
    )
    shop_words: list[str] = Field(
        default_factory=list,
        description="Brand and product names: never flagged as misspelt, jargon or shouting.",
    )
    max_ideas: int = Field(
        default=2, ge=1, le=20, description="Most main ideas a reply should hold."
    )

    @model_validator(mode="after")
    def _known_codes(self) -> WritingConfig:
        if self.enabled is not None and self.disabled:
            raise ValueError(
                _("give either {first} or {second}, not both").format(
                    first="enabled", second="disabled"
                )
            )
        for key in ("enabled", "disabled"):
            unknown = sorted(set(getattr(self, key) or ()) - ALL_CODES)
            if unknown:
                raise ValueError(
                    _("{key}: unknown hint codes {codes}; known: {known}").format(
                        key=key, codes=", ".join(unknown), known=", ".join(sorted(ALL_CODES))
                    )
                )
        return self

    def to_settings(self) -> WritingSettings:
        """The settings :func:`~cs_console.desk.writing.lint_reply` takes."""
        enabled = frozenset(self.enabled) if self.enabled is not None else ALL_CODES
        return WritingSettings(
            enabled=enabled - frozenset(self.disabled),
            jargon=tuple(self.jargon),
            shop_words=tuple(self.shop_words),
            max_ideas=self.max_ideas,
        )
