"""OAuth2 sign-in for mail accounts: the device-code flow (RFC 8628) and token renewal.

A shop owner signs in once from the terminal (``cs-console auth login ACCOUNT``):
the program asks the provider for a device code, shows a short user code and a
web address, and polls the token endpoint until the owner has approved it in a
browser. The access token (about an hour) is renewed with the refresh token
shortly before it expires. When the provider refuses the renewal
(``invalid_grant``: revoked, password changed, consent withdrawn) a
:class:`TokenRevoked` error says exactly what to run.

Nothing here reads the clock or the keyring: time comes in as ``now`` (or a
``clock`` for the polling loop) and storage lives in :mod:`cs_console.secrets`.

Errors::

    OAuthError (cs_console.errors)   the sign-in or a renewal failed
    └── TokenRevoked                 the provider refused the refresh token
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cs_console.config import AccountSettings
from cs_console.errors import OAuthError
from cs_console.i18n import N_, _

#: Renew the access token when less than this is left.
REFRESH_MARGIN = timedelta(minutes=5)
HTTP_TIMEOUT = 30.0
_SLOW_DOWN_STEP = 5  # seconds added to the interval on slow_down (RFC 8628 3.5)
_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

_MICROSOFT_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
)
_GOOGLE_SCOPES = ("https://mail.google.com/",)
_PROVIDER_NAMES = {"microsoft": "Microsoft", "google": "Google", "custom": "The sign-in service"}


class TokenRevoked(OAuthError):
    """The provider refused the refresh token: someone must sign in again."""

    title = N_("Sign-in revoked")


@dataclass(frozen=True)
class OAuthClient:
    """Where and as whom to ask for tokens: one account's OAuth2 settings, resolved."""

    account: str
    provider: str
    client_id: str
    device_url: str
    token_url: str
    scopes: tuple[str, ...]

    @property
    def provider_name(self) -> str:
        return _PROVIDER_NAMES.get(self.provider, self.provider)

    @property
    def login_command(self) -> str:
        """The command that signs this account in again."""
        return f"`cs-console auth login {self.account}`"


