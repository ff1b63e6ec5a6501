"""Settings from a TOML file, validated with pydantic.

The file lives at the XDG config path (``~/.config/cs-console/config.toml``),
or where ``--config PATH`` or ``CS_CONSOLE_CONFIG`` point. Relative paths in the
file are relative to the file's folder, so a workspace folder (the demo, a
test) is self-contained.

Passwords are never read from the file: each account names where its secret
comes from (an environment variable, a command, or the system keyring); see
:mod:`cs_console.secrets`.
"""

from __future__ import annotations

import getpass
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cs_console.desk.autoreply_settings import AutoReplySettings
from cs_console.desk.canned.settings import CannedSettings
from cs_console.desk.routing import RoutingSettings
from cs_console.desk.sla.settings import BusinessHoursSettings, SlaSettings
from cs_console.desk.survey_settings import SurveySettings
from cs_console.desk.threading_settings import ThreadingSettings
from cs_console.desk.writing.settings import WritingConfig
from cs_console.errors import ConfigError
from cs_console.i18n import _, ngettext
from cs_console.paths import (
    config_path,
    default_data_dir,
    default_database_url,
    resolve_sqlite_url,
)
from cs_console.tui.keys import KeySettings

Security = Literal["tls", "starttls", "none"]

_IMAP_PORTS = {"tls": 993, "starttls": 143, "none": 143}
_SMTP_PORTS = {"tls": 465, "starttls": 587, "none": 25}
_FORBIDDEN_SECRET_KEYS = ("password", "pass", "secret", "smtp_password", "imap_password")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShopSettings(_Section):
    """Who the shop is and where it is."""

    name: str = Field(default="My shop", description="Shown to customers in From and in replies.")
    timezone: str = Field(
        default="UTC",
        description="IANA time zone of the shop's business hours, e.g. Europe/Madrid.",
    )
    language: Literal["es", "en"] = Field(
        default="en", description="Language of the interface and of automatic messages."
    )
    country: str | None = Field(
        default=None, description="ISO 3166 country code for public holidays, e.g. ES."
    )
    region: str | None = Field(default=None, description="Region code for holidays, e.g. MD.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                _("unknown time zone {value} (use a name like 'Europe/Madrid')").format(
                    value=repr(value)
                )
            ) from exc
        return value


class AgentSettings(_Section):
    """Who is using this console."""

    name: str = Field(
        default_factory=lambda: _os_user(),
        description="Short agent name recorded on replies and changes.",
        json_schema_extra={"doc_default": "your login name"},
    )
    display_name: str | None = Field(default=None, description="Full name used in signatures.")
    email: str | None = Field(default=None, description="The agent's own address (informational).")
    language: str | None = Field(
        default=None,
        description="Language of this agent's console and CLI messages (en, es); default: "
        "$CS_CONSOLE_LANG, else the locale's. [shop] language is the customers' language.",
    )

    @field_validator("language")
    @classmethod
    def _supported_language(cls, value: str | None) -> str | None:
        from cs_console.i18n import SUPPORTED_LANGUAGES

        if value is not None and value not in SUPPORTED_LANGUAGES:
            raise ValueError(
                _("unsupported language {value} (use one of: {choices})").format(
                    value=repr(value), choices=", ".join(SUPPORTED_LANGUAGES)
                )
            )
        return value


class StorageSettings(_Section):
    """Where data lives."""

    data_dir: Path | None = Field(
        default=None, description="Attachments, locks and the default SQLite file."
    )


