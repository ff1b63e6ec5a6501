"""Key bindings in the interface's language.

``BINDINGS`` are class attributes, read when the class is defined, before the
language is chosen: their descriptions and tooltips stay English (marked with
:func:`~cs_console.i18n.N_` for the catalogs) and each app or screen swaps in
the translation for its own copy of the bindings when it is created, so the
footer, the help screen and the command palette all show the translation.
"""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from cs_console.i18n import N_, _

__all__ = ["TEXTUAL_WORDS", "translate_bindings"]

#: Textual's own bindings that the help screen and the palette show, for the catalogs.
TEXTUAL_WORDS = (
    N_("Quit"),
    N_("Quit the app and return to the command prompt."),
    N_("Focus Next"),
    N_("Focus Previous"),
    N_("Copy selected text"),
)


def translate_bindings(node: DOMNode) -> None:
    """Translate the descriptions and tooltips of ``node``'s own bindings (not its class's)."""
    mapping = node._bindings.key_to_bindings
    for key, bindings in list(mapping.items()):
        # A new list: the copy a node gets shares its lists with the class's bindings.
        mapping[key] = [
            replace(
                binding,
                description=_(binding.description) if binding.description else "",
                tooltip=_(binding.tooltip) if binding.tooltip else "",
            )
            for binding in bindings
        ]
