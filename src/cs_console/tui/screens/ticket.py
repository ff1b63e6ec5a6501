"""One ticket: the conversation, the customer and their history, SLA badges, actions."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from cs_console.desk.ticket_view import TicketView, neighbour_ids
from cs_console.desk.tickets import PRIORITIES, STATUSES
from cs_console.i18n import N_, _, term
from cs_console.textsafe import one_line, safe_filename
from cs_console.tui.format import safe_line, safe_text
from cs_console.tui.screens._base import ConsoleScreen
from cs_console.tui.screens.dialogs import ChoiceScreen, PromptScreen
from cs_console.tui.widgets import SlaBadge, StatusBar
from cs_console.tui.widgets.conversation import MessageView, history_text

if TYPE_CHECKING:
    from cs_console.tui.app import ConsoleApp

#: How often this console tells others it is on the ticket.
PRESENCE_SECONDS = 10.0


class TicketScreen(ConsoleScreen):
    """A ticket and everything about it; single keys for every action."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "back", N_("Back"), id="ticket.back", tooltip=N_("Back to the queue")),
        Binding("r", "reply", N_("Reply"), id="ticket.reply", tooltip=N_("Write a reply")),
        Binding("n", "note", N_("Note"), id="ticket.note", tooltip=N_("Write an internal note")),
        Binding("s", "status", N_("Status"), id="ticket.status", tooltip=N_("Set the status")),
        Binding(
            "p", "priority", N_("Priority"), id="ticket.priority", tooltip=N_("Set the priority")
        ),
        Binding(
            "c", "category", N_("Category"), id="ticket.category", tooltip=N_("Set the category")
        ),
        Binding("t", "tags", N_("Tags"), id="ticket.tags", tooltip=N_("Edit the tags")),
        Binding("a", "assign", N_("Assign"), id="ticket.assign", tooltip=N_("Assign to an agent")),
        Binding(
            "m",
            "merge",
            N_("Merge"),
            show=False,
            id="ticket.merge",
            tooltip=N_("Merge into another ticket"),
        ),
        Binding(
            "x",
            "spam",
            N_("Spam"),
            show=False,
            id="ticket.spam",
            tooltip=N_("Mark as spam and block the sender"),
        ),
        Binding(
            "j,right_square_bracket",
            "next",
            N_("Next"),
            show=False,
            id="ticket.next",
            tooltip=N_("Next ticket in the queue"),
        ),
        Binding(
            "k,left_square_bracket",
            "previous",
            N_("Prev"),
            show=False,
            id="ticket.previous",
            tooltip=N_("Previous ticket in the queue"),
        ),
        Binding(
            "z",
            "toggle_quotes",
            N_("Quotes"),
            show=False,
            id="ticket.toggle_quotes",
            tooltip=N_("Show or hide quoted text and signatures"),
        ),
        Binding(
            "w",
            "save_attachment",
            N_("Save file"),
            show=False,
            id="ticket.save_attachment",
            tooltip=N_("Save an attachment to a folder"),
        ),
        Binding(
            "o",
            "open_attachment",
            N_("Open file"),
            show=False,
            id="ticket.open_attachment",
            tooltip=N_("Open an attachment with the system's viewer"),
        ),
        Binding(
            "u",
            "undo_send",
            N_("Undo send"),
            show=False,
            id="ticket.undo_send",
            tooltip=N_("Pull back the reply just sent"),
        ),
        Binding("down", "scroll('down')", N_("Scroll"), show=False, id="ticket.scroll_down"),
        Binding("up", "scroll('up')", N_("Scroll"), show=False, id="ticket.scroll_up"),
    ]

    app: ConsoleApp  # type: ignore[assignment]

    def __init__(self, ticket_id: int, *, queue_ids: list[int]) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.queue_ids = queue_ids
        self.view: TicketView | None = None
        self.show_quotes = False
        self.undo: Any = None  # the last ReplyResult while it can be undone
        self._seen_version = 0

    def compose(self) -> ComposeResult:
        yield Static(id="ticket-title")
        yield Static(id="undo-bar")
        with Horizontal(id="ticket-body"):
            yield VerticalScroll(id="conversation")
            with VerticalScroll(id="side"):
                yield Static(id="presence")
                yield Static(id="customer")
                yield Vertical(id="badges")
                yield Static(id="meta")
                yield Static(id="history")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#undo-bar").display = False
        self.watch(self.app, "now", self._tick, init=False)
        self.watch(self.app, "data_version", self._changed_elsewhere, init=False)
        self.query_one("#presence").display = False
        self.load()
        self.set_interval(PRESENCE_SECONDS, self._heartbeat)

    def on_unmount(self) -> None:
        self._leave(self.ticket_id)

    def _leave(self, ticket_id: int) -> None:
        # On the app: this screen's own workers end with it.
        self.app.in_background(self.app.gateway.presence, ticket_id, None)

    def _heartbeat(self) -> None:
        if self.is_current:
            self._presence(self.ticket_id, "viewing")

    @work(thread=True, exclusive=True, group="ticket-presence", exit_on_error=False)
    def _presence(self, ticket_id: int, activity: str) -> None:
        others = self.app.gateway.presence(ticket_id, activity)
        self.app.call_from_thread(self._show_presence, ticket_id, others)

    def _show_presence(self, ticket_id: int, others: list[Any]) -> None:
        if ticket_id != self.ticket_id:
            return
        box = self.query_one("#presence", Static)
        box.display = bool(others)
        text = Text()
        for other in others:
            text.append_text(safe_line(other.agent, limit=30, style="bold"))
            text.append(f" is {other.activity}\n", style="bold yellow")
        box.update(text)

    def _changed_elsewhere(self, version: int) -> None:
        if version and version != self._seen_version and self.is_current:
            self._seen_version = version
            self.load(mark_read=False)

    def on_screen_resume(self) -> None:
        if self.view is not None:
            self.load(mark_read=False)

    @work(thread=True, exclusive=True, group="ticket-load", exit_on_error=False)
    def load(self, *, mark_read: bool = True) -> None:
        ticket_id = self.ticket_id
        view = self.app.gateway.ticket(ticket_id, mark_read=mark_read)
        self.app.call_from_thread(self._show, view)

    def _show(self, view: TicketView) -> None:
        if view.id != self.ticket_id:
            return
        same = self.view is not None and self.view.version == view.version
        self.view = view
        self._presence(view.id, "viewing")
        title = Text()
        title.append(f"#{view.id} ", style="bold")
        title.append_text(safe_line(view.subject, limit=200, style="bold"))
        if view.merged_into_id:
            title.append(
                "  " + _("(merged into #{number})").format(number=view.merged_into_id),
                style="yellow",
            )
        self.query_one("#ticket-title", Static).update(title)
        if not same or not self.query_one("#conversation").children:
            self._render_conversation()
        self._render_side()

    def _numbers(self) -> dict[int, int]:
        assert self.view is not None
        numbers: dict[int, int] = {}
        for m in self.view.messages:
            for att in m.attachments:
                numbers[att.id] = len(numbers) + 1
        return numbers

    def _render_conversation(self) -> None:
        assert self.view is not None
        conversation = self.query_one("#conversation", VerticalScroll)
        conversation.remove_children()
        numbers = self._numbers()
        widgets = [
            MessageView(m, numbers=numbers, show_quotes=self.show_quotes)
            for m in self.view.messages
        ]
        if not widgets:
            widgets = [Static(Text(_("No messages."), style="dim"))]  # type: ignore[list-item]
        conversation.mount_all(widgets)
        conversation.scroll_end(animate=False)

    def _render_side(self) -> None:
        view = self.view
        assert view is not None
        c = view.customer
        customer = Text()
        customer.append_text(safe_text(one_line(c.name or c.email, limit=120), style="bold"))
        customer.append("\n")
        customer.append_text(safe_line(c.email, limit=80))
        if c.blocked:
            customer.append("\n" + _("blocked"), style="bold red")
        self.query_one("#customer", Static).update(customer)

        badges = self.query_one("#badges", Vertical)
        badges.remove_children()
        badges.mount_all(
            [
                SlaBadge(_(t.name), t.due_at, breached=view.sla_breached, classes="sla-badge")
                for t in view.targets
            ]
        )

        meta = Text()
        for label, value in (
            (N_("status"), term(view.status)),
            (N_("priority"), term(view.priority)),
            (N_("category"), view.category),
            (N_("assignee"), view.assignee or "—"),
            (N_("language"), view.language or "—"),
        ):
            shown = _(label)
            meta.append(f"{shown:<9}" if len(shown) < 9 else f"{shown} ", style="dim")
            meta.append_text(safe_line(value))
            meta.append("\n")
        tags = _("tags")
        meta.append(f"{tags:<9}" if len(tags) < 9 else f"{tags} ", style="dim")
        meta.append_text(safe_line(", ".join(view.tags) or "—"))
        self.query_one("#meta", Static).update(meta)

        history = history_text(c)
        self.query_one("#history", Static).update(history)

    def _tick(self, now: datetime) -> None:
        bar = self.query_one("#undo-bar", Static)
        if self.undo is None:
            bar.display = False
            return
        left = (self.undo.undo_until - now).total_seconds()
        if left <= 0:
            self.undo = None
            bar.display = False
            return
        bar.display = True
        bar.update(
            Text(
                _("Reply queued: it leaves in {seconds}s. Press u to undo.").format(
                    seconds=int(left)
                ),
                style="bold black on yellow",
            )
        )

    # -- actions

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_scroll(self, direction: str) -> None:
        conversation = self.query_one("#conversation", VerticalScroll)
        if direction == "down":
            conversation.scroll_down()
        else:
            conversation.scroll_up()

    def action_toggle_quotes(self) -> None:
        self.show_quotes = not self.show_quotes
        if self.view is not None:
            self._render_conversation()

    def _go(self, ticket_id: int | None) -> None:
        if ticket_id is None:
            self.app.bell()
            return
        self._leave(self.ticket_id)
        self.ticket_id = ticket_id
        self.view = None
        self.undo = None
        self.load()

    def action_next(self) -> None:
        self._go(neighbour_ids(self.queue_ids, self.ticket_id)[1])

    def action_previous(self) -> None:
        self._go(neighbour_ids(self.queue_ids, self.ticket_id)[0])

    def action_reply(self) -> None:
        self._edit("reply")

    def action_note(self) -> None:
        self._edit("note")

    def _edit(self, kind: str) -> None:
        if self.view is None:
            return
        from cs_console.tui.screens.editor import EditorScreen

        def done(result: Any) -> None:
            if result is not None and kind == "reply":
                self.undo = result
                self._tick(self.app.now)
            self.load(mark_read=False)

        self.app.push_screen(EditorScreen(self.view, kind=kind), done)

    def _change(self, what: str, value: Any) -> None:
        self._apply_change(self.ticket_id, what, value)

    @work(thread=True, group="ticket-change", exit_on_error=False)
    def _apply_change(self, ticket_id: int, what: str, value: Any) -> None:
        changed = self.app.gateway.change(ticket_id, what, value)
        self.app.call_from_thread(self._changed, what, changed)

    def _changed(self, what: str, changed: bool) -> None:
        if what == "spam":
            self.app.notify(_("Marked as spam; the sender is blocked."))
        elif what == "merge":
            self.app.notify(_("Merged."))
        elif not changed:
            self.app.notify(_("The {what} was already that.").format(what=_(what)), timeout=2)
        self.load(mark_read=False)
        self.app.poll_now()

    def _choose(self, what: str, options: list[tuple[str, str]], current: str | None) -> None:
        def chosen(value: str | None) -> None:
            if value is not None:
                self._change(what, value)

        self.app.push_screen(
            ChoiceScreen(_("Set {what}").format(what=_(what)), options, current=current), chosen
        )

    def action_status(self) -> None:
        if self.view:
            self._choose("status", [(s, s) for s in STATUSES], self.view.status)

    def action_priority(self) -> None:
        if self.view:
            self._choose("priority", [(p, p) for p in PRIORITIES], self.view.priority)

    def action_category(self) -> None:
        if self.view:
            options = [(c, c) for c in self.app.gateway.categories()]
            self._choose("category", options, self.view.category)

    def action_tags(self) -> None:
        if self.view is None:
            return

        def entered(value: str | None) -> None:
            if value is not None:
                self._change("tags", [t for t in value.split(",") if t.strip()])

        self.app.push_screen(
            PromptScreen(_("Tags (comma-separated)"), value=", ".join(self.view.tags)), entered
        )

    def action_assign(self) -> None:
        self._pick_agent()

    @work(thread=True, group="ticket-agents", exit_on_error=False)
    def _pick_agent(self) -> None:
        agents = self.app.gateway.agents()
        options = [("", "— nobody —")] + [(str(i), name) for i, name in agents]
        current = str(self.view.assignee_id) if self.view and self.view.assignee_id else ""

        def chosen(value: str | None) -> None:
            if value is not None:
                self._change("assign", int(value) if value else None)

        self.app.call_from_thread(
            self.app.push_screen, ChoiceScreen(_("Assign to"), options, current=current), chosen
        )

    def action_merge(self) -> None:
        def entered(value: str | None) -> None:
            if value is None:
                return
            number = value.strip().lstrip("#")
            if not number.isdigit():
                self.app.notify(_("Type a ticket number."), severity="warning")
                return
            self._change("merge", int(number))

        self.app.push_screen(
            PromptScreen(
                _("Merge #{number} into ticket number").format(number=self.ticket_id),
                placeholder="#123",
            ),
            entered,
        )

    def action_spam(self) -> None:
        def chosen(value: str | None) -> None:
            if value == "yes":
                self._change("spam", True)

        self.app.push_screen(
            ChoiceScreen(
                _("Mark as spam, close and block the sender?"),
                [("no", _("No, keep it")), ("yes", _("Yes: spam, close, block sender"))],
            ),
            chosen,
        )

    def action_undo_send(self) -> None:
        if self.undo is None:
            self.app.notify(_("Nothing to undo."), timeout=2)
            return
        self._undo(self.undo.outbox_id)

    @work(thread=True, group="ticket-undo", exit_on_error=False)
    def _undo(self, outbox_id: int) -> None:
        self.app.gateway.undo(outbox_id)
        self.app.call_from_thread(self._undone)

    def _undone(self) -> None:
        self.undo = None
        self._tick(self.app.now)
        self.app.notify(_("Reply pulled back: it is your draft again."))
        self.load(mark_read=False)
        self.app.poll_now()

    # -- attachments

    def _attachments(self) -> list[tuple[str, str]]:
        if self.view is None:
            return []
        numbers = self._numbers()
        return [
            (f"{att.sha256}\t{att.filename}", f"[{numbers[att.id]}] {att.filename}")
            for m in self.view.messages
            for att in m.attachments
        ]

    def _pick_attachment(self, title: str, then: Any) -> None:
        options = self._attachments()
        if not options:
            self.app.notify(_("This ticket has no attachments."), timeout=2)
            return
        if len(options) == 1:
            then(options[0][0])
            return
        self.app.push_screen(ChoiceScreen(title, options), lambda v: v and then(v))

    def action_save_attachment(self) -> None:
        def to_folder(choice: str) -> None:
            default = Path.home() / "Downloads"
            folder = default if default.is_dir() else Path.cwd()

            def entered(value: str | None) -> None:
                if value:
                    sha, name = choice.split("\t", 1)
                    self._save(sha, name, Path(value))

            self.app.push_screen(PromptScreen(_("Save to folder"), value=str(folder)), entered)

        self._pick_attachment(_("Save which attachment?"), to_folder)

    @work(thread=True, group="ticket-save", exit_on_error=False)
    def _save(self, sha256: str, name: str, folder: Path) -> None:
        path = self.app.gateway.save_attachment(sha256, name, folder)
        self.app.call_from_thread(
            self.app.notify, _("Saved {path}").format(path=path), markup=False
        )

    def action_open_attachment(self) -> None:
        self._pick_attachment(_("Open which attachment?"), lambda c: self._open(*c.split("\t", 1)))

    @work(thread=True, group="ticket-open", exit_on_error=False)
    def _open(self, sha256: str, name: str) -> None:
        source = self.app.gateway.attachment_source(sha256)
        if not source.is_file():
            self.app.call_from_thread(
                self.app.notify, _("The file is not in the attachment store."), severity="error"
            )
            return
        opener = shutil.which("xdg-open") or shutil.which("open")
        if opener is None:
            self.app.call_from_thread(
                self.app.notify,
                _("No viewer found (xdg-open); save the file with w."),
                severity="warning",
            )
            return
        folder = Path(tempfile.mkdtemp(prefix="cs-console-"))
        target = folder / safe_filename(name)
        shutil.copyfile(source, target)
        subprocess.Popen(
            [opener, str(target)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
