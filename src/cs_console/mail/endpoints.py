"""Endpoints of an account's IMAP and SMTP servers, from its settings."""

from __future__ import annotations

from cs_console.config import AccountSettings
from cs_console.mail.connect import Endpoint


def imap_endpoint(account: AccountSettings) -> Endpoint:
    return Endpoint(
        host=account.imap_host,
        port=account.imap_port_effective,
        security=account.imap_security,
        username=account.username,
        tls_verify=account.tls_verify,
        ca_file=account.ca_file,
    )


def smtp_endpoint(account: AccountSettings) -> Endpoint:
    return Endpoint(
        host=account.smtp_host_effective,
        port=account.smtp_port_effective,
        security=account.smtp_security,
        username=account.smtp_username_effective,
        tls_verify=account.tls_verify,
        ca_file=account.ca_file,
    )
