"""A realistic demo queue: about 200 tickets over the last weeks, in Spanish and English.

Deterministic for a given seed and ``now``, so tests and screenshots are stable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from cs_console.desk import tickets as t
from cs_console.i18n import _
from cs_console.store.models import Direction, Status

AGENTS = (("lucia", "Lucía Fernández"), ("marc", "Marc Puig"), ("sam", "Sam Taylor"))

CUSTOMERS_ES = (
    "José Muñoz",
    "Begoña Ibáñez",
    "Lucía Gómez",
    "Carmen Ruiz",
    "Javier Martín",
    "Nuria Sànchez",
    "Íñigo Etxeberria",
    "María José Peña",
    "Álvaro Castaño",
    "Rocío Núñez",
    "Andrés Ortega",
    "Pilar Domínguez",
    "Sergio Vidal",
    "Elena Sáez",
    "Raúl Herrero",
)
CUSTOMERS_EN = (
    "Emily Clarke",
    "James O'Connor",
    "Priya Patel",
    "Tom Becker",
    "Olivia Brown",
    "Noah Williams",
    "Grace Kim",
    "Liam Murphy",
    "Chloe Martin",
    "Daniel Evans",
)


@dataclass(frozen=True)
class _Case:
    category: str
    language: str
    subject: str
    body: str
    reply: str


_CASES = (
    _Case(
        "order_status",
        "es",
        "¿Dónde está mi pedido {order}?",
        "Hola,\n\nhice el pedido {order} hace cinco días y todavía no sé nada. ¿Me podéis decir "
        "dónde está?\n\nGracias,\n{name}",
        "Hola {first},\n\ntu pedido {order} salió ayer de nuestro almacén y llegará en 24-48 h. "
        "Te he enviado el enlace de seguimiento.\n\nUn saludo,\n{agent}",
    ),
    _Case(
        "order_status",
        "en",
        "Order {order} status?",
        "Hi,\n\nI placed order {order} last week and the tracking page hasn't changed in days. "
        "Can you check?\n\nThanks,\n{name}",
        "Hi {first},\n\nyour order {order} is with the courier and due tomorrow. "
        "Here is the tracking link again.\n\nBest,\n{agent}",
    ),
    _Case(
        "delivery",
        "es",
        "El paquete no ha llegado",
        "Buenas tardes,\n\nsegún el seguimiento el pedido {order} se entregó ayer pero yo no he "
        "recibido nada. No estaba en casa. ¿Qué hago?\n\n{name}",
        "Hola {first},\n\nhemos abierto una reclamación con la agencia; en 48 h te decimos algo. "
        "Si no aparece, te enviamos otro sin coste.\n\nUn saludo,\n{agent}",
    ),
    _Case(
        "delivery",
        "en",
        "Parcel arrived damaged",
        "Hello,\n\nthe box for order {order} arrived crushed and the mug inside is broken. "
        "Photos attached.\n\n{name}",
        "Hi {first},\n\nI'm sorry it arrived like that. A replacement leaves today; no need to "
        "send the broken one back.\n\nBest,\n{agent}",
    ),
    _Case(
        "returns",
        "es",
        "Quiero devolver unas zapatillas",
        "Hola,\n\nlas zapatillas del pedido {order} me quedan pequeñas. ¿Cómo hago la devolución? "
        "¿Puedo cambiarlas por una talla más?\n\nGracias\n{name}",
        "Hola {first},\n\npuedes cambiarlas sin coste: te he enviado la etiqueta de devolución "
        "por correo. Cuando la agencia las recoja, enviamos la talla 42.\n\nUn saludo,\n{agent}",
    ),
    _Case(
        "returns",
        "en",
        "Refund not received",
        "Hi,\n\nI returned order {order} two weeks ago and still have no refund. "
        "When will I get my money back?\n\n{name}",
        "Hi {first},\n\nyour return arrived on Monday and the refund went out today; banks take "
        "3-5 working days to show it.\n\nBest,\n{agent}",
    ),
    _Case(
        "payment",
        "es",
        "Me habéis cobrado dos veces",
        "Hola,\n\nen el extracto del banco aparecen dos cargos de 59,90 € por el pedido {order}. "
        "Por favor, devolvedme uno.\n\n{name}",
        "Hola {first},\n\ntienes razón: el segundo cargo era una preautorización que el banco "
        "libera en unos días. Si el lunes sigue ahí, escríbenos.\n\nUn saludo,\n{agent}",
    ),
    _Case(
        "payment",
        "en",
        "Card declined at checkout",
        "Hello,\n\nmy card keeps getting declined when I try to pay. It works everywhere else. "
        "Can I pay another way?\n\n{name}",
        "Hi {first},\n\nsome banks block the first online payment to a new shop; you can also "
        "pay with PayPal or by bank transfer.\n\nBest,\n{agent}",
    ),
    _Case(
        "cancellation",
        "es",
        "Cancelar pedido {order}",
        "Hola,\n\nme he equivocado de color. ¿Podéis cancelar el pedido {order} antes de que "
        "salga?\n\nGracias,\n{name}",
        "Hola {first},\n\nhemos cancelado el pedido {order} y el reembolso ya está en marcha."
        "\n\nUn saludo,\n{agent}",
    ),
    _Case(
        "cancellation",
        "en",
        "Please cancel my order",
        "Hi,\n\nI ordered twice by mistake. Please cancel order {order}.\n\n{name}",
        "Hi {first},\n\ndone: order {order} is cancelled and you won't be charged."
        "\n\nBest,\n{agent}",
    ),
    _Case(
        "product_question",
        "es",
        "Duda sobre la talla del abrigo",
        "Hola,\n\nmido 1,70 y peso 65 kg. ¿Qué talla del abrigo de lana me recomendáis? "
        "¿Abriga de verdad para la nieve?\n\n{name}",
        "Hola {first},\n\ncon tus medidas te irá bien la M. Abriga mucho, aunque para nieve "
        "intensa recomendamos el modelo con capucha.\n\nUn saludo,\n{agent}",
    ),
    _Case(
        "product_question",
        "en",
        "Is the kettle dishwasher safe?",
        "Hi,\n\nbefore I buy: is the enamel kettle dishwasher safe and does it work on "
        "induction hobs?\n\n{name}",
        "Hi {first},\n\nit works on induction; we recommend washing it by hand to keep the "
        "enamel shiny.\n\nBest,\n{agent}",
    ),
    _Case(
        "warranty",
        "es",
        "La batería ya no carga",
        "Hola,\n\ncompré el altavoz hace 8 meses (pedido {order}) y la batería ya no carga. "
        "¿Entra en garantía?\n\n{name}",
        "Hola {first},\n\nsí, está en garantía. Te enviamos una etiqueta para que nos lo mandes "
        "y lo reparamos o cambiamos.\n\nUn saludo,\n{agent}",
    ),
    _Case(
        "warranty",
        "en",
        "Zip broke after a month",
        "Hello,\n\nthe zip of my backpack (order {order}) broke after a month. Is this covered?"
        "\n\n{name}",
        "Hi {first},\n\nyes, that's covered. A new backpack is on its way.\n\nBest,\n{agent}",
    ),
)


@dataclass(frozen=True)
class DemoSummary:
    tickets: int
    messages: int
    agents: int


def seed_demo(session: Session, *, now: datetime, count: int = 200, seed: int = 7) -> DemoSummary:
    """Fill an empty database with a believable queue ending at ``now``."""
    rng = random.Random(seed)
    agents = [
        t.get_or_create_agent(session, name, now=now - timedelta(days=60), display_name=display)
        for name, display in AGENTS
    ]
    messages = 0
    for index in range(count):
        case = rng.choice(_CASES)
        names = CUSTOMERS_ES if case.language == "es" else CUSTOMERS_EN
        name = rng.choice(names)
        address = _address(name, index % 3)
        customer = t.get_or_create_customer(
            session, address, name=name, now=now - timedelta(days=40)
        )
        order = f"{'PED' if case.language == 'es' else 'ORD'}-{rng.randint(10000, 99999)}"
        values = {"order": order, "name": name, "first": name.split()[0]}
        # Most tickets are recent; a few weeks of history behind them.
        age = (
            timedelta(minutes=rng.randint(5, 60 * 24 * 3))
            if index % 3
            else timedelta(hours=rng.randint(72, 24 * 28))
        )
        created = now - age
        ticket = t.create_ticket(
            session,
            customer=customer,
            subject=case.subject.format(**values),
            now=created,
            channel="email" if index % 7 else rng.choice(("form", "chat")),
            category=case.category,
            priority=rng.choices(("low", "normal", "high", "urgent"), weights=(2, 10, 3, 1))[0],
            language=case.language,
            account="demo",
        )
        t.add_message(
            session,
            ticket,
            direction=Direction.IN.value,
            now=created,
            from_name=name,
            from_address=customer.email,
            subject=ticket.subject,
            body_text=case.body.format(**values),
            new_text=case.body.format(**values),
            message_id=f"demo-{index}@customer.example",
        )
        messages += 1
        agent = rng.choice(agents)
        stage = rng.random()
        if age > timedelta(days=3) or stage > 0.55:
            t.assign(session, ticket, agent, now=created + timedelta(minutes=5))
            replied = created + timedelta(minutes=rng.randint(20, 60 * 20))
            if replied < now:
                reply = case.reply.format(**values, agent=agent.display_name or agent.name)
                t.add_message(
                    session,
                    ticket,
                    direction=Direction.OUT.value,
                    now=replied,
                    agent_id=agent.id,
                    from_name=agent.display_name or agent.name,
                    from_address="hola@tienda.example",
                    subject=f"Re: {ticket.subject} [#{ticket.id}]",
                    body_text=reply,
                    new_text=reply,
                    message_id=f"demo-reply-{index}@tienda.example",
                )
                messages += 1
                final = rng.choice((Status.SOLVED, Status.SOLVED, Status.PENDING, Status.OPEN))
                if age > timedelta(days=3):
                    final = Status.SOLVED if rng.random() < 0.85 else Status.CLOSED
                t.set_status(session, ticket, final.value, now=replied, agent_id=agent.id)
        elif stage > 0.4:
            t.set_status(session, ticket, Status.OPEN.value, now=created + timedelta(minutes=2))
            t.add_tag(
                session, ticket, rng.choice(("vip", "repeat", "urgent-shipping")), now=created
            )
        if index % 11 == 0:
            t.add_message(
                session,
                ticket,
                direction=Direction.NOTE.value,
                now=created + timedelta(minutes=30),
                agent_id=agent.id,
                from_name=agent.display_name or agent.name,
                body_text="Revisado con almacén."
                if case.language == "es"
                else "Checked with the warehouse.",
            )
            messages += 1
    session.flush()
    return DemoSummary(tickets=count, messages=messages, agents=len(agents))


def _address(name: str, variant: int) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    user = ".".join(part for part in plain.replace("'", "").split())
    domain = ("correo.example", "mail.example", "shop-customer.example")[variant]
    return f"{user}@{domain}"


DEMO_CONFIG = """\
# A demo workspace of cs-console: nothing here touches your real workspace.
# Replies are "sent" as .eml files into the outbox-sent folder beside this file.

