"""Safe rendering of canned-answer templates."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cs_console.desk.canned import (
    STANDARD_VARIABLES,
    missing_marker,
    render,
    template_variables,
)

FULL = {
    "customer_first_name": "Ana",
    "customer_name": "Ana Pérez",
    "order_number": "A-10023",
    "ticket_number": "T-7",
    "agent_name": "Luis",
    "shop_name": "La Tienda",
    "expected_answer_time": "24 horas",
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hola, {{ customer_first_name }}:", "Hola, Ana:"),
        ("Hola, {{customer_first_name}}:", "Hola, Ana:"),
        ("Pedido {{  order_number  }}.", "Pedido A-10023."),
        ("{{ agent_name }}\n{{ shop_name }}", "Luis\nLa Tienda"),
        ("No placeholders at all", "No placeholders at all"),
        ("Broken {{ customer_name", "Broken {{ customer_name"),
        ("Not a name {{ 1abc }}", "Not a name {{ 1abc }}"),
        ("Attr {{ customer_name.__class__ }}", "Attr {{ customer_name.__class__ }}"),
        ("{{{ customer_first_name }}}", "{Ana}"),
    ],
)
def test_render_replaces_known_variables(template: str, expected: str) -> None:
    result = render(template, FULL)
    assert result.text == expected
    assert result.missing == ()
    assert result.unknown == ()
    assert result.ok


def test_missing_variable_is_marked_and_listed() -> None:
    result = render("Tu pedido {{ order_number }} sale hoy, {{ customer_first_name }}.", {})
    assert result.text == (
        f"Tu pedido {missing_marker('order_number')} sale hoy, "
        f"{missing_marker('customer_first_name')}."
    )
    assert result.missing == ("order_number", "customer_first_name")
    assert result.unknown == ()
    assert not result.ok


def test_blank_value_counts_as_missing() -> None:
    result = render("Hi {{ customer_first_name }}", {"customer_first_name": "   "})
    assert result.missing == ("customer_first_name",)


def test_default_used_when_value_missing() -> None:
    result = render('Sobre {{ order_number | "su pedido" }}.', {})
    assert result.text == "Sobre su pedido."
    assert result.ok


def test_default_ignored_when_value_present() -> None:
    result = render('Sobre {{ order_number | "su pedido" }}.', {"order_number": "777"})
    assert result.text == "Sobre 777."


def test_unknown_name_is_reported_separately() -> None:
    result = render("Hi {{ custmer_name }} {{ custmer_name }}", FULL)
    assert result.unknown == ("custmer_name",)
    assert result.missing == ()
    assert result.text == f"Hi {missing_marker('custmer_name')} {missing_marker('custmer_name')}"


def test_extra_variables_are_accepted() -> None:
    result = render("Coupon {{ coupon_code }}", {"coupon_code": "SORRY10"})
    assert result.text == "Coupon SORRY10"
    assert result.ok


def test_supplied_but_blank_extra_variable_is_missing_not_unknown() -> None:
    result = render("Coupon {{ coupon_code }}", {"coupon_code": ""})
    assert result.missing == ("coupon_code",)
    assert result.unknown == ()


def test_value_with_placeholder_is_not_expanded_again() -> None:
    result = render(
        "Hi {{ customer_name }}, {{ shop_name }}",
        {"customer_name": "{{ shop_name }}", "shop_name": "Shop"},
    )
    assert result.text == "Hi {{ shop_name }}, Shop"


def test_template_variables() -> None:
    assert template_variables('{{ a }} {{b | "x"}} {{ a }} {{ 9 }} {{ c') == {"a", "b"}


_placeholder_texts = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(sorted(STANDARD_VARIABLES)).map(lambda n: "{{ " + n + " }}"),
        st.sampled_from(["{{", "}}", "|", '"', "{{ x |", '| "d" }}', "{{ y }}"]),
    ),
    max_size=12,
).map("".join)


@given(template=st.text(), values=st.dictionaries(st.text(max_size=10), st.text(max_size=10)))
def test_render_never_raises(template: str, values: dict[str, str]) -> None:
    result = render(template, values)
    assert isinstance(result.text, str)


@given(
    template=_placeholder_texts,
    values=st.dictionaries(
        st.sampled_from(sorted(STANDARD_VARIABLES)),
        st.one_of(st.text(max_size=12), st.just("{{ order_number }}")),
    ),
)
def test_no_known_placeholder_survives(template: str, values: dict[str, str]) -> None:
    result = render(template, values)
    # Whatever remains that looks like a placeholder must come from a value, not the template.
    leftovers = set(re.findall(r"\{\{\s*([A-Za-z_]\w*)\s*(?:\|[^}]*)?\}\}", result.text))
    from_values = set()
    for value in values.values():
        from_values |= set(re.findall(r"\{\{\s*([A-Za-z_]\w*)\s*(?:\|[^}]*)?\}\}", value))
    assert not ((leftovers & STANDARD_VARIABLES) - from_values)
    for name in result.missing:
        assert missing_marker(name) in result.text


@given(value=st.text(max_size=30))
def test_values_are_inserted_verbatim(value: str) -> None:
    if not value.strip():
        return
    result = render("<{{ customer_name }}>", {"customer_name": value})
    assert result.text == f"<{value}>"
