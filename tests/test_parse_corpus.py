"""Every corpus email parses to what a person reading it would expect."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cs_console.mail.parse import ParsedMessage, parse_message

CORPUS = Path(__file__).parent / "data" / "mail"


@dataclass(frozen=True)
class Expect:
    """What one corpus file must yield; empty fields are not checked."""

    subject: str | None = None
    sender: str | None = None  # "Name <address>" as str(Address), or "" for none
    new_has: tuple[str, ...] = ()
    new_lacks: tuple[str, ...] = ()
    quoted_has: tuple[str, ...] = ()
    signature_has: tuple[str, ...] = ()
    attachments: tuple[str, ...] | None = None
    inline: tuple[str, ...] = ()
    warnings_has: tuple[str, ...] = ()
    no_warnings: bool = False
    language: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


EXPECTED: dict[str, Expect] = {
    "es_order_status_plain.eml": Expect(
        subject="¿Dónde está mi pedido? nº 10452",
        sender="José Muñoz <Jose.Munoz@correo.es>",
        new_has=("pedido nº 10452", "¿Podéis decirme cuándo saldrá?"),
        attachments=(),
        no_warnings=True,
        language="es",
    ),
    "en_product_question.eml": Expect(
        subject="Question about the bamboo cutting board sizes",
        sender="Emma Clarke <emma.clarke@example.co.uk>",
        new_has=("45 x 30 cm", "dishwasher"),
        no_warnings=True,
        language="en",
    ),
    "en_return_request_html_only.eml": Expect(
        subject="Return request for order #20871",
        new_has=(
            "return the running shoes",
            "https://returns.evil.example/login",
            "https://greenshop.example/orders/20871",
            "Trail Runner 42",
        ),
        new_lacks=("<p>", "document.location", "pixel.tracker", "font-family"),
        no_warnings=True,
        language="en",
    ),
    "es_payment_problem_latin1.eml": Expect(
        subject="Problema con el pago (cargo duplicado)",
        sender="Begoña Ibáñez <begona.ibanez@proveedor.es>",
        new_has=("Buenos días", "59,90 euros", "¿Me podéis devolver"),
        no_warnings=True,
        language="es",
    ),
    "en_delivery_multipart_attachment.eml": Expect(
        subject="Damaged delivery - order 30115",
        new_has=("box crushed", "delivery note"),
        attachments=("box.png", "delivery-note-30115.pdf"),
        inline=("box.png",),
        no_warnings=True,
        extra={"html_has": "cid:photo1@greenshop", "content_id": "photo1@greenshop"},
    ),
    "es_reply_quoted_outlook.eml": Expect(
        subject="RE: Problema con el pago (cargo duplicado)",
        sender="Ibáñez, Begoña <begona.ibanez@proveedor.es>",
        new_has=("59,90 €", "Todavía no veo la devolución"),
        new_lacks=("Mensaje original", "Sentimos las molestias"),
        quoted_has=("-----Mensaje original-----", "Sentimos las molestias"),
        no_warnings=True,
        language="es",
    ),
    "en_reply_quoted_gmail.eml": Expect(
        subject="Re: Question about the bamboo cutting board sizes",
        new_has=("ship it to Ireland",),
        new_lacks=("wrote:", "dishwasher"),
        quoted_has=("wrote:", "> It should not go in the dishwasher."),
        no_warnings=True,
        extra={"references": 2, "in_reply_to": "ticket-17.reply-1@greenshop.example"},
    ),
    "es_cancellation_windows1252.eml": Expect(
        subject="Cancelar pedido “urgente”",
        sender="José María Peña <jmpena@correo.example>",
        new_has=("124,50 €", "devolución", "José María Peña"),
        no_warnings=True,
    ),
    "en_cancellation_koi8r_name.eml": Expect(
        sender="Лариса Смирнова <larisa.smirnova@post.example>",
        new_has=("cancel my order 41200", "Лариса Смирнова"),
        no_warnings=True,
        language="en",
    ),
    "es_product_question_iso8859_15.eml": Expect(
        subject="¿Tenéis la mochila en verde oliva?",
        sender="Lucía García <lucia.garcia@ejemplo.es>",
        new_has=("cuesta 45 €",),
        no_warnings=True,
    ),
    "es_warranty.eml": Expect(
        subject="Garantía: la cafetera no calienta",
        sender="Carlos Núñez <carlos.nunez@ejemplo.es>",
        new_has=("no\ncalienta", "¿Entra en la garantía?"),
        new_lacks=("Tel. 600",),
        signature_has=("Carlos Núñez", "Tel. 600 000 000"),
        attachments=("placa.jpg", "factura nº 7781.pdf"),
        no_warnings=True,
    ),
    "auto_reply_out_of_office.eml": Expect(
        subject="Automatic reply: Your order 50210 has shipped",
        new_has=("out of the office",),
        extra={"header": ("auto-submitted", "auto-replied")},
    ),
    "bounce_dsn.eml": Expect(
        subject="Undelivered Mail Returned to Sender",
        sender="Mail Delivery System <MAILER-DAEMON@mx.greenshop.example>",
        new_has=("User unknown",),
        attachments=("message-delivery-status.txt", "text-2.txt"),
        extra={"header": ("return-path", "<>")},
    ),
    "mailing_list.eml": Expect(
        subject="[Supplier News] Nuevos precios de temporada",
        new_has=("nueva tarifa",),
        extra={"header": ("list-id", "Supplier News <news.supplier.example>")},
    ),
    "no_message_id.eml": Expect(
        subject="Cambio de dirección de envío",
        sender="ana.lopez@ejemplo.es",
        new_has=("Calle Mayor 5",),
        no_warnings=True,
        extra={"message_id": None},
    ),
    "rfc2047_subject_and_names.eml": Expect(
        subject="¿Puedo pagar con Bizum? pedido € 13001",
        sender="Ñúñez, Rocío <Rocio.Nunez@ejemplo.es>",
        no_warnings=True,
        extra={
            "to": ["Tienda Verde <soporte@tiendaverde.es>", "Jesús García <jesus@tiendaverde.es>"],
            "cc": ["Begoña <begona@tiendaverde.es>"],
            "reply_to": ["Rocío (trabajo) <rocio@trabajo.example>"],
        },
    ),
    "forwarded_rfc822.eml": Expect(
        subject="Fwd: Incidencia en la entrega de su envío",
        new_has=("Os reenvío el aviso",),
        new_lacks=("dirección incompleta",),
        quoted_has=(
            "Forwarded message",
            "From: Transportes Rápidos <avisos@transportes.example>",
            "Subject: Incidencia en la entrega de su envío",
            "dirección incompleta",
        ),
        attachments=("justificante.pdf",),
        no_warnings=True,
    ),
    "es_reply_mobile_signature.eml": Expect(
        new_has=("Estaré en casa",),
        new_lacks=("Enviado desde", "transportista"),
        signature_has=("Enviado desde mi móvil",),
        quoted_has=("escribió:", "> Tu pedido sale hoy"),
        no_warnings=True,
        language="es",
    ),
    "en_forward_inline.eml": Expect(
        new_has=("money has not arrived",),
        new_lacks=("refunded",),
        quoted_has=("Forwarded message", "refunded 89.00 GBP"),
        no_warnings=True,
    ),
    "es_delivery_inline_photo.eml": Expect(
        new_has=("caja rota", "¿Me enviáis otro jarrón?"),
        attachments=("image-1.png",),
        inline=("image-1.png",),
        no_warnings=True,
    ),
    "en_noreply_notification.eml": Expect(
        sender="Marketplace Notifications <no-reply@marketplace.example>",
        new_has=("4-star review",),
    ),
    "es_human_auto_submitted_no.eml": Expect(
        new_has=("etiqueta de devolución",),
        extra={"header": ("auto-submitted", "no")},
    ),
    "en_reply_outlook_from_sent.eml": Expect(
        new_has=("replacement lamp arrived",),
        new_lacks=("express delivery",),
        quoted_has=("From: Green Shop Help", "express delivery"),
        no_warnings=True,
    ),
    # -- malformed ---------------------------------------------------------------
    "malformed/broken_base64.eml": Expect(
        new_has=("ticket de compra del pedido 17001",),
        attachments=("ticket.pdf",),
        warnings_has=("broken base64",),
    ),
    "malformed/broken_qp.eml": Expect(
        new_has=("no sé por qué", "4242 €"),
        warnings_has=("broken quoted-printable",),
    ),
    "malformed/missing_boundary.eml": Expect(
        new_has=("factura del pedido 17003",),
        new_lacks=("--frontera42", "Content-Type"),
        attachments=("datos.pdf",),
        warnings_has=("no boundary", "guessed 'frontera42'"),
    ),
    "malformed/wrong_boundary.eml": Expect(
        new_has=("pedido 17004 no ha llegado",),
        new_lacks=("--actual",),
        warnings_has=("guessed 'actual'",),
    ),
    "malformed/lying_charset.eml": Expect(
        subject="Devolución urgente",
        new_has=("Begoña Ibáñez", "también en Latin-1"),
        warnings_has=("declared 'us-ascii'", "declared 'utf-8'"),
    ),
    "malformed/unknown_charset.eml": Expect(
        subject="Envío retrasado",
        new_has=("El envío del pedido 17006",),
        warnings_has=("unknown charset 'x-klingon'",),
    ),
    "malformed/headers_only.eml": Expect(
        subject="Solo cabeceras",
        sender="Cliente <cliente@ejemplo.es>",
        attachments=(),
        warnings_has=("no readable body",),
        extra={"text": ""},
    ),
    "malformed/body_only.eml": Expect(
        subject="",
        sender="",
        new_has=("no tengo cabeceras", "Pedido 17007"),
        warnings_has=("no headers",),
    ),
    "malformed/deep_nesting.eml": Expect(
        subject="Muy anidado",
        warnings_has=("deeper than 50 levels",),
    ),
    "malformed/very_deep_nesting.eml": Expect(
        subject="Muy anidado",
        warnings_has=("deeper than 50 levels",),
    ),
    "malformed/many_parts.eml": Expect(
        new_has=("Primera parte: pedido 17008.",),
        warnings_has=("more than 1000 MIME parts",),
    ),
    "malformed/escape_sequences.eml": Expect(
        subject="[bold red]x[/] ]8;;http://evil.example\\click]8;;\\ [2J txt.exe",
        new_has=("Hola [link=http://evil.example]pincha[/link]", "copiado", "fin\nlinea"),
        attachments=("red]gpj.exe",),
        extra={"sender_address": "evil@ejemplo.es"},
    ),
    "malformed/hostile_attachment_names.eml": Expect(
        attachments=(
            "passwd",
            "secret.txt",
            "_CON.txt",
            "a" * 146 + ".pdf",
            "evil.dll",
            "attachment-6",
            "hidden",
            "what_______.txt",
            "_nul",
        ),
    ),
    "malformed/binary_garbage.eml": Expect(subject="", warnings_has=("no headers",)),
    "malformed/duplicate_headers.eml": Expect(
        subject="Asunto uno",
        sender="Primero <primero@ejemplo.es>",
        warnings_has=("duplicate From", "duplicate Subject", "duplicate Message-Id"),
        extra={"message_id": "dup-1@ejemplo.es"},
    ),
    "malformed/truncated.eml": Expect(
        new_has=("se corta en el adjunto",),
        attachments=("corte.pdf",),
        warnings_has=("truncated",),
    ),
    "malformed/bad_date_and_addresses.eml": Expect(
        subject="Fecha rara",
        warnings_has=("unreadable Date header",),
        extra={"date": None, "message_id": "sin-corchetes@ejemplo.es"},
    ),
    "malformed/malformed_rfc2047.eml": Expect(
        sender="José Muñoz <jose@ejemplo.es>",
        new_has=("mal formadas",),
        extra={"subject_has": "fin €"},
    ),
    "malformed/non_ascii_raw_headers.eml": Expect(
        subject="Devolución del pedido nº 17010",
        sender="Begoña Ibáñez <begona@ejemplo.es>",
        new_has=("sin codificar",),
        extra={"to": ["Atención al cliente <soporte@tiendaverde.es>"]},
    ),
    "malformed/empty.eml": Expect(
        subject="", sender="", warnings_has=("no headers", "no readable body")
    ),
}


def test_every_corpus_file_has_expectations() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.eml")}
    assert files == set(EXPECTED)


def _check_extra(m: ParsedMessage, extra: dict[str, object]) -> None:
    for key, want in extra.items():
        if key == "html_has":
            assert m.html is not None and str(want) in m.html
        elif key == "content_id":
            assert want in [a.content_id for a in m.attachments]
        elif key == "header":
            name, value = want  # type: ignore[misc]
            assert m.headers.get(name) == value
        elif key in {"to", "cc", "reply_to"}:
            assert [str(a) for a in getattr(m, key)] == want
        elif key == "references":
            assert len(m.references) == want
        elif key == "in_reply_to":
            assert m.in_reply_to == [want]
        elif key == "subject_has":
            assert str(want) in m.subject
        elif key == "sender_address":
            assert m.sender is not None and m.sender.address == want
        else:
            assert getattr(m, key) == want, key


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name: str) -> None:
    exp = EXPECTED[name]
    m = parse_message((CORPUS / name).read_bytes())
    if exp.subject is not None:
        assert m.subject == exp.subject
    if exp.sender is not None:
        assert (str(m.sender) if m.sender else "") == exp.sender
    for fragment in exp.new_has:
        assert fragment in m.new_text
        assert fragment in m.text
    for fragment in exp.new_lacks:
        assert fragment not in m.new_text
    for fragment in exp.quoted_has:
        assert fragment in m.quoted_text
    for fragment in exp.signature_has:
        assert fragment in m.signature
    if exp.attachments is not None:
        assert tuple(a.filename for a in m.attachments) == exp.attachments
    assert tuple(a.filename for a in m.attachments if a.inline) == exp.inline
    for fragment in exp.warnings_has:
        assert any(fragment in w for w in m.warnings), (fragment, m.warnings)
    if exp.no_warnings:
        assert m.warnings == []
    if exp.language is not None:
        assert m.language == exp.language
    _check_extra(m, exp.extra)
