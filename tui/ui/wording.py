"""What the dashboard says: the text of notifications and the banner.

Kept apart from the screen so the words can be read (and changed) in one
place. Server text reaching these functions is cleaned here.
"""

from __future__ import annotations

from tui.api.ids import ParsedIds
from tui.core.config import ENV_API_KEY, Config
from tui.core.formatting import span
from tui.core.sanitize import clean
from tui.domain.tracked import TrackedTask
from tui.services.expiry_watch import ExpiryWarning


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def extracted(parsed: ParsedIds) -> str | None:
    """What was taken out of pasted URLs and JSON ("Extracted 3 IDs from 2
    URLs and 1 JSON response"), so an ID the user never typed is no surprise."""
    if not parsed.extracted:
        return None
    sources = [
        plural(count, word)
        for count, word in ((parsed.urls, "URL"), (parsed.json_values, "JSON response"))
        if count
    ]
    return f"Extracted {plural(parsed.extracted, 'ID')} from {' and '.join(sources)}"


def add_summary(parsed: ParsedIds) -> str:
    """One line after adding: the dialog already showed every detail (which
    IDs were tracked or invalid, and why), so this only counts."""
    origins = [
        f"{count} from {word if count > 1 else one}"
        for count, word, one in (
            (parsed.added_from("url"), "URLs", "a URL"),
            (parsed.added_from("json"), "JSON", "JSON"),
        )
        if count
    ]
    parts = [f"Added {plural(len(parsed.valid), 'task')}"]
    if origins:
        parts[0] += f" ({', '.join(origins)})"
    if parsed.duplicates:
        parts.append(f"{len(parsed.duplicates)} already tracked")
    if parsed.invalid:
        parts.append(f"{len(parsed.invalid)} skipped as invalid")
    return "; ".join(parts) + "."


#: What OSC 52 is worth: the terminal never answers, so "sent" is all we know.
OSC52_SENT = "to the terminal clipboard (OSC 52; your terminal may not accept it)"


def copied(thing: str, value: str) -> str:
    """A clipboard tool took ``value`` and said so by its exit status.

    ``value`` goes last and without a full stop when it is a URL, so the
    message can itself be copied by hand."""
    return f"Copied {thing} {value}." if thing == "task ID" else f"Copied {thing}: {value}"


def sent_osc52(thing: str, value: str, tool: str | None = None, problem: str = "") -> str:
    """OSC 52 was written, which may or may not have reached a clipboard;
    ``tool`` is the clipboard tool that failed first, if one was tried."""
    failed = f"{tool} failed ({problem}); s" if tool else "S"
    if thing == "task ID":
        return f"{failed}ent task ID {value} {OSC52_SENT}."
    return f"{failed}ent {thing} {OSC52_SENT}: {value}"


def no_clips(record: TrackedTask) -> str:
    """Why a task has nothing to open, copy or download: "yet" only while it may come."""
    if record.finished:
        return f"Task {record.id} has no clips ({record.status})."
    return f"Task {record.id} has no clips yet ({record.status})."


def import_summary(added: int, pages: int, duplicates: int, invalid: int) -> str:
    """One line on what an import did, saying so when there was nothing to add."""
    read = f"{plural(pages, 'page')} read"
    if not added and not duplicates and not invalid:
        return f"Nothing to import: the account lists no tasks ({read})."
    head = "Nothing new to import" if not added else f"Imported {plural(added, 'new task')}"
    parts = [f"{head} ({read})"]
    if duplicates:
        parts.append(f"{duplicates} already tracked")
    if invalid:
        parts.append(f"{invalid} with invalid IDs skipped")
    return "; ".join(parts) + "."


def polling_now(count: int) -> str:
    if not count:
        return "Nothing to poll: every tracked task has finished (r polls the highlighted one)."
    return f"Polling {plural(count, 'unfinished task')} now."


