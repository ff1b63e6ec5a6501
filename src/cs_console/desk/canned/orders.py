"""Find the order number a customer mentions in a thread.

Each pattern is a regular expression (compiled case-insensitively) with a
group named ``number`` (or, failing that, its first group) that captures the
order number. The defaults catch the usual Spanish and English phrasings:
"pedido 12345", "nº de pedido: 4567", "número de pedido #A-778",
"order #A-10023", "order number 998877", "order no. 5521", "order ID: 77812".
A captured number must contain a digit and have at least three characters, so
"order status" or "pedido 2" never match; a qualifier written against the
number ("pedido NR000") is read as part of the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from cs_console.errors import ConfigError
from cs_console.i18n import N_, _

__all__ = ["DEFAULT_ORDER_PATTERNS", "compile_order_patterns", "find_order_number"]

_NUMBER = r"\#?\s*(?P<number>(?=[A-Z-]*\d)[A-Z0-9][A-Z0-9-]{1,30}[A-Z0-9])(?![A-Z0-9-])"
_QUALIFIER = (
    r"(?:number|num\.?|no\.?|nr\.?|id|ref(?:erence)?\.?|code|"
    r"n\.?\s?[º°o]\.?|n[úu]mero|c[óo]digo|referencia)(?!(?<=[A-Z])[A-Z0-9])"
)

DEFAULT_ORDER_PATTERNS: tuple[str, ...] = (
    # "pedido 12345", "pedido nº 12345", "order #A-10023", "order number: 998877"
    rf"\b(?:order|pedido|compra|orden)(?:\s*{_QUALIFIER})*\s*[:#]?\s*(?:es\s+(?:el\s+)?)?{_NUMBER}",
    # "nº de pedido: 4567", "número de pedido 4567", "referencia del pedido 88A12"
    rf"\b{_QUALIFIER}\s+(?:de\s+(?:mi\s+|la\s+|su\s+)?|del\s+)(?:pedido|compra|orden)"
    rf"\s*[:#]?\s*(?:es\s+(?:el\s+)?)?{_NUMBER}",
)
"""Patterns used when no others are configured."""


_TITLE = N_("Order-number pattern not valid")


@lru_cache(maxsize=32)
def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(
                _(
                    "order-number pattern {pattern} is not a valid regular expression ({reason})"
                ).format(pattern=repr(pattern), reason=exc),
                title=_TITLE,
            ) from None
        if "number" not in regex.groupindex and regex.groups < 1:
            raise ConfigError(
                _("order-number pattern {pattern} needs a group that captures the number").format(
                    pattern=repr(pattern)
                ),
                title=_TITLE,
            )
        compiled.append(regex)
    return tuple(compiled)


def compile_order_patterns(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    """Compile and check patterns (for validating configuration early).

    Raises:
        ConfigError: A pattern is not a valid regex or has no capturing group.
    """
    return _compile(tuple(patterns))


def _captured(match: re.Match[str]) -> str | None:
    value = match.group("number") if "number" in match.re.groupindex else match.group(1)
    if value is None:
        return None
    value = value.strip().strip("#-").strip()
    return value or None


def find_order_number(texts: Iterable[str], *, patterns: Sequence[str] | None = None) -> str | None:
    """The order number mentioned in a thread, if any.

    Args:
        texts: The messages' texts, most recent first; the first text that
            mentions an order number wins, and within a text the earliest
            mention.
        patterns: Regular expressions to use instead of
            :data:`DEFAULT_ORDER_PATTERNS`.

    Raises:
        ConfigError: A pattern is not valid.
    """
    compiled = _compile(tuple(DEFAULT_ORDER_PATTERNS if patterns is None else patterns))
    for text in texts:
        if not text:
            continue
        best: tuple[int, str] | None = None
        for regex in compiled:
            for match in regex.finditer(text):
                value = _captured(match)
                if value is not None:
                    if best is None or match.start() < best[0]:
                        best = (match.start(), value)
                    break
        if best is not None:
            return best[1]
    return None
