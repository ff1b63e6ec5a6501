"""Routing rules: the built-in categories in Spanish and English, and the config's own rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cs_console.desk.routing import RoutingInput, RoutingRule, RoutingSettings, fold, route

DEFAULTS = RoutingSettings()


@pytest.mark.parametrize(
    ("subject", "text", "category"),
    [
        ("¿Dónde está mi pedido?", "", "order_status"),
        ("Consulta", "¿Dónde está mi pedido? Lo hice el lunes.", "order_status"),
        ("Order status", "Where is my order #1234?", "order_status"),
        ("Devolución", "Hola, quiero devolver las zapatillas.", "returns"),
        ("Return", "I'd like a refund for the jacket", "returns"),
        ("Cobro", "Me habéis cobrado dos veces el pedido", "payment"),
        ("Charge", "I was charged twice for order 55", "payment"),
        ("Tarjeta", "Mi tarjeta fue rechazada al pagar", "payment"),
        ("Envío", "El transportista dice que lo entregó pero no ha llegado", "delivery"),
        ("Shipping", "My parcel has not arrived, tracking shows nothing", "delivery"),
        ("Cancelar", "Quiero cancelar mi pedido 123", "cancellation"),
        ("Cancel", "Please cancel my order", "cancellation"),
        ("Garantía", "La batidora ha dejado de funcionar a los tres meses", "warranty"),
        ("Warranty", "The kettle stopped working", "warranty"),
        ("Pregunta", "¿Tenéis esta camiseta en talla M?", "product_question"),
        ("Question", "Is the blue model in stock?", "product_question"),
        ("Hola", "Buenos días", "other"),
    ],
)
def test_default_categories(subject: str, text: str, category: str) -> None:
    assert route(DEFAULTS, RoutingInput(subject=subject, text=text)).category == category


@pytest.mark.parametrize(
    ("text", "priority"),
    [("Es URGENTE, por favor", "high"), ("I need it asap", "high"), ("Sin prisa", "normal")],
)
def test_urgency_raises_priority(text: str, priority: str) -> None:
    decision = route(DEFAULTS, RoutingInput(text=text))
    assert decision.priority == priority
    assert ("urgent" in decision.tags) == (priority == "high")


RULES = RoutingSettings(
    rules=[
        RoutingRule(
            name="vip",
            sender=["*@bigclient.com"],
            priority="urgent",
            tags=["vip"],
            assignee="lucia",
        ),
        RoutingRule(
            name="wholesale", recipient=["mayoristas@*"], category="wholesale", tags=["b2b"]
        ),
        RoutingRule(name="amazon", headers={"x-mailer": "amazon*"}, category="marketplace"),
        RoutingRule(name="chat", channel="chat", tags=["chat"]),
    ]
)


@pytest.mark.parametrize(
    ("data", "category", "priority", "tags", "assignee"),
    [
        (
            RoutingInput(sender="Boss@BigClient.com", text="quiero devolver"),
            "returns",
            "urgent",
            ("vip",),
            "lucia",
        ),
        (
            RoutingInput(recipients=["mayoristas@tienda.es"], text="pedido grande"),
            "wholesale",
            "normal",
            ("b2b",),
            None,
        ),
        (
            RoutingInput(headers={"x-mailer": "Amazon Seller"}, text="hola"),
            "marketplace",
            "normal",
            (),
            None,
        ),
        (
            RoutingInput(channel="chat", text="urgente: mi pedido"),
            "order_status",
            "high",
            ("chat", "urgent"),
            None,
        ),
        (RoutingInput(sender="a@other.com", text="hola"), "other", "normal", (), None),
    ],
)
def test_config_rules_come_first_and_tags_add_up(
    data: RoutingInput, category: str, priority: str, tags: tuple[str, ...], assignee: str | None
) -> None:
    decision = route(RULES, data)
    assert (decision.category, decision.priority, decision.tags, decision.assignee) == (
        category,
        priority,
        tags,
        assignee,
    )


def test_defaults_can_be_turned_off() -> None:
    settings = RoutingSettings(use_defaults=False)
    assert route(settings, RoutingInput(text="quiero devolver")).category == "other"


def test_keywords_respect_word_boundaries_and_prefixes() -> None:
    rule = RoutingSettings(
        use_defaults=False, rules=[RoutingRule(keywords=["devol*", "pay"], category="x")]
    )
    assert route(rule, RoutingInput(text="La DEVOLUCIÓN")).category == "x"
    assert route(rule, RoutingInput(text="paypal")).category == "other"
    assert route(rule, RoutingInput(text="I want to pay")).category == "x"


def test_a_rule_needs_a_criterion_and_a_known_priority() -> None:
    assert (
        route(
            RoutingSettings(use_defaults=False, rules=[RoutingRule(category="x")]),
            RoutingInput(text="a"),
        ).category
        == "other"
    )
    with pytest.raises(ValidationError):
        RoutingRule(keywords=["a"], priority="whenever")


def test_settings_from_toml_shape() -> None:
    settings = RoutingSettings.model_validate(
        {"rules": [{"name": "vip", "sender": "*@vip.com", "priority": "high", "tags": "vip"}]}
    )
    assert settings.rules[0].sender == ["*@vip.com"] and settings.rules[0].tags == ["vip"]


def test_fold() -> None:
    assert fold("Devolución ÑANDÚ") == "devolucion nandu"
