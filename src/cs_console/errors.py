"""The errors cs-console raises on purpose.

Every error a user may see derives from :class:`CsConsoleError` and carries a
short ``title`` and a message a shop owner understands. Surfaces (CLI, TUI)
show ``title: message`` and never a traceback unless ``--debug`` is given.

Hierarchy::

    CsConsoleError
    ├── ConfigError          the config file is missing, unreadable or invalid
    ├── SecretError          a password could not be obtained
    │   └── OAuthError       an OAuth2 sign-in or token renewal failed
    ├── StoreError           the database could not be opened or migrated
    ├── MailError
    │   ├── ImapError        IMAP connection, login or command failed
    │   └── SmtpError        SMTP connection, login or delivery failed
    └── DeskError            a ticket operation was refused (unknown ticket, ...)
"""

from __future__ import annotations


class CsConsoleError(Exception):
    """Base of every error meant for the user."""

    title: str = "Error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class ConfigError(CsConsoleError):
    """The configuration file is missing, unreadable or invalid."""

    title = "Configuration error"


class SecretError(CsConsoleError):
    """A password could not be read from the environment, a command or the keyring."""

    title = "Secret not available"


class OAuthError(SecretError):
    """An OAuth2 sign-in, or the renewal of its token, failed; the message says what to do."""

    title = "Sign-in needed"


class StoreError(CsConsoleError):
    """The database could not be opened, reached or migrated."""

    title = "Database error"


class MailError(CsConsoleError):
    """A mail server could not be reached or refused a command."""

    title = "Mail error"


class ImapError(MailError):
    """IMAP connection, login or command failure."""

    title = "IMAP error"


class SmtpError(MailError):
    """SMTP connection, login or delivery failure."""

    title = "SMTP error"


class DeskError(CsConsoleError):
    """A ticket operation was refused."""

    title = "Not possible"
