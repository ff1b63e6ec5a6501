"""The public FAQ page: only public answers, neutral bodies, escaped HTML."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from cs_console.desk.canned import CannedAnswer, starter_answers
from cs_console.desk.canned.publish import faq_html, faq_markdown, neutral_body, public_answers


def _answer(slug: str, **fields: object) -> CannedAnswer:
    base: dict[str, object] = {
        "slug": slug,
        "title": f"Title {slug}",
        "language": "en",
        "category": "returns",
        "public": True,
        "body": "Hi {{ customer_first_name }},\n\nThe answer.\n\nBest regards,\n{{ agent_name }}",
    }
    base.update(fields)
    return CannedAnswer(**base)  # type: ignore[arg-type]


def test_neutral_body_drops_greeting_signature_and_personal_variables() -> None:
    body = (
        "Hola, {{ customer_first_name }}:\n\n"
        "Tu pedido {{ order_number }} sale hoy de {{ shop_name }}, {{ customer_name }}.\n"
        'Te respondemos en {{ expected_answer_time | "24 horas" }}. Ref: {{ ticket_number }}\n\n'
        "Un saludo,\n{{ agent_name }}\n{{ shop_name }}"
    )
    assert neutral_body(body, shop_name="Tienda Pepa") == (
        "Tu pedido sale hoy de Tienda Pepa.\nTe respondemos en 24 horas. Ref:"
    )
    one = "Hi {{ customer_first_name }}, your order {{ order_number }} is on its way."
    assert neutral_body(one, shop_name="S") == "Hi, your order is on its way."


def test_every_starter_answer_publishes_without_variables() -> None:
    for language in ("es", "en"):
        page = faq_markdown(starter_answers(), shop_name="Shop", language=language)
        assert "{{" not in page and "⟦" not in page and "\x00" not in page
        public = public_answers(starter_answers(), language=language)
        assert public and all(f"### {a.title}" in page for a in public)
        private = [a for a in starter_answers(language) if not a.public]
        assert not any(f"### {a.title}\n" in page for a in private)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_titles_and_bodies() -> None:
    answers = [
        _answer("a", title="<script>alert('x')</script> & more"),
        _answer("b", body="Click <img src=x onerror=alert(1)> [here](javascript:alert(1)) & go"),
        _answer("c", public=False, title="Secret"),
    ]
    page = faq_html(answers, shop_name='Shop "<b>"', language="en")
    parser = _Collect()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and "b" not in parser.tags
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    assert "<script>alert('x')</script> & more" in "".join(parser.text)
    assert 'href="javascript' not in page and "onerror" not in "".join(parser.tags)
    assert "Secret" not in page
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<title>Shop &quot;&lt;b&gt;&quot;: Frequently asked questions</title>" in page


def test_markdown_groups_by_category_in_order() -> None:
    answers = [
        _answer("r", category="returns", title="Return"),
        _answer("p", category="payment", title="Pay"),
        _answer("o", category="order_status", title="Where"),
    ]
    page = faq_markdown(answers, shop_name="", language="en")
    assert page.index("## Order status") < page.index("## Payment") < page.index("## Returns")
    assert page.startswith("# Frequently asked questions\n")
    assert "Hi" not in page and "Best regards" not in page and "The answer." in page


@given(st.text(max_size=200))
def test_html_never_lets_markup_through(text: str) -> None:
    page = faq_html([_answer("x", title=text or "t", body=text or "b")], shop_name=text)
    parser = _Collect()
    parser.feed(page)
    allowed = {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "section",
        "details",
        "summary",
        "p",
        "br",
        "em",
        "strong",
        "code",
        "pre",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
    }
    assert set(parser.tags) <= allowed


_NAMES = st.sampled_from(
    ["customer_first_name", "customer_name", "order_number", "agent_name", "shop_name", "x_1"]
)
_PIECES = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="{}\x00"), max_size=12),
    _NAMES.map(lambda n: "{{ " + n + " }}"),
    _NAMES.map(lambda n: "{{ " + n + ' | "dflt" }}'),
    st.sampled_from(["\n", "\n\n", ", ", ": "]),
)


@given(st.lists(_PIECES, max_size=20).map("".join))
def test_neutral_body_leaves_no_placeholder(body: str) -> None:
    text = neutral_body(body, shop_name="Tienda")
    assert "{{" not in text and "\x00" not in text
    assert "\n\n\n" not in text
