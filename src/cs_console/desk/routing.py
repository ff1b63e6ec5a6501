"""Routing: category, priority, tags and assignee of a new ticket, from rules.

Rules are tried in order (the config's ``[[routing.rules]]`` first, then the
built-in defaults unless ``use_defaults = false``). A rule matches when every
criterion it gives holds (any value of a list may match). For each of
category, priority and assignee the first matching rule that sets it wins;
tags add up over every matching rule.

Keywords are matched against the subject and the new text (not the quoted
part) ignoring case and accents, as whole words or phrases; a trailing ``*`` matches
any ending (``devol*``: devolver, devolución). Sender and recipient patterns
are shell-style (``*@bigcustomer.com``); header criteria map a header name to
a pattern for its value.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cs_console.store.enums import Priority

__all__ = [
    "DEFAULT_RULES",
    "RoutingDecision",
    "RoutingInput",
    "RoutingRule",
    "RoutingSettings",
    "fold",
    "route",
]


class RoutingRule(BaseModel):
    """One ``[[routing.rules]]`` entry."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    keywords: list[str] = Field(default_factory=list, description="Any of these words/phrases.")
    sender: list[str] = Field(default_factory=list, description="From address patterns.")
    recipient: list[str] = Field(default_factory=list, description="To/Cc address patterns.")
    headers: dict[str, str] = Field(default_factory=dict, description="Header: value pattern.")
    channel: list[str] = Field(default_factory=list)
    category: str | None = None
    priority: str | None = None
    tags: list[str] = Field(default_factory=list)
    assignee: str | None = None

    @field_validator("priority")
    @classmethod
    def _known_priority(cls, value: str | None) -> str | None:
        if value is not None and value not in {p.value for p in Priority}:
            raise ValueError(f"unknown priority {value!r} (low, normal, high, urgent)")
        return value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower().replace(" ", "_")

    @field_validator("sender", "recipient", "keywords", "channel", "tags", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class RoutingSettings(BaseModel):
    """The ``[routing]`` section."""

    model_config = ConfigDict(extra="forbid")

    use_defaults: bool = Field(default=True, description="Apply the built-in rules after yours.")
    default_category: str = "other"
    default_priority: str = "normal"
    rules: list[RoutingRule] = Field(default_factory=list)

    def all_rules(self) -> list[RoutingRule]:
        return [*self.rules, *(DEFAULT_RULES if self.use_defaults else ())]


@dataclass(frozen=True)
class RoutingInput:
    """What routing looks at."""

    subject: str = ""
    text: str = ""
    sender: str = ""
    recipients: Sequence[str] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    channel: str = "email"


@dataclass(frozen=True)
class RoutingDecision:
    category: str
    priority: str
    tags: tuple[str, ...]
    assignee: str | None
    matched: tuple[str, ...]  # rule names, for the event log


def _accent_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x00C0, 0x0250):
        decomposed = unicodedata.normalize("NFKD", chr(code))
        base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        if base != chr(code):
            table[code] = base
    return table


_ACCENTS = _accent_table()


def fold(text: str) -> str:
    """Lowercase without accents (``Devolución`` -> ``devolucion``)."""
    if text.isascii():
        return text.casefold()
    return text.translate(_ACCENTS).casefold()


_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Folded:
    """A text folded once: its words (a set) and the words joined by single spaces."""

    words: frozenset[str]
    joined: str

    @classmethod
    def of(cls, text: str) -> _Folded:
        raw_words = _WORD.findall(text.casefold())
        folded = {w: _fold_word(w) for w in set(raw_words)}
        words = [folded[w] for w in raw_words]
        return cls(frozenset(folded.values()), " " + " ".join(words) + " ")


@lru_cache(maxsize=20_000)
def _fold_word(word: str) -> str:
    return fold(word)


@lru_cache(maxsize=512)
def _keyword_matcher(
    keywords: tuple[str, ...],
) -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    """Keywords split into whole words, word prefixes and phrases (matched on word boundaries)."""
    words: set[str] = set()
    prefixes: list[str] = []
    phrases: list[str] = []
    for keyword in keywords:
        prefix = keyword.strip().endswith("*")
        parts = _WORD.findall(fold(keyword))
        if not parts:
            continue
        if len(parts) == 1 and not prefix:
            words.add(parts[0])
        elif len(parts) == 1:
            prefixes.append(parts[0])
        else:
            # " a b " for a phrase; " a b" (no closing space) when its last word is a prefix
            phrases.append(" " + " ".join(parts) + ("" if prefix else " "))
    return frozenset(words), tuple(prefixes), tuple(phrases)


def _keywords_match(keywords: tuple[str, ...], text: _Folded) -> bool:
    words, prefixes, phrases = _keyword_matcher(keywords)
    if not words.isdisjoint(text.words):
        return True
    if prefixes and any(w.startswith(prefixes) for w in text.words):
        return True
    return any(phrase in text.joined for phrase in phrases)


def _glob_any(patterns: Iterable[str], values: Iterable[str]) -> bool:
    values = [v.lower() for v in values if v]
    return any(fnmatch.fnmatchcase(v, p.lower()) for p in patterns for v in values)