def finished(record: TrackedTask) -> tuple[str, str]:
    """(title, message) announcing that ``record`` completed or failed."""
    task = record.task
    if record.status == "completed":
        title = task.results[0].title if task and task.results else None
        name = clean(title, one_line=True) if title else record.id
        count = len(task.results) if task else 0
        return "Task completed", f"✔ {name} completed ({plural(count, 'clip')})"
    reason = clean(task.error, one_line=True) if task and task.error else "no reason given"
    return "Task failed", f"✘ {record.id} failed: {reason}"


def finished_group(records: list[TrackedTask]) -> tuple[str, str, bool]:
    """(title, message, any failed) for tasks that finished close together:
    one notification for a burst, naming the first few."""
    if len(records) == 1:
        title, message = finished(records[0])
        return title, message, records[0].status != "completed"
    done = [r for r in records if r.status == "completed"]
    failed = [r for r in records if r.status != "completed"]
    counts = ", ".join(
        part
        for part in (
            f"✔ {len(done)} completed" if done else "",
            f"✘ {len(failed)} failed" if failed else "",
        )
        if part
    )
    shown: list[str] = []  # failures first; a title seen already is not repeated
    for record in failed + done:
        line = finished(record)[1][2:]
        if line not in shown:
            shown.append(line)
        if len(shown) == 3:
            break
    named = sum(1 for r in failed + done if finished(r)[1][2:] in shown)
    more = f"; and {len(records) - named} more" if len(records) > named else ""
    return "Tasks finished", f"{counts}: {'; '.join(shown)}{more}", bool(failed)


def expiring(warnings: list[ExpiryWarning], now: float) -> tuple[str, str]:
    """(title, message) warning that unsaved clips expire soon: one
    notification for those due together, naming the soonest few."""

    def one(warning: ExpiryWarning) -> str:
        title = warning.clip_title
        name = clean(title, one_line=True) if title else f"clip {clean(warning.clip_key)}"
        return f"{name} (task {warning.record.id}) in {span(warning.expire_at - now)}"

    if len(warnings) == 1:
        return "Clip expiring", f"⚠ Not downloaded, expires soon: {one(warnings[0])}"
    named = "; ".join(one(w) for w in warnings[:3])
    more = f"; and {len(warnings) - 3} more" if len(warnings) > 3 else ""
    return (
        "Clips expiring",
        f"⚠ {len(warnings)} clips not downloaded expire soon: {named}{more}",
    )


def key_refused(config: Config, server_message: str) -> str:
    """The banner shown while polling is stopped by a refused key.

    Only what can work is offered: a key from the environment cannot be
    re-read by the running dashboard, so ctrl+r is offered there only for a
    key that was re-enabled on the server. ``server_message`` must already be
    scrubbed (one line, key masked)."""
    source = config.sources.get("api.api_key", "")
    if source.startswith("env"):
        fix = (
            f"the key comes from {ENV_API_KEY}, which this running dashboard cannot re-read: "
            "set a working key and restart it (or, if the key was re-enabled on the server, "
            "press ctrl+r to try it again)"
        )
    else:
        fix = f"edit api_key in {config.path}, then press ctrl+r to reload it"
    return (
        f"✘ The API key {config.masked_key} was refused: {server_message}. "
        f"Polling is stopped. To fix: {fix}."
    )


def reloaded(masked_key: str, paused_for: float, *, key_was_refused: bool, same_key: bool) -> str:
    """What ctrl+r did, and only that: polling is not "resumed" while the
    server's Retry-After still holds, and whether a refused key is accepted
    now is for the next answer to say (the screen says it when it comes)."""
    if paused_for > 0:
        return (
            f"Config reloaded (key {masked_key}); still paused {span(paused_for)} "
            "by the server's Retry-After."
        )
    if key_was_refused and same_key:
        return f"Config reloaded; the key is unchanged ({masked_key}): trying it once more."
    if key_was_refused:
        return f"Config reloaded; trying the key {masked_key}."
    return f"Config reloaded (key {masked_key}); polling with it now."


def key_accepted(masked_key: str) -> str:
    return f"The API key {masked_key} was accepted; polling resumed."
