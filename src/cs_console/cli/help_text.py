"""``--help`` in the interface's language.

Commands keep plain English docstrings and ``help=`` strings (``scripts/i18n``
extracts them with ``scripts/i18n_extract.py``); :func:`translate_help` swaps
them for their translation once, before Typer builds the Click commands. The
language must be chosen by then, so ``--help`` follows ``CS_CONSOLE_LANG`` or
the locale, not the config (read later); :func:`cs_console.launch.main` passes
a global ``--lang`` on through ``CS_CONSOLE_LANG``.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer
import typer.rich_utils
from typer.models import ParameterInfo

from cs_console.i18n import N_, _

__all__ = ["translate_help"]

# Each object's English text, so translating again (another language) starts from it.
_ORIGINAL: dict[tuple[int, str], str] = {}


#: Typer's own words in the help screens, by their name in :mod:`typer.rich_utils`.
_TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
}


def _swap(obj: Any, attr: str) -> None:
    key = (id(obj), attr)
    original = _ORIGINAL.get(key)
    if original is None:
        value = getattr(obj, attr, None)
        if not isinstance(value, str) or not value:
            return
        _ORIGINAL[key] = original = value
    setattr(obj, attr, _(original))


def _parameters(callback: Any) -> None:
    for parameter in inspect.signature(callback).parameters.values():
        if isinstance(parameter.default, ParameterInfo):
            _swap(parameter.default, "help")


def _command(info: Any) -> None:
    callback = info.callback
    if callback is None:
        return
    key = (id(info), "help")
    if key not in _ORIGINAL and not isinstance(info.help, str):
        doc = inspect.getdoc(callback)
        if doc:
            _ORIGINAL[key] = doc
    _swap(info, "help")
    _swap(info, "rich_help_panel")
    _parameters(callback)


def translate_help(app: typer.Typer) -> None:
    """Translate the help of ``app``'s commands, groups and options into the current language."""
    for name, english in _TYPER_WORDS.items():
        setattr(typer.rich_utils, name, _(english))
    _swap(app.info, "help")
    if app.registered_callback is not None:
        _command(app.registered_callback)
    for info in app.registered_commands:
        _command(info)
    for group in app.registered_groups:
        _swap(group, "rich_help_panel")
        _swap(group, "help")
        if group.typer_instance is not None:
            translate_help(group.typer_instance)
