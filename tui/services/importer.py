"""Importing the account's recent tasks (``POST /api/v1/tasks``, 100 a page).

Used by ``shift+i`` and ``--import-recent``. Paging stops at an empty page,
at the total the server announced, or after :data:`MAX_PAGES` pages, so a
server that never stops paging cannot keep us busy forever.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.api import MusicMintClient

#: At most this many pages of :data:`PAGE_SIZE` tasks are read.
MAX_PAGES = 50
PAGE_SIZE = 100


@dataclass
class Listing:
    ids: list[str]  # as the server listed them, unchecked
    pages: int


async def recent_task_ids(client: MusicMintClient, status: str = "all") -> Listing:
    """The IDs of the account's recent tasks; raises ``MusicMintError``."""
    found: list[str] = []
    page = 1
    while page <= MAX_PAGES:
        result = await client.list_tasks(page=page, page_size=PAGE_SIZE, status=status)
        found += [item.id for item in result.items]
        if not result.items or (result.total is not None and len(found) >= result.total):
            break
        page += 1
    return Listing(found, min(page, MAX_PAGES))
