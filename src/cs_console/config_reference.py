"""The configuration reference, generated from the settings models so it cannot drift.

``python -m cs_console.config_reference > docs/configuration.md`` rewrites the
document; a test fails when the committed file differs from what this prints.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, RootModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from cs_console.config import Settings

INTRO = """\
# Configuration reference

cs-console reads one TOML file: `~/.config/cs-console/config.toml` (the XDG config
path), or the file named by `--config PATH` or `$CS_CONSOLE_CONFIG`. Every key is
optional unless marked *required*; relative paths are relative to the file's folder.
`config.example.toml` is a commented starting point, and `cs-console doctor` checks
a file. An unknown or misspelt key is an error that names the file and the key.

Passwords are never written in this file: each account says where its secret comes
from (`password_env`, `password_cmd` or `password_keyring`).

This page is generated from the program's settings models
(`python -m cs_console.config_reference`).
"""


def render_reference() -> str:
    """The whole reference as Markdown."""
    parts = [INTRO]
    for name, field in Settings.model_fields.items():
        if field.exclude:
            continue
        model, is_list = _model_of(field.annotation)
        if model is None:
            continue
        header = f"[[{name}]]" if is_list else f"[{name}]"
        parts.append(f"\n## `{header}`\n")
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            parts.append(f"{doc[0]}\n")
        if issubclass(model, RootModel):
            parts.append(_root_table(model))
            continue
        parts.append(_table(model, prefix=""))
        for sub_name, sub_field in model.model_fields.items():
            sub_model, sub_list = _model_of(sub_field.annotation)
            if sub_model is not None:
                sub_header = f"[[{name}.{sub_name}]]" if sub_list else f"[{name}.{sub_name}]"
                parts.append(f"\n### `{sub_header}`\n")
                sub_doc = (sub_model.__doc__ or "").strip().splitlines()
                if sub_doc:
                    parts.append(f"{sub_doc[0]}\n")
                parts.append(_table(sub_model, prefix=""))
    return "\n".join(parts).rstrip() + "\n"


def _root_table(model: type[BaseModel]) -> str:
    """A free-form table (e.g. ``[keys]``): its keys are listed by the model itself."""
    known: list[str] = sorted(getattr(model, "known_keys", lambda: [])())
    lines = ['Each entry is `id = "key"` (several keys separated by commas). The ids:', ""]
    lines += [f"`{key}`" + ("," if i < len(known) - 1 else ".") for i, key in enumerate(known)]
    return "\n".join(lines) + "\n"


def _table(model: type[BaseModel], *, prefix: str) -> str:
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        if field.exclude or _model_of(field.annotation)[0] is not None:
            continue
        rows.append(
            f"| `{prefix}{name}` | {_type_name(field.annotation)} | {_default(field)} | "
            f"{(field.description or '').replace('|', '/')} |"
        )
    return "\n".join(rows) + "\n"


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    origin = typing.get_origin(annotation)
    if origin is list:
        (inner,) = typing.get_args(annotation)
        model, _ = _model_of(inner)
        return model, model is not None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " / ".join(f'"{a}"' for a in args)
    if origin in (types.UnionType, typing.Union):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " / ".join(names)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return "table"
    mapping = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if annotation in mapping:
        return mapping[annotation]
    return getattr(annotation, "__name__", str(annotation)).replace("Path", "path")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "*required*"
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "doc_default" in extra:
        return str(extra["doc_default"])
    if field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            return "(see below)"
        return f"`{_toml(value)}`"
    if field.default is PydanticUndefined or field.default is None:
        return "(none)"
    return f"`{_toml(field.default)}`"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


if __name__ == "__main__":
    print(render_reference(), end="")
