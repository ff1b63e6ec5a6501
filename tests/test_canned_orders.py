"""Order numbers found in a thread's text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cs_console.desk.canned import compile_order_patterns, find_order_number
from cs_console.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola, mi pedido 12345 no ha llegado", "12345"),
        ("Where is order #A-10023?", "A-10023"),
        ("nº de pedido: 4567", "4567"),
        ("Número de pedido #A-778", "A-778"),
        ("my order number 998877 is late", "998877"),
        ("Order No. 5521 please", "5521"),
        ("order ID: 77812", "77812"),
        ("Pedido n.º 20231", "20231"),
        ("el pedido nº 4444 vino roto", "4444"),
        ("mi pedido es el 55667", "55667"),
        ("referencia del pedido 88A12", "88A12"),
        ("PEDIDO: ES-2024-0042", "ES-2024-0042"),
        ("I ordered 3 things", None),
        ("order status please", None),
        ("lo pedí 2 veces, pedido 2", None),
        ("the order 12 days ago", None),
        ("no order here at all, phone 600123123", None),
        ("", None),
    ],
)
def test_default_patterns(text: str, expected: str | None) -> None:
    assert find_order_number([text]) == expected


def test_most_recent_text_wins() -> None:
    thread = ["Any news? Thanks", "Sorry, it is order 2222 actually", "My order 1111 is late"]
    assert find_order_number(thread) == "2222"


def test_earliest_mention_within_a_text() -> None:
    assert find_order_number(["order 3333 and also pedido 4444"]) == "3333"
    assert find_order_number(["nº de pedido 5555, no el pedido 6666"]) == "5555"


def test_custom_patterns() -> None:
    patterns = [r"\bREF-(\d{6})\b"]
    assert find_order_number(["Your REF-123456 is ready"], patterns=patterns) == "123456"
    assert find_order_number(["pedido 12345"], patterns=patterns) is None
    named = [r"#(?P<number>\d{4})\b"]
    assert find_order_number(["see #9876"], patterns=named) == "9876"


@pytest.mark.parametrize("pattern", ["(", r"\d+"])
def test_invalid_patterns_raise_config_error(pattern: str) -> None:
    with pytest.raises(ConfigError):
        compile_order_patterns([pattern])
    with pytest.raises(ConfigError):
        find_order_number(["x"], patterns=[pattern])


@given(st.lists(st.text(max_size=80), max_size=5))
def test_never_raises_and_returns_substring(texts: list[str]) -> None:
    found = find_order_number(texts)
    if found is not None:
        assert any(found in text for text in texts)
        assert any(ch.isdigit() for ch in found)


@given(number=st.from_regex(r"([A-Z]{1,2}-?)?[0-9]{3,8}", fullmatch=True))
def test_generated_numbers_are_found(number: str) -> None:
    assert find_order_number([f"Hola, mi pedido {number} no llega"]) == number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola, mi pedido NR000 no llega", "NR000"),
        ("order ID123 is late", "ID123"),
        ("order no.5521 please", "5521"),
        ("pedido nº4567", "4567"),
        ("order nr. 8812", "8812"),
    ],
)
def test_qualifier_against_the_number(text: str, expected: str) -> None:
    assert find_order_number([text]) == expected
