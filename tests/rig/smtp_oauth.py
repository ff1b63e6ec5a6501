"""The rig's SMTP server with SASL XOAUTH2: each bearer token is checked by a callable.

A refused token gets what Gmail and Microsoft send: a ``334`` challenge holding a
base64 JSON error, then ``535`` once the client answers with an empty line.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.rig.smtp import SmtpServer, _Handler


class _XOAuth2Handler(_Handler):
    token_ok: Callable[[str, str], bool] = staticmethod(lambda user, token: False)  # type: ignore[assignment]
    logins: list[str]

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        try:
            raw = base64.b64decode(args[1], validate=True).decode()
            fields = dict(part.split("=", 1) for part in raw.split("\x01") if part)
            user, token = fields["user"], fields["auth"].removeprefix("Bearer ")
        except (IndexError, ValueError, KeyError, binascii.Error, UnicodeDecodeError):
            await server.push("501 5.5.2 malformed XOAUTH2 response")
            return AuthResult(success=False, handled=True)
        if self.token_ok(user, token):
            self.logins.append(user)
            return AuthResult(success=True, auth_data=user)
        error = json.dumps({"status": "401", "schemes": "Bearer", "scope": "SMTP.Send"})
        await server.challenge_auth(error)  # the client answers with an empty line
        return AuthResult(success=False, handled=False)


class XOAuth2SmtpServer(SmtpServer):
    """Requires AUTH; accepts ``AUTH XOAUTH2`` with a token ``token_ok(user, token)`` likes."""

    def __init__(self, token_ok: Callable[[str, str], bool]) -> None:
        super().__init__(require_auth=True)
        handler = _XOAuth2Handler()
        handler.token_ok = token_ok  # type: ignore[method-assign]
        handler.logins = []
        self.handler = handler

    @property
    def logins(self) -> list[str]:
        assert isinstance(self.handler, _XOAuth2Handler)
        return list(self.handler.logins)

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            auth_required=True,
            auth_require_tls=False,
        )
        controller.start()
        self._controller = controller
