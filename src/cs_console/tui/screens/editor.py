"""The reply (or note) editor: greeting and signature, canned answers, hints, drafts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from cs_console.desk.ticket_view import TicketView
from cs_console.i18n import N_, _, pgettext
from cs_console.tui.format import safe_line, safe_text
from cs_console.tui.gateway import greeting, signature, without_repeated_greeting
from cs_console.tui.screens._base import ConsoleScreen
from cs_console.tui.screens.dialogs import ChoiceScreen
from cs_console.tui.widgets import StatusBar

if TYPE_CHECKING:
    from cs_console.tui.app import ConsoleApp

#: Save the draft this long after the last key press...
DRAFT_DEBOUNCE = 1.0
#: ...and at least this often while typing.
DRAFT_EVERY = 5.0
HINTS_DEBOUNCE = 0.6


class EditorScreen(ConsoleScreen):
    """Write a reply or an internal note; dismissed with the ReplyResult when sent."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s", "send", N_("Send"), id="editor.send", tooltip=N_("Send (or save the note)")
        ),
        Binding(
            "ctrl+l",
            "send('pending')",
            N_("Send+pending"),
            id="editor.send_pending",
            tooltip=N_("Send and set the ticket pending (waiting on the customer)"),
        ),
        Binding(
            "ctrl+r",
            "send('solved')",
            N_("Send+solve"),
            id="editor.send_solve",
            tooltip=N_("Send and mark the ticket solved"),
        ),
        Binding(
            "ctrl+t",
            "canned",
            N_("Canned"),
            id="editor.canned",
            tooltip=N_("Insert a canned answer"),
        ),
        Binding(
            "ctrl+o",
            "quote",
            N_("Quote"),
            id="editor.quote",
            tooltip=N_("Insert the customer's message, quoted"),
        ),
        Binding(
            "escape",
            "close",
            N_("Close"),
            id="editor.close",
            tooltip=N_("Close; the draft is kept"),
        ),
        Binding(
            "f1", "app.help", N_("Help"), id="editor.help", tooltip=N_("The keys of the editor")
        ),
    ]

    app: ConsoleApp  # type: ignore[assignment]
    #: "?" is text here, not the help key.
    TYPES_TEXT = True

    def __init__(self, view: TicketView, *, kind: str = "reply") -> None:
        super().__init__()
        self.view = view
        self.kind = kind
        self._dirty = False
        self._saved_text = ""
        self._debounce: Timer | None = None
        self._hints_timer: Timer | None = None
        self._sending = False
        self._collision_ok = False
        #: Slugs of the canned answers inserted, counted when the reply is sent.
        self.canned_used: list[str] = []
        times = [m.created_at for m in view.messages]
        self._seen_until = max(times) if times else view.created_at

    def compose(self) -> ComposeResult:
        title = Text()
        title.append(
            _("Reply to ") if self.kind == "reply" else _("Internal note on "), style="bold"
        )
        title.append(f"#{self.view.id} ", style="bold")
        title.append_text(safe_line(self.view.subject, limit=80))
        if self.kind == "reply":
            title.append("  " + _("to") + " ", style="dim")
            title.append_text(safe_line(self.view.customer.email, limit=60))
        yield Static(title, id="editor-title")
        with Horizontal(id="editor-body"):
            yield TextArea(
                id="editor", soft_wrap=True, show_line_numbers=False, classes=f"-{self.kind}"
            )
            with Vertical(id="editor-side"):
                yield Static(Text(_("Suggested answers (ctrl+t)"), style="bold"))
                yield Static(id="suggestions")
                yield Static(Text(_("Writing hints"), style="bold"))
                with VerticalScroll(id="hints-box"):
                    yield Static(id="hints")
        yield Static(id="draft-state")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.read_only = True
        self._prepare()
        self.set_interval(DRAFT_EVERY, self._save_if_dirty)
        self._heartbeat()
        self.set_interval(10.0, self._heartbeat)

    @work(thread=True, exclusive=True, group="editor-presence", exit_on_error=False)
    def _heartbeat(self) -> None:
        self.app.gateway.presence(self.view.id, "replying" if self.kind == "reply" else "viewing")

    @work(thread=True, group="editor-prepare", exit_on_error=False)
    def _prepare(self) -> None:
        draft = self.app.gateway.load_draft(self.view.id, self.kind)
        suggestions: list[Any] = []
        if self.kind == "reply":
            try:
                suggestions = self.app.gateway.suggestions(self.view)
            except Exception:  # suggestions are a help, never a reason not to write
                suggestions = []
        self.app.call_from_thread(self._ready, draft.body if draft else None, suggestions)

    def _ready(self, draft: str | None, suggestions: list[Any]) -> None:
        area = self.query_one(TextArea)
        self.suggestions = suggestions
        if draft is not None:
            text = draft
            self.app.notify(_("Draft restored."), timeout=2)
        elif self.kind == "reply":
            language = self.view.language or self.app.settings.shop.language
            text = (
                greeting(language, self.view.customer.first_name)
                + "\n\n\n\n"
                + signature(self.app.settings)
            )
        else:
            text = ""
        area.load_text(text)
        self._saved_text = text if draft is not None else ""
        area.read_only = False
        if draft is None and self.kind == "reply":
            area.move_cursor((2, 0))
        else:
            area.move_cursor(area.document.end)
        area.focus()
        self.refresh_bindings()
        shown = Text()
        for answer in suggestions[:5]:
            shown.append("• ")
            shown.append_text(safe_line(answer.title, limit=40))
            shown.append("\n")
        if not suggestions:
            shown.append(pgettext("answers", "none") if self.kind == "reply" else "—", style="dim")
        self.query_one("#suggestions", Static).update(shown)
        self._schedule_hints()

    # -- drafts

    @on(TextArea.Changed)
    def _changed(self) -> None:
        area = self.query_one(TextArea)
        if area.read_only:
            return
        self._dirty = area.text != self._saved_text
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DRAFT_DEBOUNCE, self._save_if_dirty)
        self._schedule_hints()

    def _save_if_dirty(self) -> None:
        if self._dirty and not self._sending:
            text = self.query_one(TextArea).text
            self._dirty = False
            self._save(text)

    @work(thread=True, exclusive=True, group="editor-draft", exit_on_error=False)
    def _save(self, text: str) -> None:
        try:
            self.app.gateway.save_draft(
                self.view.id, self.kind, text, ticket_version=self.view.version
            )
        except Exception:
            self._dirty = True  # try again at the next pause
            raise
        self.app.call_from_thread(self._draft_saved, text)

    def _draft_saved(self, text: str) -> None:
        self._saved_text = text
        self.query_one("#draft-state", Static).update(Text(_("draft saved"), style="dim"))

    # -- hints

    def _schedule_hints(self) -> None:
        if self.kind != "reply":
            return
        if self._hints_timer is not None:
            self._hints_timer.stop()
        self._hints_timer = self.set_timer(HINTS_DEBOUNCE, self._hints)

    def _hints(self) -> None:
        self._compute_hints(self.query_one(TextArea).text)

    @work(thread=True, exclusive=True, group="editor-hints", exit_on_error=False)
    def _compute_hints(self, text: str) -> None:
        try:
            hints = self.app.gateway.hints(text, self.view)
        except Exception:  # hints never block writing
            hints = []
        self.app.call_from_thread(self._show_hints, hints)

    def _show_hints(self, hints: list[Any]) -> None:
        shown = Text()
        for hint in hints[:12]:
            shown.append("• ", style="yellow")
            shown.append_text(safe_text(str(hint.message)))
            if getattr(hint, "suggestions", None):
                shown.append(" → " + ", ".join(map(str, hint.suggestions[:3])), style="dim")
            shown.append("\n")
        if not hints:
            shown.append(pgettext("hints", "none"), style="dim")
        self.query_one("#hints", Static).update(shown)

    # -- actions

    def action_send(self, status: str | None = None) -> None:
        if self._sending:
            return
        text = self.query_one(TextArea).text
        if not text.strip():
            self.app.notify(_("Nothing to send."), severity="warning", timeout=2)
            return
        self._sending = True
        self.query_one("#draft-state", Static).update(Text(_("sending…"), style="bold"))
        self._send(text, status)

    @work(thread=True, exclusive=True, group="editor-send", exit_on_error=False)
    def _send(self, text: str, status: str | None) -> None:
        try:
            # The draft holds the text until the reply is safely queued.
            self.app.gateway.save_draft(
                self.view.id, self.kind, text, ticket_version=self.view.version
            )
            if self.kind == "note":
                self.app.gateway.note(self.view.id, text)
                result = None
            else:
                if not self._collision_ok:
                    changes = self.app.gateway.changes_since(self.view.id, self._seen_until)
                    if changes:
                        self.app.call_from_thread(self._collided, changes)
                        return
                result = self.app.gateway.reply(
                    self.view.id, text, status=status, canned=self.canned_used
                )
        except Exception:
            self.app.call_from_thread(self._send_failed)
            raise
        self.app.call_from_thread(self._sent, result)

    def _collided(self, changes: list[Any]) -> None:
        """Someone wrote while the agent was writing: show it, send on the next try."""
        self._sending = False
        self._collision_ok = True
        shown = Text(_("While you were writing:") + "\n", style="bold yellow")
        for change in changes[-3:]:
            shown.append_text(safe_line(change.author, limit=40, style="bold"))
            shown.append(": ")
            shown.append_text(safe_line(change.text, limit=200))
            shown.append("\n")
        shown.append(_("Send again to send anyway."), style="bold")
        self.query_one("#draft-state", Static).update(Text(_("not sent yet"), style="bold yellow"))
        self.app.notify(
            shown.plain,
            title=_("New messages on this ticket"),
            severity="warning",
            markup=False,
            timeout=10,
        )

    def _send_failed(self) -> None:
        self._sending = False
        self.query_one("#draft-state", Static).update(
            Text(_("not sent: your text is kept as a draft"), style="bold red")
        )

    def _sent(self, result: Any) -> None:
        self._sending = False
        self._dirty = False
        if self.kind == "note":
            self.app.notify(_("Note added."), timeout=2)
        else:
            self.app.notify(_("Reply queued."), timeout=2)
        self.app.poll_now()
        self.dismiss(result)

    def action_close(self) -> None:
        area = self.query_one(TextArea)
        if self._dirty and area.text != self._saved_text:
            self._save(area.text)
        self.dismiss(None)

    def action_quote(self) -> None:
        last = self.view.last_customer_message
        if last is None:
            self.app.notify(_("There is no customer message to quote."), timeout=2)
            return
        from cs_console.textsafe import strip_controls

        quoted = "\n".join("> " + line for line in strip_controls(last.new_text).splitlines())
        self.query_one(TextArea).insert(quoted + "\n")

    def action_canned(self) -> None:
        try:
            answers, _index = self.app.gateway.canned()
        except Exception as exc:  # a broken library must not take the editor down
            self.app.report_error(exc)
            return
        language = self.view.language or self.app.settings.shop.language
        suggested = getattr(self, "suggestions", [])
        seen = {a.slug for a in suggested}
        options = [(a.slug, f"★ {a.title}") for a in suggested]
        rest = sorted(
            (a for a in answers if a.slug not in seen),
            key=lambda a: (a.language != language, a.title.lower()),
        )
        options += [(a.slug, f"{a.title} ({a.language})") for a in rest]
        by_slug = {a.slug: a for a in answers}

        def preview(slug: str) -> Text:
            answer = by_slug[slug]
            rendered = self.app.gateway.render_canned(
                answer.body, self.view, language=answer.language
            )
            text = safe_text(rendered.text)
            if rendered.missing:
                text.append(
                    "\n\n" + _("missing: {fields}").format(fields=", ".join(rendered.missing)),
                    style="bold yellow",
                )
            return text

        def chosen(slug: str | None) -> None:
            if slug:
                answer = by_slug[slug]
                rendered = self.app.gateway.render_canned(
                    answer.body, self.view, language=answer.language
                )
                area = self.query_one(TextArea)
                text = without_repeated_greeting(area.text, rendered.text.strip())
                area.insert(text + "\n")
                self.canned_used.append(slug)
                self.query_one(TextArea).focus()

        self.app.push_screen(ChoiceScreen(_("Canned answer"), options, preview=preview), chosen)
