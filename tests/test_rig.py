"""The rig itself works: Dovecot speaks the extensions we rely on, SMTP records and fails."""

from __future__ import annotations

import smtplib

import pytest

from tests.rig.dovecot import Dovecot
from tests.rig.smtp import SmtpServer

RAW = b"From: Ana <ana@example.org>\r\nTo: shop@example.com\r\nSubject: Hola\r\nMessage-ID: <r1@example.org>\r\n\r\nHola\r\n"


def test_dovecot_has_the_extensions_sync_relies_on(dovecot: Dovecot) -> None:
    dovecot.deliver(RAW)
    with dovecot.client() as client:
        caps = set(client.capabilities())
        assert {b"IDLE", b"UIDPLUS", b"MOVE", b"CONDSTORE", b"QRESYNC", b"SPECIAL-USE"} <= caps
        info = client.select_folder("INBOX")
        assert info[b"EXISTS"] == 1
        folders = {name: flags for flags, _sep, name in client.list_folders()}
        assert b"\\Sent" in folders["Sent"]


def test_dovecot_uidvalidity_can_be_reset(dovecot: Dovecot) -> None:
    dovecot.deliver(RAW)
    with dovecot.client() as client:
        before = client.select_folder("INBOX")[b"UIDVALIDITY"]
    dovecot.reset_uidvalidity()
    with dovecot.client() as client:
        after = client.select_folder("INBOX")
    assert after[b"UIDVALIDITY"] != before
    assert after[b"EXISTS"] == 1


def test_smtp_records_and_fails_on_demand(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port) as client:
        client.sendmail("shop@example.com", ["ana@example.org"], RAW)
        smtp_server.fail_next("451 4.3.0 try again later")
        with pytest.raises(smtplib.SMTPDataError) as info:
            client.sendmail("shop@example.com", ["ana@example.org"], RAW)
        assert info.value.smtp_code == 451
    received = smtp_server.wait_for(1)
    assert received[0].rcpt_tos == ["ana@example.org"]
    assert received[0].message["Subject"] == "Hola"


def test_smtp_down_refuses_connections(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    with pytest.raises(OSError):
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5)
    smtp_server.start()
    with smtplib.SMTP(smtp_server.host, smtp_server.port) as client:
        assert client.noop()[0] == 250
