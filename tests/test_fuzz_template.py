"""Properties of the canned-answer renderer: substitution only, one pass, nothing else.

``tests/test_canned_template.py`` covers never raising and no known placeholder
surviving; here the output is pinned down exactly against a reference model.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from cs_console.desk.canned.template import missing_marker, render

NAMES = st.sampled_from(["customer_name", "order_number", "shop_name", "x", "_y1", "config"])
PIECES = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=10),
    NAMES.map(lambda n: "{{ " + n + " }}"),
    NAMES.map(lambda n: "{{" + n + '|"por defecto"}}'),
    st.sampled_from(["{{", "}}", "{", "}", "{{ 1x }}", "{% include '/etc/passwd' %}", "{{ a.b }}"]),
)
VALUES = st.dictionaries(
    NAMES, st.one_of(st.text(max_size=10), st.sampled_from(["{{ shop_name }}", "", "  "]))
)


def _reference(template: str, values: dict[str, str]) -> str:
    pattern = re.compile(
        r"\{\{[ \t]*(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*"
        r"(?:\|[ \t]*\"(?P<default>[^\"\r\n{}]*)\"[ \t]*)?\}\}"
    )

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group("name"))
        if value and value.strip():
            return value
        if match.group("default") is not None:
            return match.group("default")
        return missing_marker(match.group("name"))

    return pattern.sub(one, template)


@given(st.lists(PIECES, max_size=10).map("".join), VALUES)
def test_render_is_one_pass_of_substitution(template: str, values: dict[str, str]) -> None:
    assert render(template, values).text == _reference(template, values)


@given(st.text(alphabet=st.characters(blacklist_characters="{"), max_size=200), VALUES)
def test_text_without_braces_is_returned_as_is(template: str, values: dict[str, str]) -> None:
    rendered = render(template, values)
    assert rendered.text == template and not rendered.missing and not rendered.unknown


@given(st.text(max_size=40))
def test_a_value_is_inserted_verbatim_never_interpreted(value: str) -> None:
    rendered = render("A{{ customer_name }}B", {"customer_name": value})
    expected = value if value.strip() else missing_marker("customer_name")
    assert rendered.text == f"A{expected}B"
