"""Write the hostile-mail corpus (``*.eml`` beside this script) and ``manifest.json``.

Run ``python tests/data/hostile/generate.py`` to regenerate; the output is
committed and deterministic. The two huge messages (a 30 MB attachment and a
200,000-line body) are not committed: :func:`huge_attachment` and
:func:`huge_body` build them at test time.

Each message is addressed to the shop and carries an ``X-Hostile-Case``
header naming its case, so a test can tell which one it is looking at.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

HERE = Path(__file__).parent
SHOP = "shop@example.com"
DATE = "Tue, 24 Nov 2026 09:00:00 +0000"

ESC = "\x1b"
CSI_CLEAR = f"{ESC}[2J{ESC}[H"
CSI_RED = f"{ESC}[31;1m"
OSC8 = f"{ESC}]8;;https://evil.example/steal{ESC}\\pulsa aquí{ESC}]8;;{ESC}\\"
OSC52 = f"{ESC}]52;c;{base64.b64encode(b'rm -rf ~').decode()}\a"
TITLE = f"{ESC}]0;pwned\a"
BIDI = "\u202eexe.fdp\u202c \u2066x\u2069 \u200f"
C1 = "\x9b31m\x90q\x9c"
MARKUP = "[bold red]RICH[/] [link=https://evil.example]x[/link] [@click=app.quit]q[/] $x ${y}"
HOSTILE = CSI_CLEAR + CSI_RED + OSC8 + OSC52 + TITLE + BIDI + C1 + MARKUP


def _q(text: str) -> str:
    """An RFC 2047 encoded word (UTF-8, base64) holding any characters, controls included."""
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode() + "?="


def _msg(case: str, headers: list[tuple[str, str]], body: bytes, *, mid: str | None = "") -> bytes:
    lines = [
        f"From: {_q('Ana ' + HOSTILE)} <ana@example.org>",
        f"To: {SHOP}",
        f"Date: {DATE}",
        f"X-Hostile-Case: {case}",
    ]
    if mid == "":
        mid = f"<{case}@hostile.example>"
    if mid is not None:
        lines.append(f"Message-ID: {mid}")
    names = {name.lower() for name, _ in headers}
    if "subject" not in names:
        lines.append(f"Subject: {_q(case + ' ' + HOSTILE)}")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def _plain(text: str, charset: str = "utf-8") -> list[tuple[str, str]]:
    return [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'text/plain; charset="{charset}"'),
        ("Content-Transfer-Encoding", "8bit"),
    ]


def _with_attachment(case: str, filename: str, *, encode_name: bool = True) -> bytes:
    boundary = "hostile-boundary"
    disp_name = _q(filename) if encode_name else filename
    body = (
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Adjunto la factura. {HOSTILE}\r\n"
        f"--{boundary}\r\n"
        f'Content-Type: application/octet-stream; name="{disp_name}"\r\n'
        f'Content-Disposition: attachment; filename="{disp_name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{base64.b64encode(b'%PDF-1.4 not really').decode()}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    headers = [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
    ]
    return _msg(case, headers, body)


def _nested(depth: int) -> bytes:
    head = [("MIME-Version", "1.0"), ("Content-Type", 'multipart/mixed; boundary="b0"')]
    parts = []
    for level in range(1, depth):
        parts.append(
            f'--b{level - 1}\r\nContent-Type: multipart/mixed; boundary="b{level}"\r\n\r\n'
        )
    parts.append(f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nEn el fondo del todo.\r\n")
    for level in range(depth - 1, -1, -1):
        parts.append(f"--b{level}--\r\n")
    return _msg("deep-nesting", head, "".join(parts).encode())


def _many_parts(count: int) -> bytes:
    head = [("MIME-Version", "1.0"), ("Content-Type", 'multipart/mixed; boundary="p"')]
    one = "--p\r\nContent-Type: text/plain\r\n\r\nparte\r\n"
    body = (
        "--p\r\nContent-Type: text/plain\r\n\r\nMuchas partes.\r\n"
        + one * (count - 1)
        + "--p--\r\n"
    )
    return _msg("five-thousand-parts", head, body.encode())


def cases() -> dict[str, bytes]:
    """Every committed case, by name."""
    out: dict[str, bytes] = {}
    out["escapes-everywhere"] = _msg(
        "escapes-everywhere", _plain(""), f"Hola {HOSTILE}\nlínea 2 {CSI_RED}rojo".encode()
    )
    out["raw-escapes-in-headers"] = _msg(
        "raw-escapes-in-headers",
        [("Subject", f"raw {CSI_RED}subject{ESC}[0m {TITLE}"), *_plain("")],
        f"raw body {CSI_CLEAR} {OSC52}".encode(),
    )
    out["markup-everywhere"] = _msg(
        "markup-everywhere",
        [("Subject", MARKUP), ("Reply-To", f'"{MARKUP}" <r@example.org>'), *_plain("")],
        f"{MARKUP}\n[/]\n[b]sin cerrar".encode(),
    )
    out["html-with-tracking"] = _msg(
        "html-with-tracking",
        [("MIME-Version", "1.0"), ("Content-Type", "text/html; charset=utf-8")],
        (
            '<html><body><p>Hola <a href="https://evil.example/real">https://shop.example/ok</a></p>'
            '<img src="https://tracker.example/pixel.gif?u=1" width="1" height="1">'
            '<img src="cid:nothing"><script>alert(1)</script>'
            f'<p style="background:url(https://tracker.example/bg)">{HOSTILE}</p></body></html>'
        ).encode(),
    )
    for case, name in {
        "name-dotdot": "../../../../etc/passwd",
        "name-absolute": "/etc/cron.d/evil",
        "name-windows-absolute": "C:\\Windows\\System32\\evil.dll",
        "name-reserved-device": "CON.txt",
        "name-reserved-nul": "nul",
        "name-nul-byte": "factura\x00.pdf.exe",
        "name-long": "a" * 300 + ".pdf",
        "name-escapes": f"fac{ESC}[31mtura{BIDI}.pdf",
        "name-markup": "[bold]factura[/].pdf",
        "name-dots-only": "..",
    }.items():
        out[case] = _with_attachment(case, name)
    out["name-raw-dotdot"] = _with_attachment("name-raw-dotdot", "../../x.sh", encode_name=False)
    out["deep-nesting"] = _nested(100)
    out["five-thousand-parts"] = _many_parts(5000)
    out["broken-base64"] = _msg(
        "broken-base64",
        [
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b"SG9sYSwg!!!bm8gZXM*gYmFzZTY0=\r\n====\r\nx",
    )
    out["broken-quoted-printable"] = _msg(
        "broken-quoted-printable",
        [
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ],
        b"Hola =C3=A1=XY=\r\n=1B[31m rojo =\r\nfin=",
    )
    out["unknown-charset"] = _msg(
        "unknown-charset", _plain("", "x-klingon-42"), "Hola ñandú \x1b[2J".encode("latin-1")
    )
    out["lying-charset"] = _msg(
        "lying-charset", _plain("", "us-ascii"), "Pedido ñandú café 😀 \x1b]0;t\a".encode()
    )
    out["codec-charset"] = _msg("codec-charset", _plain("", "unicode_escape"), b"\\x1b[2J \xff\xfe")
    out["utf7-charset"] = _msg("utf7-charset", _plain("", "utf-7"), b"+ABsAWwAy-J hola")
    out["headers-only"] = _msg("headers-only", [("Subject", "solo cabeceras")], b"")[:-2]
    out["body-only"] = b"\r\nSolo un cuerpo, sin cabeceras. \x1b[2J\r\n"
    out["garbage-headers"] = (
        b"From ana@example.org Tue Nov 24\r\n: no name\r\nSubject\r\n\x00\x01: x\r\n"
        b"X-Hostile-Case: garbage-headers\r\n\r\nCuerpo."
    )
    out["duplicate-mid-a"] = _msg(
        "duplicate-mid-a", _plain(""), b"Primer mensaje.", mid="<same@hostile.example>"
    )
    out["duplicate-mid-b"] = _msg(
        "duplicate-mid-b", _plain(""), b"Otro mensaje distinto.", mid="<same@hostile.example>"
    )
    out["no-message-id"] = _msg("no-message-id", _plain(""), b"Sin Message-ID.", mid=None)
    out["crlf-in-encoded-subject"] = _msg(
        "crlf-in-encoded-subject",
        [("Subject", _q("asunto\r\nBcc: victim@example.org\r\n\r\ncuerpo")), *_plain("")],
        b"Hola.",
    )
    out["nul-in-body"] = _msg("nul-in-body", _plain(""), b"Hola\x00mundo\x07\x08\x7f")
    return out


def huge_attachment(size: int = 30 * 1024 * 1024) -> bytes:
    """A message with one attachment of ``size`` bytes (base64 in the message)."""
    boundary = "huge"
    chunk = bytes(range(256)) * 4
    data = (chunk * (size // len(chunk) + 1))[:size]
    encoded = base64.encodebytes(data)
    head = [("MIME-Version", "1.0"), ("Content-Type", f'multipart/mixed; boundary="{boundary}"')]
    body = (
        (
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nVa el vídeo.\r\n"
            f"--{boundary}\r\nContent-Type: video/mp4\r\n"
            'Content-Disposition: attachment; filename="video.mp4"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        + encoded
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return _msg("huge-attachment", head, body)


def huge_body(lines: int = 200_000) -> bytes:
    """A plain-text message of ``lines`` lines."""
    body = b"".join(b"linea %d del registro del pedido\r\n" % i for i in range(lines))
    return _msg("huge-body", _plain(""), body)


def main() -> None:
    for old in HERE.glob("*.eml"):
        old.unlink()
    manifest = {}
    for name, raw in cases().items():
        (HERE / f"{name}.eml").write_bytes(raw)
        manifest[name] = len(raw)
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
