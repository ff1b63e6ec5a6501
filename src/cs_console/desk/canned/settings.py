"""The ``[canned]`` section of the config file (a leaf module: the config embeds it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cs_console.desk.canned.orders import DEFAULT_ORDER_PATTERNS, compile_order_patterns
from cs_console.errors import ConfigError
from cs_console.i18n import _

__all__ = ["CannedSettings"]


class CannedSettings(BaseModel):
    """``[canned]``: where the shop's canned answers live and how order numbers are found."""

    model_config = ConfigDict(extra="forbid")

    folder: Path | None = Field(
        default=None,
        description="Folder of the shop's answers (Markdown files); default <data_dir>/answers, "
        "filled with the starter set in the shop's language on first use.",
    )
    order_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ORDER_PATTERNS),
        description="Regular expressions that find an order number in the customer's messages "
        "(a group named 'number' captures it); default: the built-in Spanish and English ones.",
        json_schema_extra={"doc_default": "built-in patterns"},
    )

    @field_validator("order_patterns")
    @classmethod
    def _valid_patterns(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(_("{key} must hold at least one pattern").format(key="order_patterns"))
        try:
            compile_order_patterns(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return value
