"""IMAP/SMTP settings of common mail providers, found from the address's domain."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    """Server settings of one provider, and what a shop owner must know to log in."""

    key: str
    name: str
    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    domains: tuple[str, ...] = ()
    note: str = ""


_APP_PASSWORD = (
    "{name} does not accept your normal password from mail programs when two-step "
    "verification is on: create an app password in your account's security settings "
    "({where}) and use that."
)

PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "gmail",
        "Gmail / Google Workspace",
        "imap.gmail.com",
        993,
        "tls",
        "smtp.gmail.com",
        465,
        "tls",
        ("gmail.com", "googlemail.com"),
        _APP_PASSWORD.format(name="Google", where="myaccount.google.com > Security > App passwords")
        + " IMAP must be enabled in Gmail's settings.",
    ),
    Provider(
        "outlook",
        "Outlook.com / Microsoft 365",
        "outlook.office365.com",
        993,
        "tls",
        "smtp.office365.com",
        587,
        "starttls",
        ("outlook.com", "hotmail.com", "hotmail.es", "live.com", "msn.com", "outlook.es"),
        "Microsoft 365 business accounts no longer accept passwords for IMAP/SMTP: they need "
        "OAuth2 sign-in. Personal Outlook.com accounts may use an app password.",
    ),
    Provider(
        "yahoo",
        "Yahoo Mail",
        "imap.mail.yahoo.com",
        993,
        "tls",
        "smtp.mail.yahoo.com",
        465,
        "tls",
        ("yahoo.com", "yahoo.es", "ymail.com"),
        _APP_PASSWORD.format(name="Yahoo", where="Account security > Generate app password"),
    ),
    Provider(
        "icloud",
        "iCloud Mail",
        "imap.mail.me.com",
        993,
        "tls",
        "smtp.mail.me.com",
        587,
        "starttls",
        ("icloud.com", "me.com", "mac.com"),
        _APP_PASSWORD.format(name="Apple", where="account.apple.com > Sign-In and Security"),
    ),
    Provider(
        "fastmail",
        "Fastmail",
        "imap.fastmail.com",
        993,
        "tls",
        "smtp.fastmail.com",
        465,
        "tls",
        ("fastmail.com", "fastmail.fm"),
        _APP_PASSWORD.format(
            name="Fastmail", where="Settings > Privacy & Security > App passwords"
        ),
    ),
    Provider(
        "zoho",
        "Zoho Mail",
        "imap.zoho.eu",
        993,
        "tls",
        "smtp.zoho.eu",
        465,
        "tls",
        ("zoho.com", "zoho.eu", "zohomail.com"),
        "Zoho: use imap.zoho.com/smtp.zoho.com if your account is not in the EU data centre; "
        "with two-factor authentication on, create an application-specific password.",
    ),
    Provider("ovh", "OVHcloud", "ssl0.ovh.net", 993, "tls", "ssl0.ovh.net", 465, "tls", ()),
    Provider(
        "ionos",
        "IONOS",
        "imap.ionos.es",
        993,
        "tls",
        "smtp.ionos.es",
        465,
        "tls",
        (),
        "IONOS: use imap.ionos.com/smtp.ionos.com outside Spain.",
    ),
)


def provider_by_key(key: str) -> Provider | None:
    return next((p for p in PROVIDERS if p.key == key.lower()), None)


def guess_provider(address: str) -> Provider | None:
    """The provider of a well-known mail domain (a shop's own domain gives None)."""
    domain = address.rsplit("@", 1)[-1].strip().lower()
    return next((p for p in PROVIDERS if domain in p.domains), None)