[shop]
name = "Tienda Demo"
timezone = "Europe/Madrid"
language = "{language}"
country = "ES"

[agent]
name = "lucia"
display_name = "Lucía Fernández"

[storage]
data_dir = "data"

[outbox]
undo_seconds = 10
deliver_to_folder = "outbox-sent"
"""


def create_demo_workspace(
    folder: Path, *, now: datetime, language: str = "es", count: int = 200
) -> Path:
    """Write a demo workspace into ``folder`` (config, database, queue); return the config path.

    Raises:
        DeskError: ``folder`` already holds something other than a demo workspace.
    """
    from cs_console.errors import DeskError
    from cs_console.store.database import open_database
    from cs_console.store.engine import session_scope

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    if any(folder.iterdir()) and not config.exists():
        raise DeskError(
            _("{folder} is not empty and is not a demo workspace; choose another folder").format(
                folder=folder
            )
        )
    config.write_text(DEMO_CONFIG.format(language=language), encoding="utf-8")
    data = folder / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    (folder / "outbox-sent").mkdir(exist_ok=True)
    from cs_console.config import load_settings
    from cs_console.desk.ticket_sla import TicketClock
    from cs_console.store.models import Ticket

    settings = load_settings(config)
    engine = open_database(settings.database_url)
    try:
        with session_scope(engine) as session:
            seed_demo(session, now=now, count=count)
            TicketClock(settings).refresh_many(session, session.exec(select(Ticket)).all(), now=now)
    finally:
        engine.dispose()
    return config
