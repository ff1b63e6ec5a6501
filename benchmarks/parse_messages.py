"""How fast can 10,000 emails be parsed, and which parser survives malformed mail?

Generates a deterministic set of realistic shop emails (about 3.8 KB on
average, one in five with an attachment, a mix of plain, alternative,
HTML-only, quoted replies, Spanish and English, encoded words), then times:

- baselines: reading the files from disk; ``BytesHeaderParser`` (compat32)
- the stdlib tree alone: ``policy.compat32`` and ``policy.default``
- ``policy.default`` used the obvious way (headers, ``get_body``, attachments)
- ``fast-mail-parser`` (Rust), when installed
- ours: ``parse_headers`` (header-only pass) and ``parse_message`` (everything)

and runs each option over the malformed corpus, counting exceptions.

Run: ``python benchmarks/parse_messages.py [--count N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path

from cs_console.mail.parse import parse_headers, parse_message

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "mail"

NAMES = [
    ("José Muñoz", "jose.munoz"),
    ("Begoña Ibáñez", "begona.ibanez"),
    ("Emma Clarke", "emma.clarke"),
    ("Oliver Bennett", "oliver.bennett"),
    ("Lucía García", "lucia.garcia"),
    ("Priya Shah", "priya.shah"),
    ("Carlos Núñez", "carlos.nunez"),
    ("Inés Martín", "ines.martin"),
]
ES_LINES = [
    "Hola, hice el pedido hace una semana y todavía no ha llegado.",
    "¿Podéis decirme cuándo saldrá el envío? En la web pone en preparación.",
    "Me han cobrado dos veces el mismo importe con la tarjeta.",
    "Quiero devolver las zapatillas porque me quedan pequeñas.",
    "¿Tenéis la mochila en verde oliva? Solo aparece en negro.",
    "La cafetera ha dejado de calentar y aún está en garantía.",
    "Necesito la factura a nombre de mi empresa, con el CIF.",
    "Por favor, cancelad el pedido, lo hice dos veces por error.",
]
EN_LINES = [
    "Hello, I ordered a week ago and the parcel has not arrived yet.",
    "Could you tell me when it will ship? The page says processing.",
    "I was charged twice for the same order on my card.",
    "I would like to return the running shoes, they are too small.",
    "Is the large cutting board 45 x 30 cm or 40 x 30 cm?",
    "The kettle stopped working and it is still under warranty.",
    "Please send the invoice with my company name on it.",
    "Please cancel the order, I placed it twice by mistake.",
]


def _encoded(text: str) -> str:
    if text.isascii():
        return text
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def _paragraphs(rng: random.Random, spanish: bool, size: int) -> str:
    lines = ES_LINES if spanish else EN_LINES
    out: list[str] = []
    while sum(len(x) + 1 for x in out) < size:
        out.append(rng.choice(lines))
        if rng.random() < 0.3:
            out.append("")
    return "\n".join(out)


def make_message(rng: random.Random, i: int) -> bytes:
    """One realistic email; the mix of kinds is fixed by ``rng``."""
    spanish = rng.random() < 0.6
    name, local = rng.choice(NAMES)
    subject = f"Pedido nº {10000 + i}: consulta" if spanish else f"Order {10000 + i}: question"
    body = _paragraphs(rng, spanish, rng.randint(1700, 2900))
    sig = "\n\nEnviado desde mi iPhone" if spanish else "\n\nSent from my iPhone"
    kind = rng.random()
    if kind < 0.3:
        quote = _paragraphs(rng, spanish, 900).replace("\n", "\n> ")
        header = (
            "El lun, 3 mar 2025 a las 10:00, Tienda escribió:"
            if spanish
            else ("On Mon, 3 Mar 2025 at 10:00, Shop wrote:")
        )
        body = f"{body}{sig}\n\n{header}\n> {quote}"
    else:
        body += sig
    headers = [
        f"Return-Path: <{local}@correo.example>",
        "Received: from mx.correo.example (mx.correo.example [192.0.2.10])\n"
        "\tby mx.tienda.example with ESMTPS id 4Z1abc; Mon, 3 Mar 2025 10:00:01 +0100",
        f"From: {_encoded(name)} <{local}@correo.example>",
        "To: Soporte <soporte@tienda.example>",
        f"Subject: {_encoded(subject)}",
        f"Date: Mon, 3 Mar 2025 {i % 24:02d}:{i % 60:02d}:00 +0100",
        f"Message-ID: <{i}.{rng.getrandbits(48):x}@correo.example>",
        "MIME-Version: 1.0",
    ]
    if kind < 0.3:
        headers.append(f"In-Reply-To: <ticket-{i}@tienda.example>")
        headers.append(f"References: <orig-{i}@correo.example> <ticket-{i}@tienda.example>")
    attach = rng.random() < 0.2
    html_only = not attach and rng.random() < 0.1
    text_part = (
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + body
    )
    if html_only:
        html = (
            "<html><body>"
            + "".join(f"<p>{line}</p>" for line in body.split("\n") if line)
            + '<p><a href="https://tienda.example/pedido">mi pedido</a></p></body></html>'
        )
        raw = "\n".join(headers) + "\nContent-Type: text/html; charset=utf-8\n\n" + html
    elif attach:
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1200, 2200)))
        encoded = base64.encodebytes(data).decode()
        raw = "\n".join(headers) + (
            '\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
            + text_part
            + '\n--b1\nContent-Type: image/jpeg; name="foto.jpg"\n'
            "Content-Transfer-Encoding: base64\n"
            'Content-Disposition: attachment; filename="foto.jpg"\n\n' + encoded + "--b1--\n"
        )
    else:
        raw = "\n".join(headers) + "\n" + text_part
    return raw.replace("\n", "\r\n").encode()


def _default_full(raw: bytes) -> None:
    msg = message_from_bytes(raw, policy=policy.default)
    _ = str(msg["subject"]), msg["from"] and msg["from"].addresses, msg["date"]
    body = msg.get_body(("plain", "html"))  # type: ignore[attr-defined]
    if body is not None:
        body.get_content()
    for part in msg.iter_attachments():  # type: ignore[attr-defined]
        part.get_content()


def _options() -> list[tuple[str, Callable[[bytes], object]]]:
    header_parser = BytesHeaderParser(policy=policy.compat32)
    options: list[tuple[str, Callable[[bytes], object]]] = [
        ("BytesHeaderParser compat32 (baseline)", header_parser.parsebytes),
        ("message_from_bytes compat32 (tree only)", lambda r: message_from_bytes(r)),
        (
            "message_from_bytes policy.default (tree only)",
            lambda r: message_from_bytes(r, policy=policy.default),
        ),
        ("policy.default + get_body/get_content", _default_full),
    ]
    try:
        from fast_mail_parser import parse_email  # type: ignore[import-not-found]
    except ImportError:
        print("fast-mail-parser not installed: skipped")
    else:
        options.append(("fast-mail-parser parse_email", parse_email))
    options += [
        ("ours: parse_headers (header-only pass)", parse_headers),
        ("ours: parse_message (everything)", parse_message),
    ]
    return options


def _time_all(
    options: list[tuple[str, Callable[[bytes], object]]], messages: list[bytes], repeat: int
) -> list[tuple[str, float]]:
    """Median seconds per option; rounds interleave the options so load drift hits all."""
    runs: dict[str, list[float]] = {label: [] for label, _ in options}
    for _ in range(repeat):
        for label, func in options:
            start = time.perf_counter()
            for raw in messages:
                func(raw)
            runs[label].append(time.perf_counter() - start)
    return [(label, statistics.median(runs[label])) for label, _ in options]


def _robustness(func: Callable[[bytes], object]) -> tuple[int, int, list[str]]:
    files = sorted(CORPUS.rglob("*.eml"))
    failed: list[str] = []
    for path in files:
        try:
            func(path.read_bytes())
        except Exception as exc:  # counting failures is the point here
            failed.append(f"{path.relative_to(CORPUS)} ({type(exc).__name__})")
    return len(files), len(failed), failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per option (median)")
    args = parser.parse_args()

    rng = random.Random(20250303)
    messages = [make_message(rng, i) for i in range(args.count)]
    total = sum(len(m) for m in messages)
    with_attachment = sum(b"filename=" in m for m in messages)
    print(
        f"{len(messages)} messages, average {total / len(messages) / 1024:.2f} KiB, "
        f"{with_attachment} with an attachment\n"
    )

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, raw in enumerate(messages):
            path = Path(tmp, f"{i}.eml")
            path.write_bytes(raw)
            paths.append(path)
        start = time.perf_counter()
        for path in paths:
            path.read_bytes()
        read_seconds = time.perf_counter() - start

    options = _options()
    results = _time_all(options, messages, args.repeat)
    baseline = results[0][1]
    width = max(len(label) for label, _ in results) + 2
    print(f"{'option':<{width}} {'seconds':>8} {'x baseline':>11} {'µs/msg':>8}")
    print(
        f"{'read the files (no parsing)':<{width}} {read_seconds:8.2f} {'':>11} "
        f"{read_seconds / len(messages) * 1e6:8.0f}"
    )
    for label, seconds in results:
        print(
            f"{label:<{width}} {seconds:8.2f} {seconds / baseline:10.1f}x "
            f"{seconds / len(messages) * 1e6:8.0f}"
        )

    print("\nrobustness on tests/data/mail (files that raised):")
    for label, func in options:
        count, failures, names = _robustness(func)
        shown = "; ".join(names[:4]) + (" ..." if len(names) > 4 else "")
        print(f"  {label:<{width}} {failures:3d}/{count}  {shown}")


if __name__ == "__main__":
    main()
