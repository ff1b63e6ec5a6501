"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives.

It can be told to answer a failure (``421``, ``451``, ``550``...) to the next
messages, or be stopped and restarted on the same port to act as a server that
is down (connection refused).
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.rig.dovecot import PASSWORD, USER

# The same login as the rig's Dovecot: an account has one password for IMAP and SMTP.
SMTP_USER = USER
SMTP_PASSWORD = PASSWORD


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # answers for the next DATA commands
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=bytes(envelope.original_content or envelope.content),
                )
            )
            self.arrived.notify_all()
        return "250 2.0.0 OK: queued"


def _authenticator_for(user: str, password: str) -> Any:
    """An aiosmtpd authenticator accepting exactly this login."""

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            # handled=False lets aiosmtpd send the 535 itself on a failure.
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    return authenticate


class SmtpServer:
    """The rig's SMTP server; ``port`` stays the same across :meth:`stop`/:meth:`start`."""

    host = "127.0.0.1"

    def __init__(
        self, *, require_auth: bool = False, user: str = SMTP_USER, password: str = SMTP_PASSWORD
    ) -> None:
        self.handler = _Handler()
        self.require_auth = require_auth
        self.user, self.password = user, password
        with socket.socket() as sock:
            sock.bind((self.host, 0))
            self.port = int(sock.getsockname()[1])
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            authenticator=_authenticator_for(self.user, self.password),
            auth_required=self.require_auth,
            auth_require_tls=False,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening: clients now get a refused connection."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def fail_next(self, *answers: str) -> None:
        """Answer the next DATA commands with these replies, e.g. ``"451 4.3.0 try later"``."""
        with self.handler.lock:
            self.handler.failures.extend(answers)

    def reset(self) -> None:
        with self.handler.lock:
            self.handler.received.clear()
            self.handler.failures.clear()
        self.start()

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` messages arrived (a condition, not a sleep)."""
        with self.handler.arrived:
            self.handler.arrived.wait_for(
                lambda: len(self.handler.received) >= count, timeout=timeout
            )
            return list(self.handler.received)
