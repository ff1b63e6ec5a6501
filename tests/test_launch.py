"""``cs-console`` without a command: the first page before the CLI and the database layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from cs_console.config import load_settings
from cs_console.errors import ConfigError
from cs_console.launch import ConsoleOptions, console_options, global_lang
from cs_console.tui import first_page
from tests.test_tui_support import seed

#: Runs ``cs_console.launch.main`` headless; the console quits once the workspace is
#: loaded and prints which heavy modules were loaded when the first page was shown.
RUNNER = textwrap.dedent(
    """
    import json, sys
    from functools import partialmethod
    from cs_console.tui.app import ConsoleApp
    from cs_console.tui.screens.queue import QueueScreen

    seen = {}
    apply = QueueScreen._apply
    load = ConsoleApp._load_workspace

    def _apply(self, *args):
        seen.setdefault("rows", len(args[1]))
        apply(self, *args)

    def _load_workspace(self, page):
        # Called once the first page is painted, before anything heavy is imported.
        heavy = ("sqlalchemy", "pydantic", "typer", "cs_console.cli", "cs_console.config")
        seen["loaded"] = sorted(m for m in heavy if m in sys.modules)
        return load(self, page)

    QueueScreen._apply = _apply
    ConsoleApp._load_workspace = _load_workspace
    loaded = ConsoleApp._loaded

    async def _loaded(self, settings, engine):
        await loaded(self, settings, engine)
        seen["ready"] = self.ready
        self.exit()

    ConsoleApp._loaded = _loaded
    ConsoleApp.run = partialmethod(ConsoleApp.run, headless=True, size=(120, 40))
    from cs_console.launch import main

    try:
        main(sys.argv[1:])
    finally:
        print(json.dumps(seen))
    """
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _config(tmp_path: Path, engine: Engine, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[agent]\nname = "ana"\n\n[database]\nurl = "{engine.url}"\n{extra}', encoding="utf-8"
    )
    return config


def test_console_options_only_for_the_bare_command() -> None:
    assert console_options([]) == ConsoleOptions()
    assert console_options(["-c", "a.toml", "--lang=es", "--debug"]) == ConsoleOptions(
        config="a.toml", lang="es", debug=True
    )
    assert console_options(["--config=a.toml"]) == ConsoleOptions(config="a.toml")
    for args in (["doctor"], ["--help"], ["--version"], ["-c"], ["-c", "a", "demo"], ["-x"]):
        assert console_options(args) is None


def test_the_first_page_is_shown_before_the_cli_and_the_database_layer(
    sqlite_engine: Engine, now: datetime, tmp_path: Path
) -> None:
    seed(sqlite_engine, now)
    config = _config(tmp_path, sqlite_engine)
    assert first_page.prepare(config, limit=150) is not None
    done = _run("--config", str(config))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == [] and seen["rows"] > 0 and seen["ready"] is True


def test_a_broken_config_is_reported_by_the_cli(
    sqlite_engine: Engine, now: datetime, tmp_path: Path
) -> None:
    seed(sqlite_engine, now)
    config = _config(tmp_path, sqlite_engine, '\n[shop]\ntimezone = "Nowhere/City"\n')
    assert first_page.prepare(config, limit=150) is not None  # painted, then refused
    with pytest.raises(ConfigError) as expected:
        load_settings(config)
    done = _run("--config", str(config))
    assert done.returncode == 1, done.stderr
    assert "Configuration error" in done.stderr and "shop.timezone" in done.stderr
    assert " ".join(expected.value.message.split()) in " ".join(done.stderr.split())
    assert "ready" not in json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lang", "es", "--help"], "es"),
        (["--lang=es", "report", "--help"], "es"),
        (["-c", "x.toml", "--lang", "en", "list"], "en"),
        (["report", "--lang", "es"], None),  # after the command: the command's own
        (["--config", "--lang"], None),
        ([], None),
    ],
)
def test_global_lang(args: list[str], expected: str | None) -> None:
    assert global_lang(args) == expected


def test_help_follows_the_lang_option(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CS_CONSOLE_LANG", "LC_ALL", "LANG")}
    spanish = subprocess.run(
        [sys.executable, "-m", "cs_console", "--lang", "es", "report", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "Volúmenes" in spanish
    english = subprocess.run(
        [sys.executable, "-m", "cs_console", "report", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "Volúmenes" not in english and "SLA" in english


_PAGE = first_page.FirstPage(
    config_file=Path("config.toml"),
    database_url="sqlite:///cs.db",
    language=None,
    agent="ana",
    shop="Shop",
    rows=[],
    more=False,
)


class _FailingApp:
    """Stands in for the console: its loading thread met a bug."""

    def __init__(self, **_: Any) -> None:
        self.ready = False
        self.load_error: BaseException | None = RuntimeError("boom while loading")

    def run(self) -> None:
        pass


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_loading_error_is_reported_once(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], debug: bool
) -> None:
    import cs_console.tui.app
    from cs_console import launch

    monkeypatch.setattr(first_page, "prepare", lambda *_a, **_k: _PAGE)
    monkeypatch.setattr(cs_console.tui.app, "ConsoleApp", _FailingApp)
    if debug:
        with pytest.raises(RuntimeError, match="boom"):
            launch.main(["--debug"])
        return
    with pytest.raises(SystemExit) as exited:
        launch.main([])  # not the CLI again: that would open the console a second time
    assert exited.value.code == 2
    err = capfd.readouterr().err
    assert "Unexpected error" in err and "boom while loading" in err
