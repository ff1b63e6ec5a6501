"""Small modal screens: pick one of many (fuzzy), type a value, and the help."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from cs_console.i18n import N_, _
from cs_console.tui.format import safe_line, safe_text
from cs_console.tui.translate import translate_bindings

__all__ = ["ChoiceScreen", "HelpScreen", "PromptScreen"]


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one value; type to filter (fuzzy). Options on top stay on top when unfiltered.

    Args:
        title: What is being chosen.
        options: ``(value, label)`` pairs; labels may come from outside (shown as data).
        current: The value to highlight first.
        preview: Called with the highlighted value; its text is shown beside the list.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel", tooltip=N_("Close"))
    ]

    def __init__(
        self,
        title: str,
        options: Sequence[tuple[str, str]],
        *,
        current: str | None = None,
        preview: Callable[[str], Text] | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        translate_bindings(self)
        self.title_text = title
        self.options = list(options)
        self.current = current
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), id="dialog-title")
            yield Input(placeholder=_("type to filter"), id="choice-filter")
            with Horizontal():
                yield OptionList(id="choice-list")
                if self.preview is not None:
                    with VerticalScroll(id="choice-preview-box"):
                        yield Static(id="choice-preview")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, query: str) -> None:
        option_list = self.query_one(OptionList)
        option_list.clear_options()
        if query:
            matcher = Matcher(query)
            scored = [(matcher.match(label), value, label) for value, label in self.options]
            chosen = [
                (value, label)
                for score, value, label in sorted(scored, key=lambda x: -x[0])
                if score > 0
            ]
        else:
            chosen = self.options
        option_list.add_options(
            [Option(safe_line(label), id=f"o{i}") for i, (_value, label) in enumerate(chosen)]
        )
        self._shown = [value for value, _ in chosen]
        if self._shown:
            index = self._shown.index(self.current) if self.current in self._shown else 0
            option_list.highlighted = index
            self._show_preview(self._shown[index])

    def _show_preview(self, value: str) -> None:
        if self.preview is not None:
            self.query_one("#choice-preview", Static).update(self.preview(value))

    @on(Input.Changed, "#choice-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#choice-filter")
    def _submit(self) -> None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is not None and self._shown:
            self.dismiss(self._shown[option_list.highlighted])

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self._shown):
            self._show_preview(self._shown[event.option_index])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._shown[event.option_index])

    def key_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def key_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """Type one value (a folder, tags, a ticket number); Enter accepts, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel", tooltip=N_("Close"))
    ]

    def __init__(self, title: str, *, value: str = "", placeholder: str = "") -> None:
        super().__init__(classes="dialog")
        translate_bindings(self)
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), id="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """The keys of the screen below, generated from its real (possibly remapped) bindings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,q,question_mark", "close", N_("Close"), id="help.close", tooltip=N_("Close")
        )
    ]

    def __init__(self, title: str, rows: Sequence[tuple[str, str, str]]) -> None:
        super().__init__(classes="dialog")
        translate_bindings(self)
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Text()
        width = max((len(k) for k, _, _ in self.rows), default=4) + 2
        for key, description, tooltip in self.rows:
            table.append(key.ljust(width), style="bold cyan")
            table.append(description)
            if tooltip and tooltip != description:
                table.append(f"  {tooltip}", style="dim")
            table.append("\n")
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), id="dialog-title")
            with VerticalScroll():
                yield Static(table, id="help-table")
            yield Static(
                safe_text(_("Esc closes. Keys can be changed in the [keys] config table."))
            )

    def action_close(self) -> None:
        self.dismiss(None)
