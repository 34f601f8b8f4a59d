"""When answers arrive, mark the episode's signals as stale, in the answer's own transaction: one
small write, so that answering stays fast and a refresh is never lost. The writers below (measures,
relationship) do not call this: they send `measures.events.answers_stored` inside their transaction,
and `insights.apps` connects `on_answers_stored` to it. The refresh itself runs in
`spacebetween worker` (every minute, `insights.services.refresh_stale_due`); until then the pages
compute a stale episode's signals in memory for the view, writing nothing
(`insights.selectors.current_alerts`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from spacebetween import clock, statements
from spacebetween.insights.models import StaleEpisode


def refresh_episode_later(episode_id: int) -> None:
    """Mark this episode's signals stale (inside the caller's transaction). An existing mark takes the
    new time: a refresh that read the old mark deletes only that one (`refresh_stale`), so an answer
    arriving while it runs is still refreshed in the next round."""
    statements.insert(
        StaleEpisode,
        {"episode": episode_id, "marked_at": clock.now()},
        returning_pk=False,
        unique=["episode"],
    )


def on_answers_stored(sender: object, *, episode_id: int, **kwargs: object) -> None:
    """The receiver of `measures.events.answers_stored`: runs inside the writer's transaction."""
    refresh_episode_later(episode_id)


@contextlib.contextmanager
def deferred_refresh() -> Iterator[None]:
    """Refresh everything marked stale inside the block once, at its end (bulk writers: the demo)."""
    try:
        yield
    finally:
        from spacebetween.insights.services import refresh_stale

        refresh_stale()
