"""Write the malformed corpus in ``malformed/`` (run again after editing).

These messages hold raw control bytes, deep nesting and thousands of parts,
which are easier to generate than to type. The output is committed, so tests
never run this script; ``python tests/data/mail/make_malformed.py`` rewrites it.
"""

from __future__ import annotations

import base64
import random
from pathlib import Path

OUT = Path(__file__).with_name("malformed")

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

HEAD = (
    b"From: Cliente <cliente@ejemplo.es>\n"
    b"To: soporte@tiendaverde.es\n"
    b"Date: Mon, 31 Mar 2025 10:00:00 +0200\n"
    b"MIME-Version: 1.0\n"
)


def _b64(data: bytes) -> bytes:
    text = base64.b64encode(data)
    return b"\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def broken_base64() -> bytes:
    body = _b64(b"Hola, adjunto el ticket de compra del pedido 17001.\n")
    return (
        HEAD + b"Subject: Ticket de compra\nMessage-ID: <broken-b64@ejemplo.es>\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + body[:20]
        + b"!!**%%"
        + body[20:]
        + b"\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="ticket.pdf"\n\n'
        + _b64(PDF)[:-3]
        + b"\n--b--\n"
    )


def broken_qp() -> bytes:
    return (
        HEAD + b"Subject: Pago rechazado\nMessage-ID: <broken-qp@ejemplo.es>\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        b"Hola, el pago del pedido 17002 me da error =ZZ y no s=C3=A9 por qu=C3=A9.=\n"
        b" Tarjeta terminada en 4242 =E2=82=AC=\nGracias=3"
    )


def missing_boundary() -> bytes:
    return (
        HEAD + b"Subject: Factura sin boundary\nMessage-ID: <missing-boundary@ejemplo.es>\n"
        b"Content-Type: multipart/mixed\n\n"
        b"--frontera42\nContent-Type: text/plain; charset=utf-8\n\n"
        b"Necesito la factura del pedido 17003 a nombre de mi empresa.\n"
        b'--frontera42\nContent-Type: application/pdf; name="datos.pdf"\n'
        b"Content-Transfer-Encoding: base64\n\n" + _b64(PDF) + b"\n--frontera42--\n"
    )


def wrong_boundary() -> bytes:
    return (
        HEAD + b"Subject: Boundary equivocado\nMessage-ID: <wrong-boundary@ejemplo.es>\n"
        b'Content-Type: multipart/mixed; boundary="declared"\n\n'
        b"--actual\nContent-Type: text/plain; charset=utf-8\n\n"
        b"El paquete del pedido 17004 no ha llegado.\n--actual--\n"
    )


def lying_charset() -> bytes:
    return (
        HEAD + b"Subject: =?us-ascii?q?Devoluci=F3n?= urgente\n"
        b"Message-ID: <lying-charset@ejemplo.es>\n"
        b'Content-Type: multipart/mixed; boundary="l"\n\n'
        b"--l\nContent-Type: text/plain; charset=us-ascii\n\n"
        + "Quiero la devolución del pedido 17005, Begoña Ibáñez.\n".encode("latin-1")
        + b"--l\nContent-Type: text/plain; charset=utf-8\n\n"
        + "Segunda parte: también en Latin-1 aunque dice UTF-8.\n".encode("latin-1")
        + b"--l--\n"
    )


def unknown_charset() -> bytes:
    return (
        HEAD + b"Subject: =?x-klingon?q?Env=C3=ADo?= retrasado\n"
        b"Message-ID: <unknown-charset@ejemplo.es>\n"
        b"Content-Type: text/plain; charset=x-klingon\n\n"
        + "El envío del pedido 17006 lleva una semana parado.\n".encode()
    )


def headers_only() -> bytes:
    return HEAD + b"Subject: Solo cabeceras\nMessage-ID: <headers-only@ejemplo.es>\n"


def body_only() -> bytes:
    return b"Hola, no tengo cabeceras. Pedido 17007: quiero saber cuando llega.\nGracias.\n"


def deep_nesting(levels: int = 120) -> bytes:
    parts = [HEAD, b"Subject: Muy anidado\nMessage-ID: <deep@ejemplo.es>\n"]
    parts.append(b'Content-Type: multipart/mixed; boundary="d0"\n\n')
    for i in range(levels):
        parts.append(b'--d%d\nContent-Type: multipart/mixed; boundary="d%d"\n\n' % (i, i + 1))
    parts.append(b"--d%d\nContent-Type: text/plain\n\nfondo del pozo\n" % levels)
    for i in range(levels, -1, -1):
        parts.append(b"--d%d--\n" % i)
    return b"".join(parts)


def many_parts(count: int = 3000) -> bytes:
    parts = [HEAD, b"Subject: Miles de partes\nMessage-ID: <many@ejemplo.es>\n"]
    parts.append(b'Content-Type: multipart/mixed; boundary="m"\n\n')
    parts.append(b"--m\nContent-Type: text/plain\n\nPrimera parte: pedido 17008.\n")
    for i in range(count):
        parts.append(b"--m\nContent-Type: application/octet-stream\n\nx%d\n" % i)
    parts.append(b"--m--\n")
    return b"".join(parts)


ESC_SUBJECT = (
    "[bold red]x[/] \x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\ \x1b[2J \u202etxt.exe"
)