def _matches(rule: RoutingRule, data: RoutingInput, text: _Folded) -> bool:
    if rule.channel and data.channel.lower() not in {c.lower() for c in rule.channel}:
        return False
    if rule.sender and not _glob_any(rule.sender, [data.sender]):
        return False
    if rule.recipient and not _glob_any(rule.recipient, data.recipients):
        return False
    for name, pattern in rule.headers.items():
        value = data.headers.get(name.lower())
        if value is None or not fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return False
    if rule.keywords and not _keywords_match(tuple(rule.keywords), text):
        return False
    return bool(rule.keywords or rule.sender or rule.recipient or rule.headers or rule.channel)


def route(settings: RoutingSettings, data: RoutingInput) -> RoutingDecision:
    """Apply the rules to one new ticket's first message."""
    folded = _Folded.of(f"{data.subject}\n{data.text[:20_000]}")
    category: str | None = None
    priority: str | None = None
    assignee: str | None = None
    tags: dict[str, None] = {}
    matched: list[str] = []
    for rule in settings.all_rules():
        if not _matches(rule, data, folded):
            continue
        matched.append(rule.name or "(unnamed rule)")
        if category is None and rule.category:
            category = rule.category
        if priority is None and rule.priority:
            priority = rule.priority
        if assignee is None and rule.assignee:
            assignee = rule.assignee
        for tag in rule.tags:
            tags.setdefault(tag, None)
    return RoutingDecision(
        category=category or settings.default_category,
        priority=priority or settings.default_priority,
        tags=tuple(tags),
        assignee=assignee,
        matched=tuple(matched),
    )


def _rule(name: str, category: str | None, keywords: list[str], **extra: object) -> RoutingRule:
    return RoutingRule(name=name, category=category, keywords=keywords, **extra)  # type: ignore[arg-type]


#: The built-in rules: the six common reasons (plus warranty) in Spanish and English.
#: Order matters: "cancelar mi pedido" is a cancellation, not an order status.
DEFAULT_RULES: tuple[RoutingRule, ...] = (
    _rule(
        "urgent",
        None,
        [
            "urgente",
            "urgent",
            "urgently",
            "asap",
            "cuanto antes",
            "lo antes posible",
            "inmediatamente",
        ],
        priority="high",
        tags=["urgent"],
    ),
    _rule(
        "cancellation",
        "cancellation",
        [
            "cancel*",
            "anular*",
            "anulacion",
            "desistir",
            "desistimiento",
            "ya no lo quiero",
            "no quiero el pedido",
            "call off",
        ],
    ),
    _rule(
        "returns",
        "returns",
        [
            "devol*",
            "devuelv*",
            "devuelto",
            "reembols*",
            "return*",
            "refund*",
            "send it back",
            "send back",
            "cambiar la talla",
            "cambio de talla",
            "exchange",
            "wrong size",
            "talla equivocada",
            "producto equivocado",
            "wrong item",
            "llego roto",
            "llego danado",
            "arrived damaged",
            "arrived broken",
        ],
    ),
    _rule(
        "warranty",
        "warranty",
        [
            "garantia",
            "warranty",
            "guarantee",
            "no funciona",
            "ha dejado de funcionar",
            "dejo de funcionar",
            "stopped working",
            "doesn't work",
            "does not work",
            "defectuos*",
            "defective",
            "averia*",
            "averiado",
            "reparacion",
            "repair",
        ],
    ),
    _rule(
        "payment",
        "payment",
        [
            "pago",
            "pagar",
            "pague",
            "cobr*",
            "cargo",
            "cargado",
            "tarjeta",
            "factura*",
            "transferencia",
            "bizum",
            "paypal",
            "payment*",
            "pay",
            "paid",
            "charge*",
            "charged twice",
            "double charge",
            "invoice*",
            "card declined",
            "card was declined",
            "billing",
            "billed",
            "receipt",
        ],
    ),
    _rule(
        "order_status_question",
        "order_status",
        [
            "donde esta mi pedido",
            "estado del pedido",
            "estado de mi pedido",
            "cuando llega mi pedido",
            "where is my order",
            "order status",
            "status of my order",
            "when will my order",
        ],
    ),
    _rule(
        "delivery",
        "delivery",
        [
            "envio",
            "entrega*",
            "entregado",
            "mensajer*",
            "transportista",
            "repartidor",
            "seguimiento",
            "numero de seguimiento",
            "no ha llegado",
            "no me ha llegado",
            "no llega",
            "correos",
            "seur",
            "mrw",
            "gls",
            "delivery",
            "deliver*",
            "shipping",
            "shipment",
            "tracking",
            "courier",
            "not arrived",
            "hasn't arrived",
            "has not arrived",
            "never arrived",
            "not received",
        ],
    ),
    _rule(
        "order_status",
        "order_status",
        [
            "mi pedido",
            "pedido",
            "n de pedido",
            "numero de pedido",
            "my order",
            "order number",
            "has my order shipped",
        ],
    ),
    _rule(
        "product_question",
        "product_question",
        [
            "producto",
            "talla",
            "tallas",
            "medidas",
            "stock",
            "disponible",
            "disponibilidad",
            "color",
            "material",
            "compatible",
            "caracteristicas",
            "product",
            "size",
            "sizes",
            "in stock",
            "available",
            "availability",
            "dimensions",
            "colour",
            "specs",
            "does it come",
            "viene con",
            "tiene",
        ],
    ),
)
