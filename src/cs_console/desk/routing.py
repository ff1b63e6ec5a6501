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
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cs_console.i18n import _
from cs_console.store.enums import Priority

if TYPE_CHECKING:  # the config imports this module: the parser stays out of its imports
    from cs_console.mail.parse import ParsedMessage

__all__ = [
    "DEFAULT_RULES",
    "Router",
    "RoutingDecision",
    "RoutingInput",
    "RoutingRule",
    "RoutingSettings",
    "fold",
    "message_routing_input",
    "route",
    "routing_text",
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
            raise ValueError(
                _("unknown priority {value} (low, normal, high, urgent)").format(value=repr(value))
            )
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


def message_routing_input(parsed: ParsedMessage, channel: str = "email") -> RoutingInput:
    """What routing looks at in a parsed email: its subject, new text, sender and recipients."""
    sender = parsed.sender.address.strip().lower() if parsed.sender else ""
    return RoutingInput(
        subject=parsed.subject,
        text=parsed.new_text or parsed.text,
        sender=sender,
        recipients=[a.address.lower() for a in (*parsed.to, *parsed.cc)],
        headers=parsed.headers,
        channel=channel,
    )


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
# Letters whose unaccented form is not a single word (Catalan ``ŀ`` becomes ``l·``):
# a text with them is folded word by word, so the word boundaries stay those of the original.
_SPLITTING = tuple(chr(k) for k, v in _ACCENTS.items() if not re.fullmatch(r"\w+", v))
_OTHER_GAPS = re.compile(r"[^\x00-\x7f\w]+")
_ACCENTED = re.compile("[" + "".join(sorted(chr(k) for k in _ACCENTS)) + "]")
# ASCII bytes that are not word characters (``\w`` on ASCII is [A-Za-z0-9_]), as spaces
_ASCII_GAPS = bytes(
    c if chr(c).isascii() and re.fullmatch(r"\w", chr(c)) else 0x20 for c in range(256)
)


def _unaccent(match: re.Match[str]) -> str:
    return _ACCENTS[ord(match.group())]


def _folded_text(text: str) -> str:
    """The folded words of ``text`` joined by single spaces, with a space at both ends.

    The same as folding each word of ``text`` (:func:`fold`) and joining them,
    done on the whole text at once. A keyword ``w`` is then the substring
    ``" w "``, a prefix ``p*`` the substring ``" p"`` and a phrase ``a b``
    the substring ``" a b "``.
    """
    lowered = text.casefold()
    if not lowered.isascii():
        if any(ch in lowered for ch in _SPLITTING):
            return " " + " ".join(_fold_word(w) for w in _WORD.findall(lowered)) + " "
        lowered = _ACCENTED.sub(_unaccent, lowered).casefold()
        if not lowered.isascii():  # "¿", "¡", "«": gaps between words like any punctuation
            lowered = _OTHER_GAPS.sub(" ", lowered)
    if lowered.isascii():
        words = lowered.encode("ascii").translate(_ASCII_GAPS).split()
        return " " + b" ".join(words).decode("ascii") + " "
    return " " + " ".join(_WORD.findall(lowered)) + " "


def routing_text(subject: str, text: str) -> str:
    """What the keywords of the rules are looked for in: the subject and text, folded.

    Depends on the message alone, not on the rules, so it can be prepared
    ahead (in another process) and given to :meth:`Router.route`.
    """
    return _folded_text(f"{subject}\n{text[:20_000]}")


@lru_cache(maxsize=20_000)
def _fold_word(word: str) -> str:
    return fold(word)


@dataclass(frozen=True)
class _Keywords:
    """A rule's keywords split into whole words, word prefixes and phrases."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    phrases: tuple[tuple[str, str], ...]  # (first word, " a b " substring of the folded text)

    def match(self, text: str, words: frozenset[str], ordered: list[str]) -> bool:
        """Whether one keyword occurs in ``text`` (:func:`_folded_text`) of ``words``.

        ``ordered`` is ``words`` sorted, where the words a prefix starts are together.
        """
        if not self.words.isdisjoint(words):
            return True
        for prefix in self.prefixes:
            at = bisect_left(ordered, prefix)
            if at < len(ordered) and ordered[at].startswith(prefix):
                return True
        return any(first in words and phrase in text for first, phrase in self.phrases)


@lru_cache(maxsize=512)
def _keywords(keywords: tuple[str, ...]) -> _Keywords:
    words: set[str] = set()
    prefixes: list[str] = []
    phrases: list[tuple[str, str]] = []
    for keyword in keywords:
        prefix = keyword.strip().endswith("*")
        parts = _WORD.findall(fold(keyword))
        if len(parts) == 1 and not prefix:
            words.add(parts[0])
        elif len(parts) == 1:
            prefixes.append(parts[0])
        elif parts:
            # " a b " for a phrase; " a b" (no closing space) when its last word is a prefix
            phrases.append((parts[0], " " + " ".join(parts) + ("" if prefix else " ")))
    return _Keywords(frozenset(words), tuple(prefixes), tuple(phrases))


def _glob(pattern: str) -> Callable[[str], object]:
    return re.compile(fnmatch.translate(pattern.lower())).match


@dataclass(frozen=True)
class _CompiledRule:
    """One rule with its patterns compiled and its keywords folded, ready for many messages."""

    rule: RoutingRule
    channels: frozenset[str]
    senders: tuple[Callable[[str], object], ...]
    recipients: tuple[Callable[[str], object], ...]
    headers: tuple[tuple[str, Callable[[str], object]], ...]
    keywords: _Keywords
    criteria: bool

    @classmethod
    def of(cls, rule: RoutingRule) -> _CompiledRule:
        return cls(
            rule=rule,
            channels=frozenset(c.lower() for c in rule.channel),
            senders=tuple(_glob(p) for p in rule.sender),
            recipients=tuple(_glob(p) for p in rule.recipient),
            headers=tuple((name.lower(), _glob(p)) for name, p in rule.headers.items()),
            keywords=_keywords(tuple(rule.keywords)),
            criteria=bool(
                rule.keywords or rule.sender or rule.recipient or rule.headers or rule.channel
            ),
        )

    def matches(
        self,
        data: RoutingInput,
        recipients: list[str],
        text: str,
        words: frozenset[str],
        ordered: list[str],
    ) -> bool:
        rule = self.rule
        if rule.channel and data.channel.lower() not in self.channels:
            return False
        if self.senders:
            sender = data.sender.lower()
            if not sender or not any(match(sender) for match in self.senders):
                return False
        if self.recipients and not any(m(v) for m in self.recipients for v in recipients):
            return False
        for name, match in self.headers:
            value = data.headers.get(name)
            if value is None or not match(value.lower()):
                return False
        if rule.keywords and not self.keywords.match(text, words, ordered):
            return False
        return self.criteria


class Router:
    """The rules of one :class:`RoutingSettings`, compiled once to route many messages.

    An ingest run builds one (``IngestConfig.router``); :func:`route` builds one per call.
    The settings are read when the router is built: build a new one after
    changing them.
    """

    def __init__(self, settings: RoutingSettings) -> None:
        self.settings = settings
        self.rules = tuple(_CompiledRule.of(rule) for rule in settings.all_rules())

    def unrouted(self) -> RoutingDecision:
        """The decision no rule matched: the default category and priority, nothing else."""
        return RoutingDecision(
            category=self.settings.default_category,
            priority=self.settings.default_priority,
            tags=(),
            assignee=None,
            matched=(),
        )

    def route(self, data: RoutingInput) -> RoutingDecision:
        """Apply the rules to one new ticket's first message."""
        text = routing_text(data.subject, data.text)
        words = frozenset(text.split())
        ordered = sorted(words)
        recipients = [v.lower() for v in data.recipients if v]
        category: str | None = None
        priority: str | None = None
        assignee: str | None = None
        tags: dict[str, None] = {}
        matched: list[str] = []
        for compiled in self.rules:
            if not compiled.matches(data, recipients, text, words, ordered):
                continue
            rule = compiled.rule
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
            category=category or self.settings.default_category,
            priority=priority or self.settings.default_priority,
            tags=tuple(tags),
            assignee=assignee,
            matched=tuple(matched),
        )


def route(settings: RoutingSettings, data: RoutingInput) -> RoutingDecision:
    """Apply the rules to one new ticket's first message (:class:`Router` for many)."""
    return Router(settings).route(data)


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