def escape_sequences() -> bytes:
    return (
        b"From: \x1b[31m[bold]Evil[/bold]\x1b[0m \xe2\x80\xae <evil@ejemplo.es>\n"
        b"To: soporte@tiendaverde.es\nDate: Mon, 31 Mar 2025 10:00:00 +0200\n"
        b"Subject: " + ESC_SUBJECT.encode() + b"\n"
        b"Message-ID: <escapes@ejemplo.es>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="e"\n\n'
        b"--e\nContent-Type: text/plain; charset=utf-8\n\n"
        b"Hola [link=http://evil.example]pincha[/link]\n"
        b"\x1b]52;c;ZWNobyBwd25lZA==\x07copiado\n\x1b[2J\x1b[Hborrado\n"
        b"\x9b31mC1 CSI\x9b0m\r\nfin\rlinea\n"
        b"--e\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="\x1b[2J[red]evil[/red]\xe2\x80\xaegpj.exe"\n\n'
        b"data\n--e--\n"
    )


def hostile_attachment_names() -> bytes:
    long_name = "a" * 300 + ".pdf"
    names = [
        "../../etc/passwd",
        "/abs/path/secret.txt",
        "CON.txt",
        long_name,
        "C:\\Windows\\System32\\evil.dll",
        "..",
        "   .hidden",
        'what<>:"|?*.txt',
        "nul",
    ]
    parts = [
        HEAD,
        b"Subject: Adjuntos raros\nMessage-ID: <names@ejemplo.es>\n",
        b'Content-Type: multipart/mixed; boundary="n"\n\n',
        b"--n\nContent-Type: text/plain\n\nVarios adjuntos.\n",
    ]
    for name in names:
        parts.append(
            b"--n\nContent-Type: application/octet-stream\n"
            b'Content-Disposition: attachment; filename="' + name.encode() + b'"\n\nx\n'
        )
    parts.append(b"--n--\n")
    return b"".join(parts)


def binary_garbage() -> bytes:
    rng = random.Random(1234)
    return bytes(rng.randrange(256) for _ in range(4096))


def duplicate_headers() -> bytes:
    return (
        b"From: Primero <primero@ejemplo.es>\nFrom: Segundo <segundo@ejemplo.es>\n"
        b"To: soporte@tiendaverde.es\nSubject: Asunto uno\nSubject: Asunto dos\n"
        b"Message-ID: <dup-1@ejemplo.es>\nMessage-ID: <dup-2@ejemplo.es>\n"
        b"Date: Mon, 31 Mar 2025 10:00:00 +0200\nDate: Tue, 1 Apr 2025 10:00:00 +0200\n"
        b"Content-Type: text/plain; charset=utf-8\n\nCabeceras duplicadas, pedido 17009.\n"
    )


def truncated() -> bytes:
    return (
        HEAD + b"Subject: Cortado\nMessage-ID: <truncated@ejemplo.es>\n"
        b'Content-Type: multipart/mixed; boundary="t"\n\n'
        b"--t\nContent-Type: text/plain; charset=utf-8\n\nEl mensaje se corta en el adjunto.\n"
        b"--t\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="corte.pdf"\n\n' + _b64(PDF * 4)[:101]
    )


def bad_date_and_addresses() -> bytes:
    return (
        b'From: <<<broken@@address>>> "unclosed\nTo: ;;;,,,\nCc: undisclosed-recipients:;\n'
        b"Date: the day after tomorrow\nSubject: Fecha rara\nMessage-ID: sin-corchetes@ejemplo.es\n"
        b"Content-Type: text/plain\n\nFecha y direcciones mal formadas.\n"
    )


def malformed_rfc2047() -> bytes:
    return (
        b"From: =?utf-8?q?Jos=C3=A9?==?utf-8?b?IE11w7Fveg?= <jose@ejemplo.es>\n"
        b"To: soporte@tiendaverde.es\nDate: Mon, 31 Mar 2025 10:00:00 +0200\n"
        b"Subject: =?utf-8?q?Pedido_sin_cerrar =?utf-8?b?!!!?= =?nocharset?= "
        b"=?utf-8?Q?fin_=E2=82=AC?=\nMessage-ID: <rfc2047-bad@ejemplo.es>\n"
        b"Content-Type: text/plain; charset=utf-8\n\nCabeceras codificadas mal formadas.\n"
    )


def non_ascii_raw_headers() -> bytes:
    return (
        "From: Begoña Ibáñez <begona@ejemplo.es>\n".encode()
        + "To: Atención al cliente <soporte@tiendaverde.es>\n".encode("latin-1")
        + (
            "Subject: Devolución del pedido nº 17010\nDate: Mon, 31 Mar 2025 10:00:00 +0200\n"
            "Message-ID: <raw-utf8@ejemplo.es>\nContent-Type: text/plain; charset=utf-8\n"
            'Content-Disposition: inline; filename="recibo señal.txt"\n\n'
            "Cabeceras con UTF-8 y Latin-1 sin codificar.\n"
        ).encode()
    )


def empty() -> bytes:
    return b""


FILES = {
    "broken_base64.eml": broken_base64,
    "broken_qp.eml": broken_qp,
    "missing_boundary.eml": missing_boundary,
    "wrong_boundary.eml": wrong_boundary,
    "lying_charset.eml": lying_charset,
    "unknown_charset.eml": unknown_charset,
    "headers_only.eml": headers_only,
    "body_only.eml": body_only,
    "deep_nesting.eml": deep_nesting,
    "very_deep_nesting.eml": lambda: deep_nesting(3000),
    "many_parts.eml": many_parts,
    "escape_sequences.eml": escape_sequences,
    "hostile_attachment_names.eml": hostile_attachment_names,
    "binary_garbage.eml": binary_garbage,
    "duplicate_headers.eml": duplicate_headers,
    "truncated.eml": truncated,
    "bad_date_and_addresses.eml": bad_date_and_addresses,
    "malformed_rfc2047.eml": malformed_rfc2047,
    "non_ascii_raw_headers.eml": non_ascii_raw_headers,
    "empty.eml": empty,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, make in FILES.items():
        (OUT / name).write_bytes(make())


if __name__ == "__main__":
    main()