class DatabaseSettings(_Section):
    """The database: a SQLite file by default, or PostgreSQL for a team."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/cs-console.db. "
        "For a team: postgresql+psycopg://user@host:5432/dbname",
    )

    @field_validator("url")
    @classmethod
    def _supported_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError(
                _("use a {sqlite} or {postgresql} URL").format(
                    sqlite="sqlite:///PATH", postgresql="postgresql+psycopg://..."
                )
            )
        if "@" in value and ":" in value.split("@", 1)[0].split("//", 1)[-1]:
            raise ValueError(
                _("put no password in the database URL; use a {pgpass} file or {variable}").format(
                    pgpass="~/.pgpass", variable="PGPASSWORD"
                )
            )
        return value


class AccountSettings(_Section):
    """One mail account: where customer mail comes in and replies go out."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="Short unique name (letters, digits, - _ .), e.g. 'shop'.",
    )
    address: str = Field(description="The shop's address customers write to.")
    display_name: str | None = Field(default=None, description="Shown in From; default shop name.")
    imap_host: str = Field(description="IMAP server, e.g. imap.gmail.com.")
    imap_port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 993 with tls, 143 otherwise."
    )
    imap_security: Security = Field(
        default="tls", description="tls (implicit), starttls (required upgrade) or none."
    )
    username: str = Field(description="Login name, usually the address.")
    folders: list[str] = Field(
        default_factory=lambda: ["INBOX"], description="Folders to pull customer mail from."
    )
    smtp_host: str | None = Field(default=None, description="Default: the IMAP host.")
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Security = Field(
        default="starttls", description="tls (port 465), starttls (587) or none."
    )
    smtp_username: str | None = Field(default=None, description="Default: username.")
    password_env: str | None = Field(
        default=None, description="Read the password from this environment variable."
    )
    password_cmd: str | None = Field(
        default=None, description="Run this command; its first output line is the password."
    )
    password_keyring: bool = Field(
        default=False, description="Read the password from the system keyring (cs-console/NAME)."
    )
    auth: Literal["password", "oauth2"] = Field(
        default="password",
        description="How to log in: a password, or OAuth2 sign-in (see oauth2.md).",
    )
    oauth2_provider: Literal["microsoft", "google", "custom"] | None = Field(
        default=None, description="With auth = 'oauth2': whose sign-in service issues the tokens."
    )
    oauth2_client_id: str | None = Field(
        default=None, description="The application (client) ID registered with the provider."
    )
    oauth2_tenant: str = Field(
        default="common", description="Microsoft Entra tenant: 'common', 'organizations' or an ID."
    )
    oauth2_scopes: list[str] | None = Field(
        default=None, description="Default per provider (IMAP, SMTP and offline access)."
    )
    oauth2_device_url: str | None = Field(
        default=None, description="Device authorization endpoint (needed for 'custom')."
    )
    oauth2_token_url: str | None = Field(
        default=None, description="Token endpoint (needed for 'custom')."
    )
    tls_verify: bool = Field(
        default=True, description="Verify server certificates. Turning it off is unsafe."
    )
    ca_file: Path | None = Field(default=None, description="Extra CA certificate (PEM) to trust.")
    sent_folder: str | None = Field(default=None, description="Default: found by SPECIAL-USE.")
    after_ingest: Literal["keep", "seen", "move"] = Field(
        default="keep",
        description="After a message is safely stored: leave it, mark it seen, or move it.",
    )
    move_to: str | None = Field(default=None, description="Folder for after_ingest = 'move'.")
    html_replies: bool = Field(
        default=False, description="Add an HTML part (from the same text) to replies."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_plain_password(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in _FORBIDDEN_SECRET_KEYS:
                if key in data:
                    raise ValueError(
                        _(
                            "{key} is not allowed: never put a password in the config file. "
                            "Use {env}, {cmd} or {keyring}"
                        ).format(
                            key=f"'{key}'",
                            env="password_env",
                            cmd="password_cmd",
                            keyring="password_keyring = true",
                        )
                    )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> AccountSettings:
        sources = [self.password_env, self.password_cmd, self.password_keyring or None]
        if sum(source is not None for source in sources) > 1:
            raise ValueError(
                _("give only one of {keys}").format(
                    keys="password_env, password_cmd, password_keyring"
                )
            )
        if "@" not in self.address:
            raise ValueError(
                _("address {address} is not an email address").format(address=repr(self.address))
            )
        if self.auth == "oauth2":
            self._check_oauth2()
        if self.after_ingest == "move" and not self.move_to:
            raise ValueError(
                _("{setting} needs {needed}").format(
                    setting="after_ingest = 'move'", needed="move_to = 'FOLDER'"
                )
            )
        if not self.folders:
            raise ValueError(
                _("{key} must name at least one folder, e.g. {example}").format(
                    key="folders", example="['INBOX']"
                )
            )
        for folder in [*self.folders, self.sent_folder or "", self.move_to or ""]:
            if any(ord(c) < 32 or ord(c) == 127 for c in folder):
                raise ValueError(
                    _("folder name {folder} holds a control character").format(folder=repr(folder))
                )
        return self

    def _check_oauth2(self) -> None:
        if self.password_env or self.password_cmd or self.password_keyring:
            raise ValueError(
                _("{setting} takes no {env}, {cmd} or {keyring}").format(
                    setting="auth = 'oauth2'",
                    env="password_env",
                    cmd="password_cmd",
                    keyring="password_keyring",
                )
            )
        if self.oauth2_provider is None:
            raise ValueError(
                _("{setting} needs {key} = {first}, {second} or {third}").format(
                    setting="auth = 'oauth2'",
                    key="oauth2_provider",
                    first="'microsoft'",
                    second="'google'",
                    third="'custom'",
                )
            )
        if not self.oauth2_client_id:
            raise ValueError(
                _("{setting} needs {key} (the application ID you registered)").format(
                    setting="auth = 'oauth2'", key="oauth2_client_id"
                )
            )
        if self.oauth2_provider == "custom":
            for key in ("oauth2_device_url", "oauth2_token_url", "oauth2_scopes"):
                if not getattr(self, key):
                    raise ValueError(
                        _("{setting} needs {needed}").format(
                            setting="oauth2_provider = 'custom'", needed=key
                        )
                    )
        for key in ("oauth2_device_url", "oauth2_token_url"):
            url = getattr(self, key)
            if url and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                raise ValueError(
                    _("{key} must be an {scheme} URL").format(key=key, scheme="https://")
                )

    @property
    def imap_port_effective(self) -> int:
        return self.imap_port or _IMAP_PORTS[self.imap_security]

    @property
    def smtp_host_effective(self) -> str:
        return self.smtp_host or self.imap_host

    @property
    def smtp_port_effective(self) -> int:
        return self.smtp_port or _SMTP_PORTS[self.smtp_security]

    @property
    def smtp_username_effective(self) -> str:
        return self.smtp_username or self.username

    @property
    def has_secret_source(self) -> bool:
        return self.auth == "oauth2" or bool(
            self.password_env or self.password_cmd or self.password_keyring
        )


class OutboxSettings(_Section):
    """How replies leave."""

    undo_seconds: int = Field(
        default=10, ge=0, le=600, description="Seconds a sent reply can still be pulled back."
    )
    deliver_to_folder: Path | None = Field(
        default=None,
        description="Write outgoing mail as .eml files here instead of SMTP (the demo uses it).",
    )


class Settings(_Section):
    """The whole config file."""

    shop: ShopSettings = Field(default_factory=ShopSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    accounts: list[AccountSettings] = Field(default_factory=list)
    business_hours: BusinessHoursSettings = Field(default_factory=BusinessHoursSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    surveys: SurveySettings = Field(default_factory=SurveySettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    autoreply: AutoReplySettings = Field(default_factory=AutoReplySettings)
    threading: ThreadingSettings = Field(default_factory=ThreadingSettings)
    keys: KeySettings = Field(
        default_factory=KeySettings,
        description='Console key bindings: binding id = key(s), e.g. "ticket.reply" = "R".',
    )
    canned: CannedSettings = Field(default_factory=CannedSettings)
    writing: WritingConfig = Field(default_factory=WritingConfig)

    # Not from the file: where it was read from (None for defaults).
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique_account_names(self) -> Settings:
        names = [a.name for a in self.accounts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                _("account names must be unique: {names}").format(names=", ".join(duplicates))
            )
        return self

    @property
    def data_dir(self) -> Path:
        """The folder for attachments, locks and the default database."""
        return self.storage.data_dir or default_data_dir()

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return default_database_url(self.data_dir)

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    def account(self, name: str) -> AccountSettings:
        for account in self.accounts:
            if account.name == name:
                return account
        if self.source is None:
            raise ConfigError(_("no account named {name} in the config").format(name=repr(name)))
        raise ConfigError(
            _("no account named {name} in {path}").format(name=repr(name), path=self.source)
        )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "agent"


def load_settings(path: Path | str | None = None, *, missing_ok: bool = False) -> Settings:
    """Read and validate the config file.

    Raises:
        ConfigError: the file is missing (unless ``missing_ok``), unreadable, not
            TOML, or invalid; the message names the file, the key and the problem.
    """
    file = config_path(path)
    if not file.exists():
        if missing_ok:
            return Settings()
        raise ConfigError(
            _(
                "no config file at {path}. Create one with `cs-console init`, "
                "copy config.example.toml, or try `cs-console demo`."
            ).format(path=file),
            title="No configuration",
        )
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            _("cannot read {path}: {reason}").format(path=file, reason=exc.strerror or exc)
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            _("{path} is not UTF-8 text: {reason}").format(path=file, reason=exc.reason)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("{path} is not valid TOML: {reason}").format(path=file, reason=exc)
        ) from exc
    return settings_from_mapping(data, source=file)


def settings_from_mapping(data: Mapping[str, Any], *, source: Path | None = None) -> Settings:
    """Validate an already parsed config; relative paths resolve against ``source``'s folder."""
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, data, source)) from exc
    settings.source = source
    if source is not None:
        _resolve_relative_paths(settings, source.parent)
    return settings


def _resolve_relative_paths(settings: Settings, base: Path) -> None:
    def resolve(path: Path | None) -> Path | None:
        if path is None:
            return None
        path = path.expanduser()
        return path if path.is_absolute() else (base / path).resolve()

    settings.storage.data_dir = resolve(settings.storage.data_dir)
    settings.outbox.deliver_to_folder = resolve(settings.outbox.deliver_to_folder)
    settings.canned.folder = resolve(settings.canned.folder)
    for account in settings.accounts:
        account.ca_file = resolve(account.ca_file)
    if settings.database.url:
        settings.database.url = resolve_sqlite_url(settings.database.url, base)


def _describe_validation_error(
    exc: ValidationError, data: Mapping[str, Any], source: Path | None
) -> str:
    count = exc.error_count()
    if source is None:
        head = ngettext(
            "the config has {count} problem:", "the config has {count} problems:", count
        ).format(count=count)
    else:
        head = ngettext(
            "{path} has {count} problem:", "{path} has {count} problems:", count
        ).format(path=source, count=count)
    lines = [head]
    for error in exc.errors():
        key = _key_path(error["loc"], data)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = _("unknown key (check the spelling; see {example})").format(
                example="config.example.toml"
            )
        elif error["type"] == "missing":
            message = _("required key is missing")
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def _key_path(loc: tuple[int | str, ...], data: Mapping[str, Any]) -> str:
    """Render a pydantic location as a TOML key path, naming accounts by their name."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            name = None
            if isinstance(node, list) and item < len(node) and isinstance(node[item], Mapping):
                name = node[item].get("name")
            parts[-1:] = [
                f"{parts[-1] if parts else ''}[{item}]" + (f" ({name!r})" if name else "")
            ]
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, Mapping) else None
    return ".".join(parts) or _("(top level)")