def oauth_client(account: AccountSettings) -> OAuthClient:
    """Resolve an account's OAuth2 settings (provider defaults, explicit URLs win).

    Raises:
        OAuthError: the account does not use OAuth2.
    """
    if account.auth != "oauth2" or not account.oauth2_client_id:
        raise OAuthError(
            _(
                "account {account} does not use OAuth2 sign-in "
                "(set {auth}, {provider} and {client})"
            ).format(
                account=repr(account.name),
                auth="auth = 'oauth2'",
                provider="oauth2_provider",
                client="oauth2_client_id",
            )
        )
    provider = account.oauth2_provider or "custom"
    device_url, token_url = "", ""
    scopes: tuple[str, ...] = ()
    if provider == "microsoft":
        base = f"https://login.microsoftonline.com/{account.oauth2_tenant}/oauth2/v2.0"
        device_url, token_url, scopes = f"{base}/devicecode", f"{base}/token", _MICROSOFT_SCOPES
    elif provider == "google":
        device_url = "https://oauth2.googleapis.com/device/code"
        token_url = "https://oauth2.googleapis.com/token"
        scopes = _GOOGLE_SCOPES
    return OAuthClient(
        account=account.name,
        provider=provider,
        client_id=account.oauth2_client_id,
        device_url=account.oauth2_device_url or device_url,
        token_url=account.oauth2_token_url or token_url,
        scopes=tuple(account.oauth2_scopes or scopes),
    )


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint gave: kept as JSON in the keyring, never printed."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime

    def needs_refresh(self, *, now: datetime, margin: timedelta = REFRESH_MARGIN) -> bool:
        """True when the access token has expired or expires within ``margin``."""
        return self.expires_at - now < margin

    def expired(self, *, now: datetime) -> bool:
        return self.expires_at <= now

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Tokens:
        """Parse what :meth:`to_json` wrote.

        Raises:
            OAuthError: the stored value is not a token record.
        """
        try:
            data = json.loads(text)
            expires_at = datetime.fromisoformat(data["expires_at"])
            access = str(data["access_token"])
            refresh = data.get("refresh_token")
        except (ValueError, KeyError, TypeError) as exc:
            raise OAuthError(_("the stored sign-in is unreadable; sign in again")) from exc
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        return cls(access, str(refresh) if refresh else None, expires_at)

    @classmethod
    def from_response(
        cls, data: Mapping[str, Any], *, now: datetime, previous_refresh: str | None = None
    ) -> Tokens:
        """Build tokens from a token-endpoint answer; keep the old refresh token if none came."""
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise OAuthError(_("the sign-in service answered without an access token"))
        try:
            lifetime = int(data.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600
        refresh = data.get("refresh_token") or previous_refresh
        return cls(access, refresh, now + timedelta(seconds=lifetime))


@dataclass(frozen=True)
class DeviceCode:
    """The device authorization answer: what to show, and what to poll with."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int
    verification_uri_complete: str | None = None
    message: str | None = None


def request_device_code(client: OAuthClient, *, timeout: float = HTTP_TIMEOUT) -> DeviceCode:
    """Start the device flow (RFC 8628 section 3.1).

    Raises:
        OAuthError: the service cannot be reached or refused the request.
    """
    form = {"client_id": client.client_id, "scope": " ".join(client.scopes)}
    status, data = _post_form(client.device_url, form, client=client, timeout=timeout)
    if status != 200:
        raise OAuthError(_refusal(client, _REFUSED_START, data))
    # Google says verification_url, RFC 8628 and Microsoft verification_uri.
    uri = data.get("verification_uri") or data.get("verification_url")
    code, user_code = data.get("device_code"), data.get("user_code")
    if not (isinstance(code, str) and isinstance(user_code, str) and isinstance(uri, str)):
        raise OAuthError(
            _("{provider} gave an incomplete device code answer").format(
                provider=client.provider_name
            )
        )
    return DeviceCode(
        device_code=code,
        user_code=user_code,
        verification_uri=uri,
        expires_in=_int(data.get("expires_in"), 900),
        interval=max(0, _int(data.get("interval"), 5)),
        verification_uri_complete=data.get("verification_uri_complete"),
        message=data.get("message"),
    )


def poll_for_tokens(
    client: OAuthClient,
    code: DeviceCode,
    *,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = HTTP_TIMEOUT,
) -> Tokens:
    """Poll the token endpoint until the user approved or refused (RFC 8628 section 3.4-3.5).

    Waits ``interval`` seconds between polls, five more after each ``slow_down``,
    and gives up once the waits add up to the code's lifetime.

    Args:
        clock: Gives the time the tokens were issued (their expiry is counted from it).
        sleep: How to wait between polls.

    Raises:
        OAuthError: the user refused, the code expired, or the service failed.
    """
    interval = code.interval
    waited = 0
    form = {
        "grant_type": _DEVICE_GRANT,
        "client_id": client.client_id,
        "device_code": code.device_code,
    }
    while True:
        if waited >= code.expires_in:
            raise OAuthError(_code_expired(client))
        sleep(interval)
        waited += max(interval, 1)  # an interval of 0 still uses up the code
        status, data = _post_form(client.token_url, form, client=client, timeout=timeout)
        if status == 200 and "access_token" in data:
            return Tokens.from_response(data, now=clock())
        error = data.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += _SLOW_DOWN_STEP
            continue
        if error == "expired_token":
            raise OAuthError(_code_expired(client))
        if error == "access_denied":
            raise OAuthError(
                _(
                    "the sign-in for account {account} was refused in the browser; "
                    "run {command} to try again"
                ).format(account=repr(client.account), command=client.login_command)
            )
        raise OAuthError(_refusal(client, _REFUSED_SIGN_IN, data))


def refresh_tokens(
    client: OAuthClient, tokens: Tokens, *, now: datetime, timeout: float = HTTP_TIMEOUT
) -> Tokens:
    """Renew the access token with the refresh token.

    Raises:
        TokenRevoked: the provider refused the refresh token (``invalid_grant``),
            or there is none: someone must sign in again.
        OAuthError: the service cannot be reached or failed otherwise.
    """
    if not tokens.refresh_token:
        raise TokenRevoked(
            _(
                "the sign-in of account {account} has expired and cannot be renewed "
                "(no refresh token). No mail is fetched or sent for it until you run {command}."
            ).format(account=repr(client.account), command=client.login_command)
        )
    form = {
        "grant_type": "refresh_token",
        "client_id": client.client_id,
        "refresh_token": tokens.refresh_token,
        "scope": " ".join(client.scopes),
    }
    status, data = _post_form(client.token_url, form, client=client, timeout=timeout)
    if status == 200 and "access_token" in data:
        return Tokens.from_response(data, now=now, previous_refresh=tokens.refresh_token)
    if data.get("error") == "invalid_grant":
        raise TokenRevoked(
            _(
                "{provider} no longer accepts the sign-in of account {account} (revoked, "
                "expired, or the password was changed). No mail is fetched or sent for it "
                "until you run {command}."
            ).format(
                provider=client.provider_name,
                account=repr(client.account),
                command=client.login_command,
            )
        )
    raise OAuthError(_refusal(client, _REFUSED_RENEWAL, data))


def _post_form(
    url: str, form: Mapping[str, str], *, client: OAuthClient, timeout: float
) -> tuple[int, dict[str, Any]]:
    """POST a form, return the status and the JSON body (``{}`` when it is not JSON)."""
    body = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = int(response.status), response.read()
    except urllib.error.HTTPError as exc:  # 4xx/5xx carry the OAuth error as JSON
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise OAuthError(
            _("cannot reach the sign-in service of account {account} ({host}): {reason}").format(
                account=repr(client.account), host=urllib.parse.urlsplit(url).netloc, reason=reason
            )
        ) from exc
    try:
        data = json.loads(raw.decode("utf-8", "replace")) if raw else {}
    except ValueError:
        data = {}
    return status, data if isinstance(data, dict) else {}


#: What the provider refused, for :func:`_refusal`.
_REFUSED_START = N_("{provider} refused to start the sign-in for account {account} ({error})")
_REFUSED_SIGN_IN = N_("{provider} refused the sign-in for account {account} ({error})")
_REFUSED_RENEWAL = N_("{provider} refused to renew the sign-in for account {account} ({error})")


def _refusal(client: OAuthClient, refusal: str, data: Mapping[str, Any]) -> str:
    code = str(data.get("error") or "")
    error = code or _("no error code")
    description = data.get("error_description")
    if isinstance(description, str) and description:
        error += f": {description.splitlines()[0][:200]}"
    text = _(refusal).format(
        provider=client.provider_name, account=repr(client.account), error=error
    )
    if code == "invalid_scope" and client.provider == "google":
        text += "; " + _("Google's device sign-in does not grant the mail scope, see {doc}").format(
            doc="docs/oauth2.md"
        )
    elif code in ("invalid_client", "unauthorized_client"):
        text += "; " + _("check {key} and that public client flows are allowed for the app").format(
            key="oauth2_client_id"
        )
    return text


def _code_expired(client: OAuthClient) -> str:
    return _(
        "the sign-in code for account {account} expired before it was approved; run {command} again"
    ).format(account=repr(client.account), command=client.login_command)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
