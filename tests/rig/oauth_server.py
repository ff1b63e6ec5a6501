"""A small OAuth2 authorization server on 127.0.0.1 for the sign-in tests.

It speaks the three endpoints the program and Dovecot use:

- ``POST /device``: device authorization (RFC 8628), always the same user code;
- ``POST /token``: the device-code grant answers from a script the test sets
  (``authorization_pending``, ``slow_down``, ``access_denied``, ``expired_token``
  or ``ok``), and the refresh-token grant issues a new access token for a known
  refresh token and ``invalid_grant`` for a revoked or unknown one; with
  ``rotate_refresh`` set it also issues a new refresh token and withdraws the
  one used, as Microsoft 365 does;
- ``POST /introspect``: RFC 7662 token introspection, for Dovecot's oauth2 passdb.

Every token it issued and has not revoked is valid; :meth:`OAuthServer.revoke`
withdraws a refresh token (and the access tokens issued with it).
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USER_CODE = "WDJB-MJHT"


@dataclass
class _State:
    user: str
    device_script: list[str] = field(default_factory=list)
    expires_in: int = 3600
    interval: int = 5
    rotate_refresh: bool = False
    access: dict[str, str] = field(default_factory=dict)  # access token -> refresh token
    refresh: set[str] = field(default_factory=set)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class OAuthServer:
    """The running server; ``url`` is its base (``http://127.0.0.1:PORT``)."""

    def __init__(self, *, user: str) -> None:
        self.state = _State(user=user)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.state))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> OAuthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def script_device(self, *answers: str, expires_in: int = 3600, interval: int = 5) -> None:
        """What the next device-code polls get, in order; ``ok`` issues tokens.

        ``expires_in`` is the access tokens' lifetime, ``interval`` the polling
        interval the device answer asks for.
        """
        with self.state.lock:
            self.state.device_script[:] = answers
            self.state.expires_in = expires_in
            self.state.interval = interval

    def issue(self) -> tuple[str, str]:
        """Issue an access and refresh token pair directly (as after a sign-in)."""
        with self.state.lock:
            return _issue(self.state)

    def revoke(self, refresh_token: str) -> None:
        with self.state.lock:
            self.state.refresh.discard(refresh_token)
            for access, parent in list(self.state.access.items()):
                if parent == refresh_token:
                    del self.state.access[access]

    def valid_access(self, token: str) -> bool:
        with self.state.lock:
            return token in self.state.access

    def requests(self, path: str) -> list[dict[str, str]]:
        with self.state.lock:
            return [form for where, form in self.state.requests if where == path]


def _issue(state: _State) -> tuple[str, str]:
    access, refresh = f"at-{secrets.token_hex(8)}", f"rt-{secrets.token_hex(8)}"
    state.access[access] = refresh
    state.refresh.add(refresh)
    return access, refresh


def _issued(state: _State) -> dict[str, Any]:
    """A token answer with a newly issued access and refresh token pair."""
    access, refresh = _issue(state)
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": state.expires_in,
    }


def _handler_for(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            with state.lock:
                state.requests.append((self.path, form))
                status, body = self._answer(form)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
            if self.path == "/device":
                return 200, {
                    "device_code": "dc-" + secrets.token_hex(4),
                    "user_code": USER_CODE,
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": state.interval,
                }
            if self.path == "/introspect":
                token = form.get("token", "")
                if token in state.access:
                    return 200, {"active": "true", "username": state.user}
                return 200, {"active": "false"}
            if self.path != "/token":
                return 404, {"error": "not_found"}
            grant = form.get("grant_type", "")
            if grant == "refresh_token":
                if form.get("refresh_token") not in state.refresh:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "AADSTS50173: The grant was revoked.",
                    }
                if state.rotate_refresh:
                    state.refresh.discard(form["refresh_token"])
                    return 200, _issued(state)
                access = f"at-{secrets.token_hex(8)}"
                state.access[access] = form["refresh_token"]
                return 200, {
                    "access_token": access,
                    "token_type": "Bearer",
                    "expires_in": state.expires_in,
                }
            if grant.endswith(":device_code"):
                answer = state.device_script.pop(0) if state.device_script else "ok"
                if answer != "ok":
                    return 400, {"error": answer}
                return 200, _issued(state)
            return 400, {"error": "unsupported_grant_type"}

    return Handler
