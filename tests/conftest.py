"""Fixtures of the test rig: real servers, real databases, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest
from hypothesis import settings
from sqlalchemy.engine import Engine

from cs_console.store.engine import make_engine
from cs_console.store.migrate import upgrade
from tests.rig.database import check_postgres, postgres_schema
from tests.rig.dovecot import USER, Dovecot, start_dovecot
from tests.rig.memory_keyring import MemoryKeyring
from tests.rig.oauth_server import OAuthServer
from tests.rig.smtp import SmtpServer
from tests.rig.workspace import PASSWORD, PASSWORD_ENV

DATA = Path(__file__).parent / "data"
MAIL_DATA = DATA / "mail"
FIXED_NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # a Tuesday, shop hours in Madrid

# Under scripts/test property tests draw the same examples on every run, so a
# run's verdict depends on the code, not on the seed; exploring new examples
# is for local runs (plain `pytest`), which keep Hypothesis' random search.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
if os.environ.get("CS_FORBID_SKIPS"):
    settings.load_profile("repeatable")


@pytest.fixture
def now() -> datetime:
    """A fixed 'now' for domain code (time is a parameter)."""
    return FIXED_NOW


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    server = start_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot(dovecot_server: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Dovecot:
    """The rig's Dovecot with empty mailboxes, and the account's password in the environment."""
    for user in dovecot_server.users:
        dovecot_server.reset_user(user)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return dovecot_server


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """A real keyring backend that keeps secrets in memory, for this test only."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def oauth_server() -> Iterator[OAuthServer]:
    """A local OAuth2 sign-in server (device code, token, introspection) for the rig's user."""
    server = OAuthServer(user=USER).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def smtp_server_session() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_session: SmtpServer) -> SmtpServer:
    """The rig's SMTP server, running, with nothing received and no failures queued."""
    smtp_server_session.reset()
    return smtp_server_session


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cs.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_available() -> None:
    check_postgres()


@pytest.fixture
def pg_engine(postgres_available: None) -> Iterator[Engine]:
    with postgres_schema() as (engine, _schema):
        yield engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Storage tests run on both engines."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under scripts/test (CS_FORBID_SKIPS=1) a skipped test fails the run: skips are not passes."""
    if not os.environ.get("CS_FORBID_SKIPS") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"{len(skipped)} test(s) skipped: a missing server, package or dictionary must be "
            "installed (scripts/install-system-packages), not skipped.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
