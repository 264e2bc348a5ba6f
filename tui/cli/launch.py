"""Starting the dashboard: the data-folder lock and the error log around the app.

Shared by the plain command line and ``--demo``, so both start the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from tui.core import exit_codes, locations, logs
from tui.core.config import Config
from tui.core.lock import DataLock, FolderInUse
from tui.services.store import DB_NAME, TaskStore


def run_app(
    config: Config,
    initial_ids: Iterable[str] = (),
    *,
    demo: bool = False,
    store: TaskStore | None = None,
    reload_config: Callable[[], Config] | None = None,
    import_status: str | None = None,
) -> int:
    """Run the dashboard; return its exit status."""
    from tui.ui.app import MusicMintApp  # Textual only for the dashboard, not `wait`

    store = store or TaskStore(locations.data_dir() / DB_NAME)
    recent, _ = logs.setup(None if demo else locations.log_dir(), config.api_key)
    try:
        with DataLock(store.path.parent):
            app = MusicMintApp(
                config,
                store,
                initial_ids=initial_ids,
                demo=demo,
                reload_config=reload_config,
                recent_errors=recent,
                import_status=import_status,
            )
            result = app.run()
    except FolderInUse as exc:
        print(f"musicmint-tui: {exc}", file=sys.stderr)
        return exit_codes.IN_USE
    finally:
        logs.teardown()
    return result if isinstance(result, int) else (app.return_code or 0)
