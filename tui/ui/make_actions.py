"""Making tracks from the dashboard: new (``n``), variation (``shift+n``),
extend (``e``) and retry (``shift+r``). Each opens the New track dialog
(:mod:`tui.ui.screens.compose`), prefilled as the key says; the dialog sends,
and this module tracks what it made.

- ``n`` opens the draft left last time, or an empty form.
- ``shift+n`` is the selected task's own request when it was made here (or
  by ``musicmint-tui generate``); otherwise what its clip tells of it: title,
  style tags and lyrics.
- ``e`` continues the selected clip: ``continue_clip_id`` is the clip,
  ``continue_at`` its end (editable, bounded by its length).
- ``shift+r`` on a failed task offers its request again; the dialog opens
  with the Send button focused, so it is one deliberate key away, never
  silent. A task not made here has no request to resend: that is said.

A prefilled dialog does not overwrite the draft: the draft is set aside and
stays one ``ctrl+r`` away.

A part of :class:`~tui.ui.screens.main.MainScreen`, like
:class:`~tui.ui.clip_actions.ClipActions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from textual.screen import Screen

from tui.api.generate import GenerateRequest
from tui.api.ids import is_valid_task_id
from tui.core.sanitize import clean
from tui.domain.compose_form import ComposeForm, label_of
from tui.domain.tracked import TrackedTask, find_clip
from tui.services.drafts import DraftStore, History, set_aside
from tui.ui import wording
from tui.ui.screen_part import ScreenPart
from tui.ui.screens.compose import ComposeScreen, ExtendTarget, Submitted


class MakeActions(ScreenPart):
    def __init__(
        self,
        screen: Screen[None],
        highlighted: Callable[[], TrackedTask | None],
        clip_index: Callable[[TrackedTask], int],
        show_submitted: Callable[[TrackedTask], None],
    ) -> None:
        super().__init__(screen, highlighted, clip_index)
        self._show_submitted = show_submitted

    def _open(
        self,
        form: ComposeForm | None,
        heading: str,
        note: str = "",
        *,
        focus_send: bool = False,
    ) -> None:
        """The dialog with ``form`` (``None``: the draft); a draft that the
        prefill replaces is set aside."""
        folder = self._app.data_folder
        store = DraftStore(folder)
        drafts = store.load()
        if form is None:
            form = drafts.form or ComposeForm()
        elif drafts.form is not None and drafts.form != form:
            # The draft goes aside; a send that may have created a task stays known.
            aside = set_aside(drafts.aside, drafts.form, self._app.clock())
            drafts = replace(drafts, form=None, aside=aside)
        self._app.push_screen(
            ComposeScreen(
                form=form,
                drafts=drafts,
                store=store,
                history=History(folder),
                heading=heading,
                note=note,
                find_clip=self.find_clip,
                focus_send=focus_send,
            ),
            self._submitted,
        )

    def find_clip(self, clip_id: str) -> ExtendTarget | None:
        """The clip ``clip_id`` among the tracked tasks (its title and length)."""
        clip = find_clip(self._app.records.values(), clip_id)
        return ExtendTarget(clip_id, clip.title, clip.duration) if clip else None

    def _submitted(self, submitted: Submitted | None) -> None:
        if submitted is None:
            return
        app = self._app
        if submitted.others:
            app.track(submitted.others)
        if submitted.request is None:
            app.track([submitted.task_id])
            record = app.records[submitted.task_id]
        else:
            record = app.track_submitted(
                submitted.task_id, submitted.request.to_json(), sent_at=submitted.at
            )
        self._show_submitted(record)
        if submitted.found:
            count = wording.plural(1 + len(submitted.others), "task")
            self._say(f"Tracking {count} found among the account's recent tasks.")
            return
        status = f" ({clean(submitted.status, one_line=True)})" if submitted.status else ""
        self._say(f"Submitted: task {submitted.task_id}{status}. It is polled like the others.")

    # -- the keys ------------------------------------------------------------------
    def new_track(self) -> None:
        self._open(None, "New track")

    def variation(self) -> None:
        record = self._highlighted()
        if record is None:
            self._say("No task selected: n starts a new track.")
            return
        request = self._request_of(record)
        if request is None:
            self._say(
                f"Task {record.id} tells nothing to vary yet (no request made here, no clip):"
                " n starts a new track."
            )
            return
        self._open(
            ComposeForm.from_request(request),
            "Variation",
            f"A variation of task {record.id}: {label_of(request)}",
        )

    def _request_of(self, record: TrackedTask) -> GenerateRequest | None:
        """The request that made ``record``, or one rebuilt from its clip."""
        if record.request:
            return record.generate_request
        clips = record.task.results if record.task else ()
        if not clips:
            return None
        clip = clips[self._clip_index(record)]
        if not (clip.title or clip.tags or clip.prompt):
            return None
        return GenerateRequest(prompt=clip.prompt, tags=clip.tags, title=clip.title)

    def extend(self) -> None:
        found = self._selected_clip()
        if found is None:
            return
        record, _, clip = found
        if not isinstance(clip.id, str) or not is_valid_task_id(clip.id):
            self._say("This clip has no usable ID from the server: it cannot be extended.")
            return
        gone = record.clip_expired(clip.expire_at, self._app.clock())
        if gone:
            self._say(f"This clip cannot be extended: {gone}. shift+n makes a variation.")
            return
        base = self._request_of(record) or GenerateRequest()
        at = int(clip.duration) if clip.duration is not None else None
        request = GenerateRequest(
            tags=base.tags or clip.tags,
            title=base.title or clip.title,
            make_instrumental=base.make_instrumental,
            persona_id=base.persona_id,
            retention_days=base.retention_days,
            continue_clip_id=clip.id,
            continue_at=at,
        )
        self._open(
            ComposeForm.from_request(request),
            "Extend",
            "Write what comes next; it starts where 'Extend from' says.",
        )

    def retry(self) -> None:
        record = self._highlighted()
        if record is None:
            self._say("No task selected.")
            return
        if record.status != "failed":
            self._say(
                f"shift+r retries a failed task; this one is {record.status}."
                " shift+n makes a variation of it."
            )
            return
        if not record.request:
            vary = " shift+n starts from what its clips tell;" if self._request_of(record) else ""
            self._say(
                f"Task {record.id} was not made here, so its request is unknown:{vary}"
                " n starts a new track."
            )
            return
        request = record.generate_request
        assert request is not None  # record.request is set (checked above)
        error = clean(record.task.error, one_line=True) if record.task and record.task.error else ""
        because = f" (it failed: {error[:80]})" if error else ""
        self._open(
            ComposeForm.from_request(request),
            "Retry",
            f"Retry of failed task {record.id}{because}: ctrl+s sends the same request"
            " again as a new task.",
            focus_send=True,
        )
