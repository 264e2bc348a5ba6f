"""The key stays secret everywhere; errors land in the log and the `l` screen."""

from __future__ import annotations

from pathlib import Path

from tui.core import logs
from tui.simulator import Fault

from .conftest import KEY
from .harness import make_app, screen_text, wait_for


async def test_errors_are_logged_without_the_key(sim_server, tmp_path: Path, clock) -> None:
    log_dir = tmp_path / "logs"
    recent, path = logs.setup(log_dir, KEY)
    try:
        sim = sim_server.sim
        sim.inject("echo", Fault.envelope_error(5000, f"bad request with key {KEY}"))
        sim.inject("down", Fault.html_error(502))
        app = make_app(sim_server, tmp_path / "data", clock, ids=["echo", "down"])
        app.recent_errors = recent
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: app.records["echo"].last_error is not None)
            await wait_for(pilot, lambda: app.records["down"].last_error is not None)
            await wait_for(pilot, lambda: "sk-mm-…0001" in screen_text(app))
            assert KEY not in screen_text(app)
            await pilot.press("l")
            await wait_for(pilot, lambda: "Errors and failed tasks" in screen_text(app))
            shown = screen_text(app)
            assert "task down" in shown and "HTML" in shown
            assert KEY not in shown
            await pilot.press("escape")
    finally:
        logs.teardown()
    assert path is not None
    text = path.read_text()
    assert "task echo: bad request with key sk-mm-…0001" in text
    assert "task down:" in text
    assert KEY not in text
    # One line per distinct problem, not one per retry.
    assert text.count("task down:") == 1


def test_key_never_reaches_the_data_file(sim_server, tmp_path: Path) -> None:
    from tui.domain.tracked import TrackedTask
    from tui.services.store import DB_NAME, TaskStore

    store = TaskStore(tmp_path / DB_NAME)
    store.save([TrackedTask("t1", 1.0)])
    assert KEY not in store.path.read_text()


def test_redaction_filter_masks_any_logger_message(tmp_path: Path) -> None:
    recent, path = logs.setup(tmp_path, "sk-mm-super-secret-77")
    try:
        logs.log.warning("oops %s", "Authorization: Bearer sk-mm-super-secret-77")
    finally:
        logs.teardown()
    assert path is not None
    assert "super-secret" not in path.read_text()
    assert "sk-mm-…t-77" in path.read_text()
    assert "super-secret" not in "\n".join(recent.lines)


def test_the_log_file_is_readable_by_the_user_alone(tmp_path) -> None:
    import stat

    from tui.core import logs

    _, path = logs.setup(tmp_path / "log", "sk-mm-secret-0001")
    try:
        logs.log.warning("a line")
        assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "log").stat().st_mode) == 0o700
    finally:
        logs.teardown()
