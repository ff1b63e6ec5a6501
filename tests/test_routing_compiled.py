"""The compiled router: the same decisions as matching each rule word by word."""

from __future__ import annotations

import fnmatch
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cs_console.desk.routing import (
    DEFAULT_RULES,
    Router,
    RoutingInput,
    RoutingRule,
    RoutingSettings,
    _folded_text,
    fold,
)

_WORD = re.compile(r"\w+")

# Letters, accents, punctuation and the odd ones ("ŀ", "ß", "ŉ", "¿") around the keywords.
_ALPHABET = st.sampled_from(
    list("abcdeilmnoprstuvyz ÁÉÍÓÚáéíóúñÑüçÇßŀĿŉǅ¿¡?!.,;:-_'\n\t0123456789·«»")
)
_WORDS = st.sampled_from(
    ["devolución", "devolver", "pedido", "mi pedido", "cancelar", "refund", "paypal", "pay"]
)
_TEXT = st.lists(st.one_of(st.text(_ALPHABET, max_size=12), _WORDS), max_size=12).map(" ".join)


def _reference_text(text: str) -> str:
    """Each word of the casefolded text folded on its own, joined by spaces."""
    return " " + " ".join(fold(w) for w in _WORD.findall(text.casefold())) + " "


def _reference_matches(rule: RoutingRule, data: RoutingInput) -> bool:
    """A rule matched the slow way: every criterion and keyword checked one by one."""
    text = _reference_text(f"{data.subject}\n{data.text[:20_000]}")
    words = set(text.split())
    if rule.channel and data.channel.lower() not in {c.lower() for c in rule.channel}:
        return False
    if rule.sender and not (
        data.sender
        and any(fnmatch.fnmatchcase(data.sender.lower(), p.lower()) for p in rule.sender)
    ):
        return False
    values = [v.lower() for v in data.recipients if v]
    if rule.recipient and not any(
        fnmatch.fnmatchcase(v, p.lower()) for p in rule.recipient for v in values
    ):
        return False
    for name, pattern in rule.headers.items():
        value = data.headers.get(name.lower())
        if value is None or not fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return False
    if rule.keywords:
        found = False
        for keyword in rule.keywords:
            parts = _WORD.findall(fold(keyword))
            prefix = keyword.strip().endswith("*")
            if not parts:
                continue
            if len(parts) == 1 and not prefix:
                found = found or parts[0] in words
            elif len(parts) == 1:
                found = found or any(w.startswith(parts[0]) for w in words)
            else:
                found = found or (" " + " ".join(parts) + ("" if prefix else " ")) in text
        if not found:
            return False
    return bool(rule.keywords or rule.sender or rule.recipient or rule.headers or rule.channel)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_folding_the_whole_text_equals_folding_each_word(text: str) -> None:
    assert _folded_text(text) == _reference_text(text)


@settings(max_examples=200, deadline=None)
@given(subject=_TEXT, text=_TEXT)
def test_default_rules_match_as_checked_one_by_one(subject: str, text: str) -> None:
    data = RoutingInput(subject=subject, text=text)
    decision = Router(RoutingSettings()).route(data)
    expected = [r.name for r in DEFAULT_RULES if _reference_matches(r, data)]
    assert list(decision.matched) == expected


def test_sender_recipient_header_and_channel_patterns() -> None:
    rules = [
        RoutingRule(name="vip", sender=["*@Big.com"], priority="high"),
        RoutingRule(name="wholesale", recipient="mayoristas@*", category="wholesale"),
        RoutingRule(name="list", headers={"List-Id": "*news*"}, tags=["newsletter"]),
        RoutingRule(name="chat", channel="Chat", keywords=["hola"], tags=["chat"]),
    ]
    router = Router(RoutingSettings(use_defaults=False, rules=rules))
    data = RoutingInput(
        subject="Hola",
        sender="ana@big.com",
        recipients=["Mayoristas@tienda.es"],
        headers={"list-id": "<News.tienda.es>"},
        channel="chat",
    )
    decision = router.route(data)
    assert decision.matched == ("vip", "wholesale", "list", "chat")
    assert (decision.priority, decision.category, decision.tags) == (
        "high",
        "wholesale",
        ("newsletter", "chat"),
    )
    for rule in rules:
        assert _reference_matches(rule, data)
    assert router.route(RoutingInput(subject="hola", channel="email")).matched == ()
