"""The security review's points, each shown by a test (see docs/security.md).

TLS is served by a :class:`~tests.rig.faultproxy.FaultProxy` that terminates
TLS with a self-signed certificate made here and forwards to the rig's
Dovecot or aiosmtpd, which themselves speak plain text on loopback.
"""

from __future__ import annotations

import asyncio
import csv
import io
import ipaddress
import json
import logging
import os
import socket
import ssl
import stat
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.config import load_settings, settings_from_mapping
from cs_console.desk.canned.template import missing_marker, render
from cs_console.desk.exports import export_dataset
from cs_console.desk.outbox import drain_outbox
from cs_console.desk.outbox_drain import _recipients
from cs_console.desk.replies import reply_to_ticket
from cs_console.desk.sync import sync_account
from cs_console.errors import ConfigError, ImapError, SmtpError
from cs_console.mail.compose import ComposeError, Recipient, as_bytes, compose_message
from cs_console.mail.connect import Endpoint, imap_connect, smtp_connect
from cs_console.mail.endpoints import imap_endpoint, smtp_endpoint
from cs_console.mail.parse import parse_message
from cs_console.mail.smtp_send import SmtpSender
from cs_console.store.attachments import read_blob, store_blob
from cs_console.store.database import open_database
from cs_console.store.engine import session_scope
from cs_console.textsafe import safe_filename
from tests.rig.dovecot import PASSWORD, USER, Dovecot
from tests.rig.faultproxy import FaultProxy, running_proxy
from tests.rig.smtp import SmtpServer
from tests.rig.workspace import PASSWORD_ENV, account_table, write_config
from tests.test_outbox_support import seed_ticket
from tests.test_sync_support import NOW, mail

