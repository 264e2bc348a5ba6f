"""The New track dialog: write a generation, send it once, track the task.

Two modes, as the API has them: *Custom* (lyrics in a multi-line editor that
keeps ``[Verse]``/``[Chorus]`` lines, style tags, a title) and *Inspiration*
(one description). Switching modes keeps the other mode's text: only the
chosen mode's fields are sent. The same dialog extends a clip (``e``), makes
a variation (``shift+n``) and retries a failed task (``shift+r``), prefilled.

Keys (on the buttons too): ``ctrl+s`` sends, ``ctrl+t`` switches mode,
``ctrl+r`` recalls an earlier request or a set-aside draft, ``esc`` closes and
keeps the draft. ``enter`` never sends: a generation costs credits, and enter
is what one presses at the end of every line of lyrics.

Sending follows the API's rule that generation is not idempotent:

- every rule is checked first; a broken rule is named beside its field and
  nothing is sent;
- the request goes out once, and while it is out ``ctrl+s`` and the button do
  nothing (a double press or double click sends one request) and ``esc``
  waits: closing would lose the new task's ID;
- "not sent" (refused, DNS, TLS) says sending again is safe; no usable answer
  after sending says *the server may have created the task* and offers to look
  for it among the account's recent tasks (``ctrl+l``) before sending again,
  which then takes a second ``ctrl+s``.

What is typed is saved as a draft (see :mod:`tui.services.drafts`) a moment
after each change, from a worker thread, and kept until the server accepts the
request.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import (
    Button,
    Checkbox,
    Collapsible,
    ContentSwitcher,
    Input,
    Label,
    Static,
    Tab,
    Tabs,
    TextArea,
)

from tui.api import AuthError, MusicMintError, TaskSummary
from tui.api.errors import MaybeCreatedError, NotSentError
from tui.api.generate import GenerateRequest, GenerateRequestError
from tui.core.formatting import at_time, clip_length
from tui.core.logs import log
from tui.core.sanitize import clean, scrub
from tui.domain.compose_form import (
    ComposeForm,
    FieldProblem,
    Mode,
    check,
    counter,
)
from tui.services.drafts import Drafts, DraftStore, History, Pending, Sent, set_aside
from tui.services.lookup import find_created
from tui.ui.host import HostApp
from tui.ui.screens.recall import RecallScreen

#: Seconds after the last change before the draft is written.
DRAFT_DELAY = 0.3
#: The text fields, by their form name (the widget IDs).
INPUTS = ("tags", "title", "retention_days", "persona_id", "continue_at")
AREAS = ("lyrics", "description")
COUNTED = ("lyrics", "description", "tags", "title")


@dataclass(frozen=True)
class ExtendTarget:
    """The clip an extension continues, as far as the dashboard knows it."""

    clip_id: str
    title: str | None = None
    duration: float | None = None  # seconds; bounds continue_at when known


@dataclass(frozen=True)
class Submitted:
    """The dialog's result: the server accepted ``request`` as ``task_id``
    (or the user chose a task found after an ambiguous failure)."""

    task_id: str
    request: GenerateRequest | None  # None: found after a failure, not surely ours
    status: str | None
    at: float
    others: tuple[str, ...] = ()  # more tasks found after an ambiguous failure
    found: bool = False  # found among the recent tasks, not an accepted send


#: Seconds our clock may be ahead of the server's: a task the lookup offers
#: was created at most this long before the request went out.
CLOCK_SKEW = 5.0


def _relative(seconds: float) -> str:
    """ "3 s after" / "2 s before" (whole seconds)."""
    whole = round(seconds)
    return f"{abs(whole)} s {'before' if whole < 0 else 'after'}"


def _clock_time(epoch: float) -> str:
    return at_time(epoch, "%H:%M:%S")


class ComposeScreen(ModalScreen[Submitted | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send (once; enter never sends)", priority=True),
        Binding("ctrl+t", "switch_mode", "Switch Custom / Inspiration", priority=True),
        Binding("ctrl+r", "recall", "Recall a sent request or a set-aside draft", priority=True),
        Binding(
            "ctrl+l", "look", "After no answer: look for the task, then track it", priority=True
        ),
        Binding("escape", "close", "Close, keeping the draft", priority=True),
    ]

    app: HostApp  # type: ignore[assignment]

    def __init__(
        self,
        *,
        form: ComposeForm,
        drafts: Drafts,
        store: DraftStore,
        history: History,
        heading: str = "New track",
        note: str = "",
        find_clip: Callable[[str], ExtendTarget | None] = lambda clip_id: None,
        focus_send: bool = False,
    ) -> None:
        super().__init__()
        self._initial = form
        self._aside = drafts.aside
        self._store = store
        self._history = history
        self._heading = heading
        self._note = note
        self._find_clip = find_clip
        self._focus_send = focus_send
        self._mode: Mode = form.mode
        self._extend: ExtendTarget | None = None  # the clip extended, if any
        self._sending = False
        #: A send with no usable answer, and when it went out; sending again
        #: then takes a second ctrl+s.
        #: A send that got no usable answer (it may have made a task).
        self._pending: Pending | None = drafts.pending
        self._resend_armed = False
        self._found: tuple[TaskSummary, ...] = ()  # tasks the lookup found
        self._tried = False  # a send was attempted: "one is needed" shows as an error
        self._draft_timer: Timer | None = None
        #: What the status line says: "" nothing, "fix" the last send's
        #: refusal by the rules (gone once the form changes), "send" news of a send.
        self._status_kind = ""
        self._refused_form: ComposeForm | None = None  # as it was when a send was refused

    # -- layout ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="compose-dialog") as dialog:
            dialog.border_title = self._heading
            dialog.border_subtitle = "ctrl+t switches mode"
            yield Tabs(
                Tab("Custom", id="mode-custom"),
                Tab("Inspiration", id="mode-inspiration"),
                id="compose-mode",
                active=f"mode-{self._mode}",
            )
            yield Static(Text(self._note), id="compose-note", markup=False)
            with Horizontal(id="compose-extend", classes="compose-row"):
                yield Label("Extend from", classes="compose-label")
                yield Input(id="continue_at", compact=True, placeholder="end")
                yield Static("", id="compose-extend-clip", markup=False)
                yield Button("Not an extension", id="drop-extend", compact=True)
            with ContentSwitcher(initial=f"pane-{self._mode}", id="compose-modes"):
                with Vertical(id="pane-custom"):
                    with Horizontal(classes="compose-row"):
                        yield Label("Lyrics", classes="compose-label")
                        yield Static("", id="count-lyrics", classes="compose-count")
                    yield TextArea(id="lyrics", soft_wrap=True, compact=True)
                    with Horizontal(classes="compose-row"):
                        yield Label("Style tags", classes="compose-label")
                        yield Input(
                            id="tags", compact=True, placeholder="pop, upbeat, female vocals"
                        )
                        yield Static("", id="count-tags", classes="compose-count")
                    with Horizontal(classes="compose-row"):
                        yield Label("Title", classes="compose-label")
                        yield Input(id="title", compact=True, placeholder="optional")
                        yield Static("", id="count-title", classes="compose-count")
                with Vertical(id="pane-inspiration"):
                    with Horizontal(classes="compose-row"):
                        yield Label("Description", classes="compose-label")
                        yield Static("", id="count-description", classes="compose-count")
                    yield TextArea(id="description", soft_wrap=True, compact=True)
            with Horizontal(classes="compose-row", id="compose-options"):
                yield Checkbox("Instrumental", id="instrumental", compact=True)
                yield Label("Keep files", classes="compose-label compose-gap")
                yield Input(id="retention_days", compact=True, placeholder="7")
                yield Label("days (1-30)", classes="compose-unit")
            with (
                Collapsible(title="More: persona", id="compose-more"),
                Horizontal(classes="compose-row"),
            ):
                yield Label("Persona ID", classes="compose-label")
                yield Input(id="persona_id", compact=True, placeholder="optional")
            yield Static("", id="compose-problems", markup=False)
            yield Static("", id="compose-status", markup=False)
            with Horizontal(id="compose-buttons"):
                yield Button("ctrl+s Send", id="send", variant="primary", compact=True)
                yield Button("ctrl+l Look for it", id="look", compact=True)
                yield Button("ctrl+r History", id="recall", compact=True)
                yield Button("esc Close", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#look").display = False
        self.query_one("#compose-note").display = bool(self._note)
        self._fill(self._initial)
        if self._pending is not None:
            self.query_one("#look").display = True
            self._say(
                f"An earlier send at {_clock_time(self._pending.at)} got no usable answer: the "
                "server may have created that task. ctrl+l looks for it; ctrl+s twice sends "
                "anyway.",
                "yellow",
            )
        if self._focus_send:
            self.query_one("#send").focus()
        else:
            self._focus_first()

    @property
    def sending(self) -> bool:
        """A request is out and its answer not yet in (the app asks before quitting)."""
        return self._sending

    # -- the form ----------------------------------------------------------------
    def form(self) -> ComposeForm:
        """What the dialog holds now."""
        value = {name: self.query_one(f"#{name}", Input).value for name in INPUTS}
        text = {name: self.query_one(f"#{name}", TextArea).text for name in AREAS}
        return ComposeForm(
            mode=self._mode,
            instrumental=self.query_one("#instrumental", Checkbox).value,
            continue_clip_id=self._extend.clip_id if self._extend else "",
            **value,
            **text,
        )

    def _fill(self, form: ComposeForm) -> None:
        """Show ``form`` (the draft, a recall, a prefill): one check and no
        draft write for it, not one per field (their Changed messages are
        held back; they arrive after this returns, so a flag could not)."""
        with self.prevent(Input.Changed, TextArea.Changed, Checkbox.Changed):
            for name in INPUTS:
                self.query_one(f"#{name}", Input).value = getattr(form, name)
            for name in AREAS:
                area = self.query_one(f"#{name}", TextArea)
                area.load_text(getattr(form, name))
                area.move_cursor(area.document.end)  # to go on writing
            self.query_one("#instrumental", Checkbox).value = form.instrumental
            self.query_one("#compose-more", Collapsible).collapsed = not form.persona_id
            self._extend = (
                (self._find_clip(form.continue_clip_id) or ExtendTarget(form.continue_clip_id))
                if form.continue_clip_id
                else None
            )
            self._show_extend()
            self._set_mode(form.mode)
        self._changed(save=False)

    def _show_extend(self) -> None:
        row = self.query_one("#compose-extend")
        target = self._extend
        row.display = target is not None
        dialog = self.query_one("#compose-dialog")
        if target is None:
            dialog.border_title = "New track" if self._heading == "Extend" else self._heading
            return
        dialog.border_title = "Extend"
        bounds = f"0-{math.floor(target.duration)} s, " if target.duration is not None else ""
        title = f"“{clean(target.title, one_line=True)[:40]}” " if target.title else ""
        shown = Text(f"s ({bounds}{clip_length(target.duration)}) of {title}")
        shown.append(clean(target.clip_id, one_line=True), style="dim")
        self.query_one("#compose-extend-clip", Static).update(shown)

    @on(Button.Pressed, "#drop-extend")
    def _drop_extend(self) -> None:
        """Make it a new track: the extension is set aside (ctrl+r), not lost."""
        current = self.form()
        self._aside = set_aside(self._aside, current, self.app.clock())
        self._fill(replace(current, continue_clip_id="", continue_at=""))
        self._focus_first()
        self._say("Not an extension any more; the extension is kept in ctrl+r.", "green")

    @property
    def clip_duration(self) -> float | None:
        return self._extend.duration if self._extend else None

    def _set_mode(self, mode: Mode) -> None:
        self._mode = mode
        self.query_one("#compose-mode", Tabs).active = f"mode-{mode}"
        self.query_one("#compose-modes", ContentSwitcher).current = f"pane-{mode}"

    def _focus_first(self) -> None:
        self.query_one("#lyrics" if self._mode == "custom" else "#description").focus()

    @on(Tabs.TabActivated, "#compose-mode")
    def _mode_chosen(self, event: Tabs.TabActivated) -> None:
        # The tabs' state, not the event's tab: activations queued while the
        # dialog was filled (the first tab on mount, a prefill) arrive late.
        active = self.query_one("#compose-mode", Tabs).active
        mode: Mode = "inspiration" if active == "mode-inspiration" else "custom"
        if mode != self._mode:
            self._set_mode(mode)
            self._changed()

    def action_switch_mode(self) -> None:
        self._set_mode("inspiration" if self._mode == "custom" else "custom")
        self._focus_first()
        self._changed()

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    def _edited(self) -> None:
        self._changed()

    def _changed(self, *, save: bool = True) -> None:
        """Counts, problems and the draft follow every change."""
        form = self.form()
        for name in COUNTED:
            count = self.query_one(f"#count-{name}", Static)
            text, over = counter(name, getattr(form, name))
            count.update(text)
            count.set_class(over, "-over")
        if self._status_kind == "fix" and form != self._refused_form:
            self._say("")
        self._show_problems(check(form, self.clip_duration).problems)
        if self._resend_armed:
            self._resend_armed = False
        if save:
            if self._draft_timer is not None:
                self._draft_timer.stop()
            self._draft_timer = self.set_timer(DRAFT_DELAY, self._save_draft)

    def _show_problems(self, problems: list[FieldProblem]) -> None:
        # "Write lyrics or style tags" on an empty form is a hint until a
        # send is tried; every other problem is marked as soon as it exists.
        hints = () if self._tried else [p for p in problems if p.code_empty]
        bad = {problem.field for problem in problems if problem not in hints}
        for name in (*INPUTS, *AREAS):
            self.query_one(f"#{name}").set_class(name in bad, "-invalid")
        lines = Text()
        # At most three lines: the dialog must keep its fields on 24 rows.
        shown = problems if len(problems) <= 3 else problems[:2]
        for problem in shown:
            lines.append(problem.message, style="dim" if problem in hints else "bold red")
            lines.append("\n")
        if len(problems) > len(shown):
            lines.append(f"and {len(problems) - len(shown)} more (marked)", style="red")
        if not problems and not self._status_kind:
            lines.append("Ready: ctrl+s sends it.", style="green")
        lines.rstrip()
        self.query_one("#compose-problems", Static).update(lines)

    def _say(self, text: str, style: str = "", kind: str = "send") -> None:
        """The status line: what happened to the request. Server text in it
        is cleaned (no escape reaches the terminal) and the key scrubbed."""
        shown = clean(scrub(text, self.app.config.api_key), one_line=True)
        self.query_one("#compose-status", Static).update(Text(shown, style=style))
        self._status_kind = kind if text else ""

    # -- the draft -----------------------------------------------------------------
    def _drafts(self) -> Drafts:
        form = self.form()
        return Drafts(None if form.empty else form, self._aside, self._pending)

    @work(thread=True, group="draft", exit_on_error=False)
    def _save_draft(self, drafts: Drafts | None = None) -> None:
        """Write the draft from a thread: fsync must not stall typing."""
        try:
            self._store.save(drafts or self.app.call_from_thread(self._drafts))
        except OSError as exc:
            self.app.call_from_thread(
                self._say, f"The draft was not saved: {exc.strerror or exc}", "red"
            )

    def _save_draft_now(self, drafts: Drafts | None = None) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        try:
            self._store.save(drafts or self._drafts())
        except OSError as exc:
            log.warning("draft not saved: %s", exc)
            self.notify(
                f"The draft was not saved: {exc.strerror or exc}", severity="error", markup=False
            )

    # -- recall --------------------------------------------------------------------
    def action_recall(self) -> None:
        if self._sending:
            return
        self.app.push_screen(
            RecallScreen(self._aside, self._history.load(), self.app.clock()), self._recalled
        )

    def _recalled(self, form: ComposeForm | None) -> None:
        if form is None:
            return
        now = self.app.clock()
        current = self.form()
        aside = set_aside(self._aside, current if current != form else None, now)
        self._aside = tuple(a for a in aside if a.form != form)
        self._fill(form)
        self._focus_first()
        kept = " What you had typed is kept in ctrl+r." if not current.empty else ""
        self._say(f"Recalled.{kept}", "green")
        self._save_draft_now()

    # -- sending -------------------------------------------------------------------
    def action_send(self) -> None:
        if self._sending:
            self._say("Already sending: the request goes out once.", "yellow")
            return
        form = self.form()
        checked = check(form, self.clip_duration)
        if checked.request is None:
            self._tried = True
            self._show_problems(checked.problems)
            first = next((p.field for p in checked.problems if p.field), "")
            if first:
                self._reveal(first)
            self._refused_form = form
            self._say("Not sent: fix what is marked first.", "red", kind="fix")
            return
        if self._pending is not None and not self._resend_armed:
            self._resend_armed = True
            self._say(
                "The last attempt may have created the task. ctrl+s again sends anyway "
                "(a second task, more credits); ctrl+l looks for it first.",
                "yellow",
            )
            return
        self._sending = True
        self._resend_armed = False
        self._found = ()
        look = self.query_one("#look", Button)
        look.label, look.display = "ctrl+l Look for it", False
        self.query_one("#send", Button).disabled = True
        self._say("Sending… (once; esc waits for the answer)", "")
        self._save_draft_now()
        self._send(checked.request)

    def _reveal(self, field: str) -> None:
        if field in ("lyrics", "tags", "title"):
            self._set_mode("custom")
        elif field == "description":
            self._set_mode("inspiration")
        elif field == "persona_id":
            self.query_one("#compose-more", Collapsible).collapsed = False
        self.query_one(f"#{field}").focus()

    @work(group="send", exit_on_error=False)
    async def _send(self, request: GenerateRequest) -> None:
        sent_at = self.app.clock()
        try:
            result = await self.app.client.generate(request, clip_duration=self.clip_duration)
        except GenerateRequestError as exc:  # checked above; kept for safety
            self._say("Not sent: " + "; ".join(exc.problems), "red")
        except NotSentError as exc:
            self._say(
                f"Not sent ({exc.describe()}): nothing was created; ctrl+s sends it again.",
                "red",
            )
        except MaybeCreatedError as exc:
            self._pending = Pending(sent_at, request)
            self._save_draft_now()  # the risk outlives the dialog
            self.query_one("#look").display = True
            self._say(
                f"No usable answer ({exc.cause.describe()}): the server may have created the "
                "task. ctrl+l looks for it in the account's recent tasks.",
                "yellow",
            )
        except AuthError as exc:
            self._say(f"The key was refused: {exc.describe()}. Nothing was created.", "red")
        except MusicMintError as exc:
            self._say(f"The server refused the request: {exc.describe()}", "red")
        else:
            await self._accepted(Submitted(result.task_id, request, result.status, sent_at))
        finally:
            self._sending = False
            self.query_one("#send", Button).disabled = False

    async def _accepted(self, submitted: Submitted) -> None:
        """The task exists: remember the request, drop the draft, close."""
        try:
            await asyncio.to_thread(self._remember, submitted)
        except OSError as exc:  # the task exists all the same
            log.warning("request history not saved: %s", exc)
        self.dismiss(submitted)

    def _remember(self, submitted: Submitted) -> None:
        if submitted.request is not None:
            self._history.add(Sent(submitted.at, submitted.task_id, submitted.request))
        self._store.save(Drafts(None, self._aside))

    # -- after an ambiguous failure -------------------------------------------------
    def action_look(self) -> None:
        if self._pending is None or self._sending:
            return
        self._look(self._pending.at)

    @work(group="look", exclusive=True, exit_on_error=False)
    async def _look(self, sent_at: float) -> None:
        """Look among the account's recent tasks for one made by the request
        that got no answer; a second ctrl+l tracks what was found."""
        if self._found:
            await self._track_found(self._found)
            return
        self._say("Looking among the account's recent tasks…")
        try:
            found = await find_created(
                self.app.client,
                sent_at,
                self.app.clock(),
                set(self.app.records),
                before=CLOCK_SKEW,
            )
        except MusicMintError as exc:
            self._say(f"The recent tasks could not be read: {exc.describe()}. ctrl+l tries again.")
            return
        since = _clock_time(found.since)
        if not found.tasks:
            stopped = "" if found.complete else " (the search stopped early)"
            self._say(
                f"No untracked task created since {since} among the {found.listed} most recent"
                f"{stopped}: the request most likely did not arrive. ctrl+l looks again (the "
                "list can lag); ctrl+s twice sends it again.",
                "yellow",
            )
            return
        self._found = found.tasks
        button = self.query_one("#look", Button)
        if len(found.tasks) == 1:
            task = found.tasks[0]
            created = (task.created_at or 0) / 1000
            self._say(
                f"Found task {task.id}, created {_clock_time(created)} "
                f"({_relative(created - sent_at)} the send). ctrl+l tracks it.",
                "green",
            )
            button.label = "ctrl+l Track it"
        else:
            shown = ", ".join(t.id for t in found.tasks[:3])
            more = "…" if len(found.tasks) > 3 else ""
            self._say(
                f"Found {len(found.tasks)} tasks created since {since} ({shown}{more}); "
                "another device may have made some. ctrl+l tracks them all.",
                "yellow",
            )
            button.label = "ctrl+l Track them"

    async def _track_found(self, tasks: tuple[TaskSummary, ...]) -> None:
        """Close with the found task(s): the request is attached only when
        one task was found, as then it is surely the request's."""
        request = self._pending.request if self._pending else None
        one = len(tasks) == 1
        at = (self._pending.at if self._pending else 0.0) or self.app.clock()  # 0: unknown
        submitted = Submitted(
            tasks[0].id,
            request if one else None,
            tasks[0].status,
            at,
            others=tuple(t.id for t in tasks[1:]),
            found=True,
        )
        await self._accepted(submitted)

    # -- leaving -----------------------------------------------------------------
    def action_close(self) -> None:
        if self._sending:
            self._say("Waiting for the server's answer: closing now could lose the new task.")
            return
        self._save_draft_now()
        self.dismiss(None)

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#look")
    def _look_pressed(self) -> None:
        self.action_look()

    @on(Button.Pressed, "#recall")
    def _recall_pressed(self) -> None:
        self.action_recall()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.action_close()
