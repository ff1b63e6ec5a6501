"""Style hints of the writing assistant, firing and not firing, in es and en."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_console.desk.canned import render, starter_answers
from cs_console.desk.writing import (
    ALL_CODES,
    WritingSettings,
    count_ideas,
    customer_questions,
    lint_reply,
)

NO_SPELLING = WritingSettings(enabled=ALL_CODES - {"spelling"})

GOOD_ES = (
    "Hola, Ana:\n\n"
    "Gracias por escribirnos. Tu pedido 12345 salió ayer y llegará el jueves.\n\n"
    "Te enviamos el enlace de seguimiento por correo para que puedas seguirlo.\n\n"
    "Un saludo,\nLuis"
)
GOOD_EN = (
    "Hi Tom,\n\n"
    "Thank you for writing to us. Your order 12345 left yesterday and arrives on Thursday.\n\n"
    "We have emailed you the tracking link so you can follow it.\n\n"
    "Best regards,\nLuis"
)
THREE_IDEAS_ES = GOOD_ES.replace(
    "\n\nUn saludo",
    "\n\nAdemás, la semana que viene tenemos rebajas en toda la tienda.\n\nUn saludo",
)
THREE_IDEAS_EN = GOOD_EN.replace(
    "\n\nBest regards", "\n\nAlso, next week we have a sale on the whole shop.\n\nBest regards"
)
LONG_PARAGRAPH_EN = (
    "Hi Tom,\n\nYour order left today. It goes by courier. The courier is fast. "
    "You will get a link. The link shows the route. You can change the date. "
    "Or pick it up.\n\nThanks,\nLuis"
)


def codes(text: str, language: str, **kwargs: object) -> set[str]:
    options = {"settings": NO_SPELLING, **kwargs}
    return {h.code for h in lint_reply(text, language=language, **options)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "language", "text", "kwargs", "fires"),
    [
        # too_short
        ("too_short", "es", "ok", {}, True),
        ("too_short", "es", "Sí.", {}, True),
        ("too_short", "en", "Done", {}, True),
        ("too_short", "en", "yes, it shipped", {}, True),
        ("too_short", "es", GOOD_ES, {}, False),
        ("too_short", "en", GOOD_EN, {}, False),
        # too_many_ideas
        ("too_many_ideas", "es", THREE_IDEAS_ES, {}, True),
        ("too_many_ideas", "en", THREE_IDEAS_EN, {}, True),
        ("too_many_ideas", "en", LONG_PARAGRAPH_EN, {}, True),
        ("too_many_ideas", "es", GOOD_ES, {}, False),
        ("too_many_ideas", "en", GOOD_EN, {}, False),
        # jargon
        ("jargon", "es", GOOD_ES.replace("Tu pedido", "Tu SKU"), {}, True),
        ("jargon", "en", GOOD_EN.replace("Your order", "Your backorder"), {}, True),
        ("jargon", "en", GOOD_EN.replace("left", "was escalated"), {}, True),
        ("jargon", "es", GOOD_ES, {}, False),
        (
            "jargon",
            "en",
            GOOD_EN.replace("Your order", "Your sla"),
            {},
            False,
        ),  # SLA: capitals only
        # no_greeting
        ("no_greeting", "es", GOOD_ES.replace("Hola, Ana:", "Ana:"), {}, True),
        ("no_greeting", "en", GOOD_EN.replace("Hi Tom,", "Tom,"), {}, True),
        ("no_greeting", "es", GOOD_ES.replace("Hola", "Buenos días"), {}, False),
        ("no_greeting", "es", GOOD_ES, {}, False),
        ("no_greeting", "en", GOOD_EN.replace("Hi Tom", "Dear Tom"), {}, False),
        ("no_greeting", "en", GOOD_EN.replace("Hi Tom", "Hiya Tom"), {}, True),
        # no_closing
        ("no_closing", "es", GOOD_ES.replace("Un saludo,\nLuis", "Luis"), {}, True),
        ("no_closing", "en", GOOD_EN.replace("Best regards,\nLuis", "Luis"), {}, True),
        ("no_closing", "es", GOOD_ES, {}, False),
        ("no_closing", "es", GOOD_ES.replace("Un saludo", "Atentamente"), {}, False),
        ("no_closing", "en", GOOD_EN, {}, False),
        ("no_closing", "en", GOOD_EN.replace("Best regards,\nLuis", "Thanks again!"), {}, False),
        # shouting
        ("shouting", "es", "HOLA ANA, YA HEMOS ENVIADO TU PEDIDO. UN SALUDO", {}, True),
        ("shouting", "en", GOOD_EN.replace("Thank you", "PLEASE DO NOT REPLY"), {}, True),
        ("shouting", "es", GOOD_ES, {}, False),
        ("shouting", "en", GOOD_EN.replace("Your order", "Your DHL UPS order"), {}, False),
        (
            "shouting",
            "en",
            GOOD_EN.replace("Your order", "Your ACME SUPER BOX order"),
            {
                "settings": WritingSettings(
                    enabled=ALL_CODES - {"spelling"}, shop_words=("ACME SUPER BOX",)
                )
            },
            False,
        ),
        # unanswered_question
        (
            "unanswered_question",
            "es",
            GOOD_ES,
            {"customer_message": "¿Hacéis envíos a Canarias?"},
            True,
        ),
        (
            "unanswered_question",
            "en",
            GOOD_EN,
            {"customer_message": "Can I pay with PayPal?"},
            True,
        ),
        (
            "unanswered_question",
            "es",
            GOOD_ES,
            {"customer_message": "Hola, ¿cuándo llega mi pedido?"},
            False,
        ),
        (
            "unanswered_question",
            "en",
            GOOD_EN,
            {"customer_message": "Where is my order? Thanks"},
            False,
        ),
        ("unanswered_question", "en", GOOD_EN, {"customer_message": "Hello??"}, False),
        ("unanswered_question", "en", GOOD_EN, {"customer_message": "It is late."}, False),
        # no_customer_name
        ("no_customer_name", "es", GOOD_ES, {"customer_name": "Marta Ruiz"}, True),
        ("no_customer_name", "en", GOOD_EN, {"customer_name": "Sarah Connor"}, True),
        ("no_customer_name", "es", GOOD_ES, {"customer_name": "Ana García"}, False),
        ("no_customer_name", "es", GOOD_ES, {"customer_name": "ÁNA"}, False),
        ("no_customer_name", "en", GOOD_EN, {"customer_name": "Tom Jones"}, False),
        ("no_customer_name", "en", GOOD_EN, {"customer_name": None}, False),
        ("no_customer_name", "en", GOOD_EN, {"customer_name": "x@example.com"}, False),
    ],
)
def test_hint_fires_or_not(
    code: str, language: str, text: str, kwargs: dict[str, object], fires: bool
) -> None:
    assert (code in codes(text, language, **kwargs)) is fires


@pytest.mark.parametrize("language", ["es", "en"])
def test_good_reply_has_no_hints(language: str) -> None:
    text = GOOD_ES if language == "es" else GOOD_EN
    name = "Ana" if language == "es" else "Tom"
    assert lint_reply(text, language=language, customer_name=name) == []


@pytest.mark.parametrize("answer", starter_answers(), ids=lambda a: a.slug)
def test_starter_answers_pass_the_assistant(answer: object) -> None:
    rendered = render(
        answer.body,  # type: ignore[attr-defined]
        {
            "customer_first_name": "Ana",
            "order_number": "12345",
            "agent_name": "Luis",
            "shop_name": "La Tienda Verde",
        },
    )
    hints = lint_reply(
        rendered.text,
        language=answer.language,  # type: ignore[attr-defined]
        customer_name="Ana García",
        settings=NO_SPELLING,
    )
    assert hints == []


@pytest.mark.parametrize("code", sorted(ALL_CODES - {"spelling"}))
def test_every_hint_can_be_turned_off(code: str) -> None:
    bad = "ok"
    settings_ = WritingSettings(enabled=frozenset({code}))
    everything = lint_reply(
        "ESTO ES TODO OK, SLA\n\nA.\n\nB b b.\n\nC c c.\n\nD d d.",
        language="es",
        customer_message="¿Hacéis envíos a Canarias?",
        customer_name="Marta",
        settings=settings_,
    ) + lint_reply(bad, language="en", settings=settings_)
    assert {h.code for h in everything} == {code}
    off = WritingSettings(enabled=ALL_CODES - {code, "spelling"})
    assert code not in {
        h.code
        for h in lint_reply(
            "ESTO ES TODO OK, SLA\n\nA.\n\nB b b.\n\nC c c.\n\nD d d.",
            language="es",
            customer_message="¿Hacéis envíos a Canarias?",
            customer_name="Marta",
            settings=off,
        )
    }


def test_messages_follow_the_reply_language() -> None:
    es = lint_reply("ok", language="es", settings=NO_SPELLING)
    en = lint_reply("ok", language="en", settings=NO_SPELLING)
    short_es = next(h for h in es if h.code == "too_short")
    short_en = next(h for h in en if h.code == "too_short")
    assert "breve" in short_es.message
    assert "short" in short_en.message


def test_jargon_hint_has_position_and_word() -> None:
    text = "Hi Tom, your RMA is ready."
    hint = next(
        h for h in lint_reply(text, language="en", settings=NO_SPELLING) if h.code == "jargon"
    )
    assert (hint.start, hint.end) == (13, 16)
    assert "RMA" in hint.message


def test_custom_jargon_list() -> None:
    settings_ = WritingSettings(enabled=frozenset({"jargon"}), jargon=("almacén central",))
    hints = lint_reply("Está en el Almacén  Central.", language="es", settings=settings_)
    assert [(h.start, h.end) for h in hints] == [(11, 27)]


def test_shop_words_are_not_jargon() -> None:
    settings_ = WritingSettings(enabled=frozenset({"jargon"}), shop_words=("Picking",))
    assert lint_reply("Our Picking range is back.", language="en", settings=settings_) == []


def test_unanswered_question_suggests_its_words() -> None:
    hints = lint_reply(
        GOOD_EN,
        language="en",
        customer_message="Hi! Do you ship to Canada? Thanks",
        settings=WritingSettings(enabled=frozenset({"unanswered_question"})),
    )
    assert len(hints) == 1
    assert "ship" in hints[0].suggestions and "canada" in hints[0].suggestions
    assert "Do you ship to Canada?" in hints[0].message


def test_customer_questions() -> None:
    assert customer_questions("Hola. ¿Dónde está? No sé. ¿Y el otro") == [
        "¿Dónde está?",
        "¿Y el otro",
    ]
    assert customer_questions("Where is it? And when?") == ["Where is it?", "And when?"]
    assert customer_questions("No questions here.") == []
    assert customer_questions("Can I pay\nby card?\n\nThanks") == ["Can I pay by card?"]
    assert customer_questions("Thanks\n\n¿Y el\notro?") == ["¿Y el otro?"]


def test_count_ideas() -> None:
    assert count_ideas(GOOD_EN, language="en") == 2
    assert count_ideas(THREE_IDEAS_ES, language="es") == 3
    assert count_ideas(LONG_PARAGRAPH_EN, language="en") == 3
    assert count_ideas("", language="en") == 0
    assert count_ideas("Hi Tom,\n\nBest regards,\nLuis", language="en") == 0


def test_placed_hints_come_first_in_text_order() -> None:
    hints = lint_reply(
        "Your SLA and RMA.", language="en", settings=NO_SPELLING, customer_name="Tom"
    )
    starts = [h.start for h in hints if h.start is not None]
    assert starts == sorted(starts)
    first_unplaced = next(i for i, h in enumerate(hints) if h.start is None)
    assert all(h.start is None for h in hints[first_unplaced:])


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=300),
    message=st.one_of(st.none(), st.text(max_size=100)),
    name=st.one_of(st.none(), st.text(max_size=20)),
    language=st.sampled_from(["es", "en", "fr"]),
)
def test_lint_never_raises_and_positions_are_valid(
    text: str, message: str | None, name: str | None, language: str
) -> None:
    for hint in lint_reply(text, language=language, customer_message=message, customer_name=name):
        assert hint.code in ALL_CODES
        assert hint.message
        if hint.start is not None:
            assert hint.end is not None
            assert 0 <= hint.start <= hint.end <= len(text)


def test_question_in_hint_is_one_clean_line() -> None:
    hints = lint_reply(
        GOOD_EN,
        language="en",
        customer_message="Hello.\n\nCan I pay\n with \x1bPayPal\x07 instead?",
        settings=WritingSettings(enabled=frozenset({"unanswered_question"})),
    )
    assert len(hints) == 1
    assert "\x1b" not in hints[0].message and "\x07" not in hints[0].message
    assert "\n" not in hints[0].message
    assert hints[0].suggestions == ("pay", "paypal", "instead")