HOSTILE = Path(__file__).parent / "data" / "hostile"
runner = CliRunner()


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's messages are asserted in English, whatever the machine's locale."""
    monkeypatch.setenv("CS_CONSOLE_LANG", "en")


# -- a certificate and TLS servers ------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed EC certificate for 127.0.0.1: (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cs-console test")])
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


@pytest.fixture
def imaps(dovecot: Dovecot, certificate: tuple[Path, Path]) -> Iterator[FaultProxy]:
    with running_proxy(dovecot.host, dovecot.port, tls=_server_context(certificate)) as proxy:
        yield proxy


@pytest.fixture
def smtps(smtp_server: SmtpServer, certificate: tuple[Path, Path]) -> Iterator[FaultProxy]:
    with running_proxy(
        smtp_server.host, smtp_server.port, tls=_server_context(certificate)
    ) as proxy:
        yield proxy


@pytest.fixture
def recorder_imap(dovecot: Dovecot) -> Iterator[FaultProxy]:
    with running_proxy(dovecot.host, dovecot.port) as proxy:
        yield proxy


@pytest.fixture
def recorder_smtp(smtp_server: SmtpServer) -> Iterator[FaultProxy]:
    with running_proxy(smtp_server.host, smtp_server.port) as proxy:
        yield proxy


def _endpoint(port: int, security: str, *, ca_file: Path | None = None) -> Endpoint:
    return Endpoint(host="127.0.0.1", port=port, security=security, username=USER, ca_file=ca_file)


# -- TLS --------------------------------------------------------------------------------------


def test_tls_is_verified_by_default() -> None:
    settings = settings_from_mapping(
        {
            "accounts": [
                {"name": "s", "address": USER, "username": USER, "imap_host": "imap.example.com"}
            ]
        }
    )
    account = settings.accounts[0]
    assert imap_endpoint(account).security == "tls" and imap_endpoint(account).tls_verify
    assert smtp_endpoint(account).security == "starttls" and smtp_endpoint(account).tls_verify


def test_imap_tls_with_an_unknown_certificate_is_refused(imaps: FaultProxy) -> None:
    with pytest.raises(ImapError) as caught:
        imap_connect(_endpoint(imaps.port, "tls"), PASSWORD, timeout=10)
    assert "TLS" in caught.value.message and "certificate" in caught.value.message.lower()
    assert imaps.connections == 0 or b"LOGIN" not in imaps.from_client.upper()
    assert PASSWORD.encode() not in imaps.from_client


def test_imap_tls_with_the_ca_file_logs_in(imaps: FaultProxy, certificate) -> None:  # type: ignore[no-untyped-def]
    client = imap_connect(_endpoint(imaps.port, "tls", ca_file=certificate[0]), PASSWORD)
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        client.logout()


def test_imap_starttls_not_offered_is_refused_before_the_password(
    recorder_imap: FaultProxy,
) -> None:
    with pytest.raises(ImapError, match="does not offer STARTTLS"):
        imap_connect(_endpoint(recorder_imap.port, "starttls"), PASSWORD, timeout=10)
    assert b"LOGIN" not in recorder_imap.from_client.upper()
    assert PASSWORD.encode() not in recorder_imap.from_client


async def test_smtp_tls_with_an_unknown_certificate_is_refused(smtps: FaultProxy) -> None:
    with pytest.raises(SmtpError, match=r"(?i)certificate"):
        await smtp_connect(_endpoint(smtps.port, "tls"), PASSWORD, timeout=10)
    assert b"AUTH" not in smtps.from_client.upper() and b"EHLO" not in smtps.from_client


async def test_smtp_tls_with_the_ca_file_connects(smtps: FaultProxy, certificate) -> None:  # type: ignore[no-untyped-def]
    client = await smtp_connect(_endpoint(smtps.port, "tls", ca_file=certificate[0]), PASSWORD)
    assert client.is_connected
    await client.quit()


async def test_smtp_starttls_not_offered_is_refused_before_the_password(
    recorder_smtp: FaultProxy,
) -> None:
    with pytest.raises(SmtpError, match="does not offer STARTTLS"):
        await smtp_connect(_endpoint(recorder_smtp.port, "starttls"), PASSWORD, timeout=10)
    assert b"AUTH" not in recorder_smtp.from_client.upper()
    assert PASSWORD.encode() not in recorder_smtp.from_client


# -- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["password", "imap_password", "smtp_password", "secret"])
def test_a_password_in_the_config_file_is_refused(tmp_path: Path, key: str) -> None:
    path = write_config(tmp_path, {"accounts": [account_table(None, None, **{key: PASSWORD})]})
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "never put a password in the config file" in caught.value.message
    assert PASSWORD not in caught.value.message


def test_the_password_never_reaches_logs_reports_doctor_or_exports(
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = write_config(tmp_path, {"accounts": [account_table(dovecot, smtp_server)]})
    settings = load_settings(config)
    assert PASSWORD not in config.read_text()
    engine = open_database(settings.database_url)
    dovecot.deliver(mail(body=f"my password is not {PASSWORD[::-1]}"))
    caplog.set_level(logging.DEBUG)
    report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok
    with session_scope(engine) as session:
        reply_to_ticket(session, settings, 1, "Hola", now=NOW)
    drained = asyncio.run(drain_outbox(settings, engine, now_fn=lambda: NOW + timedelta(hours=1)))
    assert drained.sent >= 1, drained.errors  # the reply (and the acknowledgement)
    outputs = [caplog.text, repr(report), repr(drained)]
    doctor = runner.invoke(app, ["--config", str(config), "doctor"])
    assert doctor.exit_code == 0, doctor.output
    assert "logged in" in doctor.output
    outputs.append(doctor.output)
    for dataset in ("tickets", "messages"):
        for fmt in ("csv", "jsonl"):
            stream = io.StringIO()
            export_dataset(engine, dataset, fmt=fmt, now=NOW, out=None, stdout=stream)
            outputs.append(stream.getvalue())
    for text in outputs:
        assert PASSWORD not in text


def test_doctor_with_a_wrong_password_does_not_echo_it(
    dovecot: Dovecot, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "Wr0ng-pass-7731"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    config = write_config(tmp_path, {"accounts": [account_table(dovecot, smtp_server)]})
    doctor = runner.invoke(app, ["--config", str(config), "doctor"])
    assert doctor.exit_code == 1
    assert "refused the login" in doctor.output
    assert wrong not in doctor.output


# -- files private to the user ----------------------------------------------------------------


def test_database_and_attachments_are_private_even_with_a_loose_umask(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    old = os.umask(0)
    try:
        config = write_config(tmp_path, {"accounts": [account_table(dovecot)]})
        settings = load_settings(config)
        engine = open_database(settings.database_url)
        dovecot.deliver(mail(attachment=("factura.pdf", b"%PDF-1.4 secreto")))
        assert sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW).ok
    finally:
        os.umask(old)
    db = Path(settings.database_url.removeprefix("sqlite:///"))

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(db) == 0o600
    assert mode(settings.data_dir) == 0o700
    blobs = [p for p in settings.attachments_dir.rglob("*") if p.is_file()]
    assert blobs
    for path in blobs:
        assert mode(path) == 0o600, path
        for parent in path.parents:
            if parent == settings.data_dir:
                break
            assert mode(parent) == 0o700, parent


# -- HTML mail fetches nothing ----------------------------------------------------------------


def test_parsing_html_mail_opens_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError("network access during parse")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    parsed = parse_message((HOSTILE / "html-with-tracking.eml").read_bytes())
    assert attempts == []
    assert "tracker.example" not in parsed.text
    # The link's real target is shown, not only the text that pretends to be it.
    assert "https://evil.example/real" in parsed.text
    assert "alert(1)" not in parsed.text


# -- templates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ __import__('os').system('id') }}",
        "{{ customer_name.__class__.__mro__ }}",
        "{% include '/etc/passwd' %}",
        "{{ ''.join(open('/etc/passwd')) }}",
        "{{ config }}{{ settings.password }}",
        "${HOME} $(id) `id` %(customer_name)s {customer_name} {0}",
    ],
)
def test_templates_cannot_read_files_or_run_code(
    template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template opened a file")

    monkeypatch.setattr(builtins, "open", no_open)
    rendered = render(template, {"customer_name": "Ana"})
    assert "root:" not in rendered.text and "uid=" not in rendered.text
    if "config" in template:
        assert rendered.text == missing_marker("config") + "{{ settings.password }}"
    else:
        assert rendered.text == template  # not the grammar: left as it is


def test_a_value_holding_a_placeholder_is_not_expanded_again() -> None:
    rendered = render(
        "Hola {{ customer_name }}", {"customer_name": "{{ shop_name }}", "shop_name": "X"}
    )
    assert rendered.text == "Hola {{ shop_name }}"


# -- CSV formula injection --------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("https://evil.example","pulsa")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


def test_exported_text_cells_never_start_a_formula(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        for i, formula in enumerate(FORMULAS):
            seed_ticket(
                session,
                now=NOW,
                subject=formula,
                name=formula,
                address=f"c{i}@example.org",
                message_id=f"f{i}@example.org",
            )
    for dataset in ("tickets", "messages"):
        stream = io.StringIO()
        export_dataset(sqlite_engine, dataset, fmt="csv", now=NOW, out=None, stdout=stream)
        rows = list(csv.reader(io.StringIO(stream.getvalue())))
        header, body = rows[0], rows[1:]
        assert len(body) >= len(FORMULAS)
        for row in body:
            for column, cell in zip(header, row, strict=True):
                if column in ("subject", "customer_name", "from_name", "body", "text"):
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
        joined = stream.getvalue()
        assert "'=HYPERLINK" in joined


# -- command injection through user-controlled strings ----------------------------------------


def test_compose_folds_crlf_in_subject_names_and_headers() -> None:
    message = compose_message(
        from_address=USER,
        from_name="Tienda\r\nBcc: victim@example.org",
        to=[Recipient(address="ana@example.org", name="Ana\r\nX-Evil: 1")],
        subject="Hola\r\nBcc: victim@example.org\r\n\r\ncuerpo falso",
        body="Hola",
        message_id="<x@example.com>",
        date=NOW,
        extra_headers=[("X-Ticket", "1\r\nBcc: victim@example.org")],
    )
    raw = as_bytes(message)
    head = raw.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    assert not any(line.lower().startswith((b"bcc:", b"x-evil:")) for line in lines)
    assert parseaddr(str(message["To"]))[1] == "ana@example.org"


@pytest.mark.parametrize(
    "address",
    ["ana@example.org\r\nRCPT TO:<victim@example.org>", "ana@example.org\nBcc: x@y.z", "a\x00@b.c"],
)
def test_compose_refuses_addresses_with_line_breaks(address: str) -> None:
    with pytest.raises(ComposeError):
        compose_message(
            from_address=USER,
            from_name="Tienda",
            to=[Recipient(address=address, name="")],
            subject="Hola",
            body="Hola",
            message_id="<x@example.com>",
            date=NOW,
        )


async def test_smtp_envelope_with_crlf_sends_no_extra_command(
    smtp_server: SmtpServer, recorder_smtp: FaultProxy
) -> None:
    sender = SmtpSender(_endpoint(recorder_smtp.port, "none"), None)
    raw = as_bytes(
        compose_message(
            from_address=USER,
            from_name="Tienda",
            to=[Recipient(address="ana@example.org", name="")],
            subject="Hola",
            body="Hola",
            message_id="<env@example.com>",
            date=NOW,
        )
    )
    try:
        # aiosmtplib quotes the address: what follows the line break never becomes a command.
        await sender.send(
            mail_from=USER, rcpt_to=["ana@example.org>\r\nRCPT TO:<victim@example.org"], raw=raw
        )
    finally:
        await sender.close()
    sent = bytes(recorder_smtp.from_client)
    assert sent.count(b"RCPT TO:") == 1
    assert b"victim" not in sent
    assert all("victim@example.org" not in r.rcpt_tos for r in smtp_server.received)


def test_the_outbox_drops_envelope_addresses_with_line_breaks() -> None:
    assert _recipients(json.dumps(["a@example.org\r\nRSET", "b@example.org", "c\x00@d.e"])) == [
        "b@example.org"
    ]


def test_a_folder_name_with_crlf_is_rejected_or_quoted(
    dovecot: Dovecot, recorder_imap: FaultProxy, tmp_path: Path
) -> None:
    hostile = "INBOX\r\nA999 DELETE INBOX"
    dovecot.deliver(mail())
    try:
        settings = settings_from_mapping(
            {
                "storage": {"data_dir": str(tmp_path / "data")},
                "accounts": [
                    account_table(dovecot, imap_port=recorder_imap.port, folders=[hostile])
                ],
            }
        )
    except ConfigError as exc:
        assert "folder" in exc.message.lower()
        return
    engine = open_database(settings.database_url)
    report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert not report.ok  # no such folder
    lines = bytes(recorder_imap.from_client).split(b"\r\n")
    assert not any(line.startswith(b"A999 DELETE") for line in lines)
    with dovecot.client() as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 1


# -- attachment names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd",
        "/etc/cron.d/evil",
        "C:\\Windows\\System32\\evil.dll",
        "..\\..\\x.bat",
        "CON",
        "nul.txt",
        "factura\x00.pdf",
        "a" * 300 + ".pdf",
        "\u202eexe.fdp",
        "..",
        "",
        "\x1b]8;;http://x\x1b\\a.pdf",
    ],
)
def test_an_attachment_name_cannot_leave_its_folder(name: str, tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    safe = safe_filename(name)
    target = (folder / safe).resolve()
    assert target.parent == folder.resolve()
    target.write_bytes(b"x")
    assert [p.name for p in folder.iterdir()] == [safe]
    assert len(safe.encode()) <= 240 and safe.split(".")[0].upper() not in ("CON", "NUL")


def test_attachments_can_be_stored_before_the_data_folder_exists(tmp_path: Path) -> None:
    root = tmp_path / "not-yet" / "data" / "attachments"
    digest = store_blob(root, b"hola")
    assert read_blob(root, digest) == b"hola"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
