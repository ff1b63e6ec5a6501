"""Safe variable substitution for canned answers.

Syntax: ``{{ name }}`` or ``{{ name | "default text" }}``. A name is letters,
digits and underscores, not starting with a digit. Anything that does not match
this grammar is left as it is. Rendering is one pass of a regular expression:
no code runs, no attribute is looked up, no file is read, and a value that
itself contains ``{{ ... }}`` is inserted verbatim, never expanded again.

A variable with no value (absent or blank) takes its default when it has one.
Without a default it is rendered as a visible marker (``⟦missing: name⟧``) and
reported in :attr:`Rendered.missing` when it is a standard variable or a key
of the mapping given, or in :attr:`Rendered.unknown` when the name is neither
(usually a typo). The editor shows both and refuses to send while either is
non-empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "STANDARD_VARIABLES",
    "Rendered",
    "missing_marker",
    "render",
    "template_variables",
]

STANDARD_VARIABLES: frozenset[str] = frozenset(
    {
        "customer_first_name",
        "customer_name",
        "order_number",
        "ticket_number",
        "agent_name",
        "shop_name",
        "expected_answer_time",
    }
)
"""Variables the console fills for every ticket (when it knows them)."""

_PLACEHOLDER = re.compile(
    r"\{\{[ \t]*(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*"
    r"(?:\|[ \t]*\"(?P<default>[^\"\r\n{}]*)\"[ \t]*)?\}\}"
)


@dataclass(frozen=True)
class Rendered:
    """The result of :func:`render`.

    Attributes:
        text: The text with every placeholder replaced by its value, its
            default, or a visible marker.
        missing: Standard or supplied variables that had no value and no
            default, in order of first appearance.
        unknown: Names without a default that are neither standard variables
            nor keys of the mapping given (typos, usually).
    """

    text: str
    missing: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the text can be sent as it is."""
        return not self.missing and not self.unknown


def missing_marker(name: str) -> str:
    """The visible marker that stands in for a variable with no value."""
    return f"⟦missing: {name}⟧"


def render(template: str, variables: Mapping[str, str]) -> Rendered:
    """Replace the placeholders of ``template`` with ``variables``.

    Args:
        template: Template text (may come from a user-edited file).
        variables: Values by name; standard variables plus any extra ones
            (for example the columns of an outreach CSV). Blank values count
            as absent.

    Returns:
        The rendered text and the names that could not be filled.
    """
    missing: list[str] = []
    unknown: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group("name")
        default = match.group("default")
        value = variables.get(name)
        if value is not None and not isinstance(value, str):
            value = str(value)
        if value is not None and value.strip():
            return value
        if default is not None:
            return default
        bucket = missing if name in STANDARD_VARIABLES or name in variables else unknown
        if name not in bucket:
            bucket.append(name)
        return missing_marker(name)

    text = _PLACEHOLDER.sub(substitute, template)
    return Rendered(text=text, missing=tuple(missing), unknown=tuple(unknown))


def template_variables(template: str) -> set[str]:
    """Names of every variable the template uses."""
    return {match.group("name") for match in _PLACEHOLDER.finditer(template)}
