"""Which transference and counter-transference themes come just before alliance ruptures.

Framework-free. Sessions are given by their position in the episode's own order (1, 2, ...); a theme
tagged at position p *precedes* a rupture at position r when 0 <= r - p <= `within`: tagged at the
rupture's own session or, with the default `within=1`, the session before it. The count is of
ruptures, so a theme tagged at both counts once for each rupture. This is a description of one
episode for the therapist to reflect on (Safran & Muran 2000: ruptures as markers of the relational
patterns being enacted), not a statistic: no claim of association is made from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ThemePattern:
    kind: str
    label: str
    sessions_tagged: int
    ruptures_preceded: int
    ruptures: int  # all the episode's ruptures, the denominator


def theme_patterns(
    tags: Iterable[tuple[int, str, str]], ruptures: Iterable[int], *, within: int = 1
) -> list[ThemePattern]:
    """One row per (kind, label) in `tags` ((position, kind, label) each): the sessions it was tagged
    at and the ruptures it preceded within `within` sessions; most ruptures preceded first, then by
    kind and label."""
    if isinstance(within, bool) or not isinstance(within, int) or within < 0:
        raise ValueError(f"within must be a whole number of sessions, 0 or more, not {within!r}")
    at: dict[tuple[str, str], set[int]] = {}
    for position, kind, label in tags:
        at.setdefault((kind, label), set()).add(position)
    rupture_positions = sorted(set(ruptures))
    rows = [
        ThemePattern(
            kind=kind,
            label=label,
            sessions_tagged=len(positions),
            ruptures_preceded=sum(
                1 for r in rupture_positions if any(0 <= r - p <= within for p in positions)
            ),
            ruptures=len(rupture_positions),
        )
        for (kind, label), positions in at.items()
    ]
    return sorted(rows, key=lambda row: (-row.ruptures_preceded, row.kind, row.label.casefold()))
