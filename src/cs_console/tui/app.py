"""The console app: the queue, the ticket and the editor on one live clock.

Build it from :class:`~cs_console.config.Settings` and an engine (tests pass a
fixed clock), or from a first page; :func:`start_console` is what
``cs-console`` calls, :func:`run_console` opens it on given settings.

On a SQLite workspace :func:`start_console` first paints the queue's first page
(read by :mod:`cs_console.tui.first_page` without the database layer), then
validates the config and opens the database in a thread; keys typed meanwhile
are held and replayed once the workspace is loaded. SQLAlchemy and pydantic are
therefore imported by functions here, not by this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from cs_console.clock import utcnow
from cs_console.errors import CsConsoleError
from cs_console.i18n import N_, _, ngettext
from cs_console.tui.translate import translate_bindings
from cs_console.tui.widgets.status_bar import StatusInfo

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from cs_console.config import Settings
    from cs_console.tui.first_page import FirstPage
    from cs_console.tui.gateway import DeskGateway

__all__ = ["ConsoleApp", "run_console", "start_console"]

#: Input that waits, while the workspace loads, for the screens to be able to act on it.
_HELD_EVENTS = (events.Key, events.Paste, events.MouseDown, events.MouseUp)


#: The screens' names in the help screen's title.
SCREEN_NAMES = (N_("Queue"), N_("Ticket"), N_("Editor"))


class ConsoleApp(App[None]):
    """The cs-console TUI.

    Args:
        settings: The workspace's settings.
        engine: The database (already migrated).
        now_fn: The clock; tests pass a fixed one so countdowns and snapshots are stable.
        tick_seconds: How often ``now`` advances (countdowns redraw).
        poll_seconds: How often to look for changes by others as a fallback; changes
            committed by another connection are seen within a second by a watcher.
        watch_changes: Watch the database for commits by others (LISTEN/NOTIFY on
            PostgreSQL, ``PRAGMA data_version`` on SQLite).
        sla_seconds: How often to flag breached tickets and apply escalation rules.
        send_outbox: Drain the outbox in the background (off in most tests).
        sync_mail: Fetch new mail from every account in the background.
        sync_seconds: How often to fetch mail.
        keymap: Binding id to keys, on top of ``settings.keys`` when it exists.
    """

    CSS_PATH = "console.tcss"
    TITLE = "cs-console"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "question_mark",
            "help",
            N_("Help"),
            id="app.help",
            tooltip=N_("The keys of this screen"),
        ),
        Binding(
            "colon",
            "command_palette",
            N_("Commands"),
            show=False,
            id="app.palette",
            tooltip=N_("Search every action"),
        ),
    ]

    now: reactive[datetime] = reactive(utcnow, always_update=False)
    status: reactive[StatusInfo] = reactive(StatusInfo, always_update=False)
    data_version: reactive[int] = reactive(0)
    agent_id: reactive[int | None] = reactive(None)

    #: Set once the workspace is loaded (at once when built from settings and an engine).
    settings: Settings
    engine: Engine
    gateway: DeskGateway

    def __init__(
        self,
        settings: Settings | None = None,
        engine: Engine | None = None,
        *,
        first_page: FirstPage | None = None,
        now_fn: Callable[[], datetime] = utcnow,
        tick_seconds: float = 1.0,
        poll_seconds: float = 30.0,
        watch_changes: bool = True,
        sla_seconds: float = 30.0,
        send_outbox: bool = True,
        outbox_seconds: float = 3.0,
        sync_mail: bool = True,
        sync_seconds: float = 60.0,
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.now_fn = now_fn
        self.tick_seconds = tick_seconds
        self.poll_seconds = poll_seconds
        self.watch_changes = watch_changes
        self.sla_seconds = sla_seconds
        self._change_watcher: Any = None
        self._watch_stopped = False
        self.send_outbox = send_outbox
        self.outbox_seconds = outbox_seconds
        self.sync_mail = sync_mail
        self.sync_seconds = sync_seconds
        self._marker: tuple[Any, ...] | None = None
        self._background_started = False
        self._loading_started = False
        self._keymap = dict(keymap or {})
        self.first_page = first_page
        #: Why loading the workspace failed (the app exits; :func:`start_console` raises it).
        self.load_error: BaseException | None = None
        self._held: list[events.Event] | None = None
        self.set_reactive(ConsoleApp.now, now_fn())
        if settings is not None and engine is not None:
            self._attach(settings, engine)
        elif first_page is not None:
            self._held = []
            self.set_reactive(ConsoleApp.status, StatusInfo(agent=first_page.agent))
            self.sub_title = first_page.shop
        else:
            raise TypeError("ConsoleApp needs settings and an engine, or a first page")

    @property
    def ready(self) -> bool:
        """Whether the workspace is loaded (settings validated, database open and migrated)."""
        return self._held is None

    def _attach(self, settings: Settings, engine: Engine) -> None:
        from cs_console.tui.gateway import DeskGateway
        from cs_console.tui.keys import KeySettings

        self.settings = settings
        self.engine = engine
        self.gateway = DeskGateway(settings, engine, now_fn=self.now_fn)
        keys = getattr(settings, "keys", None)
        if isinstance(keys, KeySettings):
            self._keymap = {**keys.keymap(), **self._keymap}
        self.set_reactive(
            ConsoleApp.status,
            StatusInfo(agent=settings.agent.display_name or settings.agent.name),
        )
        self.sub_title = settings.shop.name

    def on_mount(self) -> None:
        from cs_console.tui.screens.queue import QueueScreen

        if self._keymap and self.ready:
            self.set_keymap(self._keymap)
        self.push_screen(QueueScreen(first_page=self.first_page))
        self.set_interval(self.tick_seconds, self._tick)
        # The first page of the queue goes first; the rest starts once it is shown
        # (or after a moment, should the first page fail).
        self._background_timer = self.set_timer(1.0, self.start_background)

    # -- loading the workspace behind the first page

    async def on_event(self, event: events.Event) -> None:
        if self._held is not None and isinstance(event, _HELD_EVENTS) and not event.is_forwarded:
            self._held.append(event)
            return
        await super().on_event(event)

    @work(thread=True, exclusive=True, group="workspace", exit_on_error=False)
    def _load_workspace(self, page: FirstPage) -> None:
        from cs_console.config import load_settings
        from cs_console.store.database import open_database

        try:
            settings = load_settings(page.config_file)
            engine = open_database(settings.database_url)
        except BaseException as exc:
            self.call_from_thread(self._load_failed, exc)
            return
        try:
            # What the screens import on their first query, loaded here off the event loop.
            import cs_console.desk.queue
            import cs_console.tui.gateway  # noqa: F401
        except BaseException as exc:
            engine.dispose()
            self.call_from_thread(self._load_failed, exc)
            return
        self.call_from_thread(self._loaded, settings, engine)

    def _load_failed(self, error: BaseException) -> None:
        self.load_error = error
        self.exit(return_code=1)

    async def _loaded(self, settings: Settings, engine: Engine) -> None:
        from cs_console.tui.screens.queue import QueueScreen

        page = self.first_page
        self._attach(settings, engine)
        self.mutate_reactive(ConsoleApp.status)
        if self._keymap:
            self.set_keymap(self._keymap)
        same = page is not None and settings.database_url == page.database_url
        current = same and page is not None and page.still_current()
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                screen.workspace_loaded(current=current, same_database=same)
        held, self._held = self._held or [], None
        self.start_background()
        for event in held:
            await super().on_event(event)

    def start_background(self) -> None:
        """Start the change poll, the outbox sender and the agent lookup (once).

        Before the workspace is loaded this starts loading it instead; the
        background starts when it is.
        """
        if not self.ready:
            if not self._loading_started and self.first_page is not None:
                # After the page is on the screen: the imports would slow its painting.
                self._loading_started = True
                self.call_after_refresh(self._load_workspace, self.first_page)
            return
        if self._background_started:
            return
        self._background_started = True
        self._background_timer.stop()
        self.set_interval(self.poll_seconds, self.poll_now)
        if self.watch_changes:
            self._watch()
        self.set_interval(self.sla_seconds, self._sla_pass)
        self._sla_pass()
        if self.send_outbox and self.settings.accounts:
            self.set_interval(self.outbox_seconds, self._drain)
        if self.sync_mail:
            for account in self.settings.accounts:
                self.set_interval(self.sync_seconds, partial(self._sync, account.name))
                self._sync(account.name)
        self._who()
        self.in_background(self.gateway.load_canned)
        self.poll_now()

    # -- the clock, the change watcher and the change poll

    class DatabaseChanged(Message):
        """Another connection committed something (posted by the watcher thread)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ConsoleApp.DatabaseChanged)

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        from cs_console.desk.changes import ChangeWatcher

        worker = get_current_worker()
        watcher = ChangeWatcher(self.engine)
        self._change_watcher = watcher
        try:
            while not worker.is_cancelled and not self._watch_stopped:
                try:
                    changed = watcher.wait(timeout=1.0)
                except Exception:
                    if self._watch_stopped:
                        return
                    raise
                if changed and not self._watch_stopped:
                    self.post_message(self.DatabaseChanged())
        finally:
            watcher.close()

    def on_console_app_database_changed(self, _message: DatabaseChanged) -> None:
        self.poll_now(force=True)

    def _close_watcher(self) -> None:
        self._watch_stopped = True
        if self._change_watcher is not None:
            self._change_watcher.close()

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self._close_watcher()
        super().exit(*args, **kwargs)

    def on_unmount(self) -> None:
        self._close_watcher()

    @work(thread=True, exclusive=True, group="sla", exit_on_error=False)
    def _sla_pass(self) -> None:
        if self.gateway.mark_breaches():
            self.call_from_thread(self.poll_now, force=True)

    def _tick(self) -> None:
        self.now = self.now_fn()

    @work(thread=True, group="who", exit_on_error=False)
    def _who(self) -> None:
        agent_id, _name = self.gateway.agent()
        self.call_from_thread(setattr, self, "agent_id", agent_id)

    def poll_now(self, *, force: bool = False) -> None:
        """Look for changes now (after our own change, or on the poll timer).

        Args:
            force: Refresh the visible page even when no ticket row changed
                (another connection committed something, or breaches were flagged).
        """
        self._poll(force)

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll(self, force: bool = False) -> None:
        marker = self.gateway.marker()
        desk = self.gateway.status()
        self.call_from_thread(self._polled, marker, desk, force)

    def _polled(self, marker: tuple[Any, ...], desk: Any, force: bool = False) -> None:
        self.status = replace(self.status, desk=desk, notice="")
        if marker == self._marker or (force and self._marker is None):
            self._marker = marker
            if force:
                self.data_version += 1
            return
        before = self._marker
        self._marker = marker
        if before is not None:
            new = (marker[1] or 0) - (before[1] or 0)
            if new > 0 and (marker[2] or 0) > (before[2] or 0):
                self.notify(
                    ngettext("{count} new ticket", "{count} new tickets", new).format(count=new),
                    title=_("New mail"),
                )
            self.data_version += 1

    @work(thread=True, exclusive=True, group="outbox", exit_on_error=False)
    def _drain(self) -> None:
        report = self.gateway.drain_outbox()
        if report.sent or report.failed or report.errors or report.unreachable:
            self.call_from_thread(self._drained, report)

    def _drained(self, report: Any) -> None:
        if report.failed or report.unreachable:
            self.notify(
                "; ".join(report.errors) or report.summary(),
                title=_("Sending failed"),
                severity="error",
                markup=False,
            )
        self.poll_now()

    def _sync(self, account: str) -> None:
        if account in self.status.syncing:
            return
        self.status = replace(self.status, syncing=self.status.syncing | {account})
        self._sync_worker(account)

    @work(thread=True, group="sync", exit_on_error=False)
    def _sync_worker(self, account: str) -> None:
        try:
            report = self.gateway.sync(account)
        finally:
            self.call_from_thread(self._synced, account)
        if report is not None and (report.errors or report.total("new_tickets")):
            self.call_from_thread(self._sync_report, report)

    def _synced(self, account: str) -> None:
        self.status = replace(self.status, syncing=self.status.syncing - {account})
        self.poll_now()

    def _sync_report(self, report: Any) -> None:
        if report.errors:
            self.notify(
                "; ".join(report.errors)[:300],
                title=_("Sync of {account} failed").format(account=report.account),
                severity="warning",
                markup=False,
            )

    @work(thread=True, group="background", exit_on_error=False)
    def in_background(self, function: Callable[..., Any], *args: Any) -> None:
        """Run a blocking call in a thread, errors reported like any worker's."""
        function(*args)

    # -- errors: one place, never a crash, never a traceback

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.report_error(event.worker.error)

    def report_error(self, error: BaseException) -> None:
        """Show an error as a notice; the app goes on."""
        from sqlalchemy.exc import OperationalError, SQLAlchemyError

        if isinstance(error, CsConsoleError):
            self.notify(error.message, title=_(error.title), severity="error", markup=False)
        elif isinstance(error, OperationalError):
            detail = str(error.orig) if error.orig is not None else str(error)
            self.status = replace(self.status, notice=_("database unavailable, retrying"))
            self.notify(
                _(
                    "The database is busy or unreachable ({detail}). Nothing you typed is lost; "
                    "try again in a moment."
                ).format(detail=detail),
                title=_("Database unavailable"),
                severity="warning",
                markup=False,
            )
        elif isinstance(error, SQLAlchemyError):
            self.notify(
                str(error).splitlines()[0],
                title=_("Database error"),
                severity="error",
                markup=False,
            )
        else:
            self.notify(
                f"{type(error).__name__}: {error}",
                title=_("Unexpected error"),
                severity="error",
                markup=False,
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Where "?" is typed as text (the editor) the help is on F1; hide "?" there.
        if action == "help" and getattr(self.screen, "TYPES_TEXT", False):
            return None
        return True

    # -- navigation

    def open_ticket(self, ticket_id: int, queue_ids: list[int]) -> None:
        from cs_console.tui.screens.ticket import TicketScreen

        self.push_screen(TicketScreen(ticket_id, queue_ids=queue_ids))

    # -- help and the command palette, both from the real bindings

    def _binding_rows(self, screen: Screen[Any]) -> list[tuple[str, str, str, str]]:
        """``(keys, description, tooltip, action)`` for each active binding of ``screen``."""
        by_action: dict[str, tuple[list[str], str, str]] = {}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if active.node is not screen and active.node is not self:
                continue  # the focused widget's own keys (scrolling, editing)
            if not binding.description or binding.system:
                continue
            keys, _, _ = by_action.setdefault(
                binding.action, ([], binding.description, binding.tooltip)
            )
            shown = (
                self.get_key_display(binding.with_key(key))
                if hasattr(binding, "with_key")
                else self.get_key_display(binding)
            )
            if shown not in keys:
                keys.append(shown)
        return [
            (" ".join(keys), description, tooltip, action)
            for action, (keys, description, tooltip) in by_action.items()
        ]

    def action_help(self) -> None:
        from cs_console.tui.screens.dialogs import HelpScreen

        screen = self.screen
        rows = [(k, d, t) for k, d, t, _a in self._binding_rows(screen)]
        name = type(screen).__name__.removesuffix("Screen")
        self.push_screen(HelpScreen(_("Keys: {screen}").format(screen=_(name)), rows))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for keys, description, tooltip, action in self._binding_rows(screen):
            if action in ("help", "command_palette"):
                continue
            yield SystemCommand(
                f"{description} ({keys})",
                tooltip or description,
                partial(self._run_on, screen, action),
            )

    def _run_on(self, screen: Screen[Any], action: str) -> None:
        self.call_later(screen.run_action, action)


def run_console(settings: Settings) -> None:
    """Open the console on the workspace's database (migrated first)."""
    from cs_console.store.database import open_database

    engine = open_database(settings.database_url)
    try:
        ConsoleApp(settings, engine).run()
    finally:
        engine.dispose()


def prepare_console(
    config: Path | str | None = None,
    *,
    load_settings: Callable[[], Settings],
    lang: str | None = None,
    **options: Any,
) -> ConsoleApp:
    """The app :func:`start_console` runs: from the first page when it can be read.

    Args:
        config: The ``--config`` option, if given.
        load_settings: Reads and validates the config (the ordinary path; it also
            picks the interface language from it).
        lang: The ``--lang`` option, if given.
        options: Passed to :class:`ConsoleApp`.
    """
    from cs_console.i18n import choose_language, set_language
    from cs_console.tui.first_page import prepare
    from cs_console.tui.screens.queue import PAGE

    page = prepare(config, limit=PAGE)
    if page is None:
        from cs_console.store.database import open_database

        settings = load_settings()
        return ConsoleApp(settings, open_database(settings.database_url), **options)
    set_language(choose_language(explicit=lang, configured=page.language))
    return ConsoleApp(first_page=page, **options)


def start_console(
    config: Path | str | None = None,
    *,
    load_settings: Callable[[], Settings],
    lang: str | None = None,
) -> None:
    """Open the console, painting the queue before the workspace is fully loaded.

    A config or database problem found while loading ends the console and is
    raised here, as :func:`run_console` would have raised it before starting.
    """
    app = prepare_console(config, load_settings=load_settings, lang=lang)
    try:
        app.run()
    finally:
        if app.ready:
            app.engine.dispose()
    if app.load_error is not None:
        raise app.load_error
