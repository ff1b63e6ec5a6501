"""A public FAQ page from the canned answers marked ``public = true``.

A canned answer is a letter to one customer; a FAQ page speaks to everyone.
So, before publishing, each body is made neutral:

- the greeting (a short first paragraph that names the customer, "Hola,
  {{ customer_first_name }}:") and the signature (a last paragraph with
  ``{{ agent_name }}``) are left out;
- ``{{ shop_name }}`` becomes the shop's name;
- a variable with a default (``{{ expected_answer_time | "24 horas" }}``)
  becomes its default;
- any other variable (customer names, order and ticket numbers, the agent) is
  removed, and the space or comma left around it tidied ("Tu pedido
  {{ order_number }} ya está en camino" -> "Tu pedido ya está en camino").

Markdown output keeps the bodies as Markdown. HTML output is a standalone page:
titles and text are escaped, bodies are rendered by CommonMark with raw HTML
turned off (so ``<script>`` in an answer shows as text), and only safe link
schemes survive.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from markdown_it import MarkdownIt

from cs_console.desk.canned.library import CATEGORIES, CannedAnswer
from cs_console.desk.canned.template import _PLACEHOLDER
from cs_console.textsafe import strip_controls

__all__ = ["CATEGORY_TITLES", "faq_html", "faq_markdown", "neutral_body", "public_answers"]

CATEGORY_TITLES: dict[str, dict[str, str]] = {
    "es": {
        "product_question": "Productos",
        "order_status": "Estado del pedido",
        "payment": "Pagos",
        "delivery": "Envíos y entregas",
        "returns": "Devoluciones",
        "cancellation": "Cancelaciones",
        "warranty": "Garantía",
        "other": "Otras preguntas",
    },
    "en": {
        "product_question": "Products",
        "order_status": "Order status",
        "payment": "Payment",
        "delivery": "Delivery",
        "returns": "Returns",
        "cancellation": "Cancellations",
        "warranty": "Warranty",
        "other": "Other questions",
    },
}
_PAGE_TITLE = {"es": "Preguntas frecuentes", "en": "Frequently asked questions"}
_PERSONAL = frozenset({"customer_first_name", "customer_name"})
_SIGNATURE = frozenset({"agent_name"})
_GONE = "\x00"


def public_answers(answers: Sequence[CannedAnswer], *, language: str | None) -> list[CannedAnswer]:
    """The public answers (of one language), by category then title."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    chosen = [a for a in answers if a.public and (language is None or a.language == language)]
    return sorted(chosen, key=lambda a: (order.get(a.category, 99), a.title.casefold(), a.slug))


def _paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text.strip("\n")) if p.strip()]


def _names(paragraph: str) -> set[str]:
    return {m.group("name") for m in _PLACEHOLDER.finditer(paragraph)}


def neutral_body(body: str, *, shop_name: str) -> str:
    """``body`` without greeting, signature and personal variables (see the module docstring)."""
    paragraphs = _paragraphs(body)
    if len(paragraphs) > 1:
        first = paragraphs[0]
        if _names(first) & _PERSONAL and len(first.split()) <= 6 and "\n" not in first:
            paragraphs = paragraphs[1:]
    if len(paragraphs) > 1 and _names(paragraphs[-1]) & _SIGNATURE:
        paragraphs = paragraphs[:-1]

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if name == "shop_name" and shop_name.strip():
            return shop_name
        if default is not None:
            return default
        return _GONE

    text = _PLACEHOLDER.sub(substitute, "\n\n".join(paragraphs))
    # Tidy what a removed variable leaves: "Hola, \0:" -> "Hola:", "pedido \0 ya" -> "pedido ya".
    text = re.sub(r"[ \t]*,?[ \t]*\x00[ \t]*(?=[,.:;!?])", "", text)
    text = re.sub(r"(?m)^\x00[ \t]*", "", text)
    text = re.sub(r"[ \t]*\x00", "", text)
    text = text.replace(_GONE, "")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _language_of(answers: Sequence[CannedAnswer], language: str | None) -> str:
    if language in _PAGE_TITLE:
        return language
    langs = {a.language for a in answers}
    return langs.pop() if len(langs) == 1 else "en"


def faq_markdown(
    answers: Sequence[CannedAnswer], *, shop_name: str, language: str | None = None
) -> str:
    """The FAQ page as Markdown: a heading per category, one per question."""
    chosen = public_answers(answers, language=language)
    lang = _language_of(chosen, language)
    out = [
        f"# {_one_line(shop_name)}: {_PAGE_TITLE[lang]}" if shop_name else f"# {_PAGE_TITLE[lang]}"
    ]
    category = None
    for answer in chosen:
        if answer.category != category:
            category = answer.category
            out.append(f"\n## {CATEGORY_TITLES[lang].get(category, category)}")
        out.append(f"\n### {_one_line(answer.title)}\n")
        out.append(strip_controls(neutral_body(answer.body, shop_name=shop_name)))
    return "\n".join(out).rstrip() + "\n"


def _one_line(text: str) -> str:
    return " ".join(strip_controls(text).split())


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})


def faq_html(
    answers: Sequence[CannedAnswer], *, shop_name: str, language: str | None = None
) -> str:
    """The FAQ page as a standalone, escaped HTML document."""
    chosen = public_answers(answers, language=language)
    lang = _language_of(chosen, language)
    title = f"{_one_line(shop_name)}: {_PAGE_TITLE[lang]}" if shop_name else _PAGE_TITLE[lang]
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5}details{margin:.5rem 0}summary{cursor:pointer;"
        "font-weight:600}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(title)}</h1>",
    ]
    category = None
    for answer in chosen:
        if answer.category != category:
            if category is not None:
                parts.append("</section>")
            category = answer.category
            heading = CATEGORY_TITLES[lang].get(category, category)
            parts.append(f'<section id="{esc(category)}">')
            parts.append(f"<h2>{esc(heading)}</h2>")
        body = _markdown.render(strip_controls(neutral_body(answer.body, shop_name=shop_name)))
        parts.append(f'<details id="{esc(answer.slug)}">')
        parts.append(f"<summary>{esc(_one_line(answer.title))}</summary>")
        parts.append(body.rstrip("\n"))
        parts.append("</details>")
    if category is not None:
        parts.append("</section>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
