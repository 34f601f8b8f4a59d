"""core.ruptures.theme_patterns: which themes came at a rupture's session or the session before."""

from __future__ import annotations

import pytest

from spacebetween.core.ruptures import theme_patterns


def test_a_theme_before_each_rupture_is_counted_once_per_rupture() -> None:
    tags = [
        (2, "Counter-transference", "wish to rescue"),
        (3, "Counter-transference", "wish to rescue"),  # before the same rupture again: still one
        (6, "Counter-transference", "wish to rescue"),
        (1, "Transference", "feeling pushed away"),
        (7, "Transference", "feeling pushed away"),  # at the rupture's own session
    ]
    rows = theme_patterns(tags, ruptures=[4, 7, 7])
    assert [(r.label, r.sessions_tagged, r.ruptures_preceded, r.ruptures) for r in rows] == [
        ("wish to rescue", 3, 2, 2),
        ("feeling pushed away", 2, 1, 2),
    ]


def test_a_theme_two_sessions_before_does_not_count_unless_asked() -> None:
    tags = [(1, "Transference", "feeling judged")]
    assert theme_patterns(tags, [3])[0].ruptures_preceded == 0
    assert theme_patterns(tags, [3], within=2)[0].ruptures_preceded == 1
    assert theme_patterns(tags, [0])[0].ruptures_preceded == 0  # a rupture before the theme


@pytest.mark.parametrize("within", [-1, 1.5, True])
def test_within_must_be_a_whole_number_of_sessions(within: object) -> None:
    with pytest.raises(ValueError, match="within"):
        theme_patterns([], [], within=within)  # type: ignore[arg-type]
