from __future__ import annotations

from django import forms

from spacebetween.core.alliance import DEFAULT_DROP_SHARE_OF_RANGE
from spacebetween.core.trajectories import SignalRules
from spacebetween.ui.forms import PageForm


class InsightSettingsForm(PageForm):
    """The practice's signal and rupture rules (docs/insights.md says what each one does and why)."""

    no_improvement_by_session = forms.IntegerField(
        min_value=2,
        max_value=52,
        label="Flag no reliable improvement from session",
        help_text=f"Default {SignalRules.no_improvement_by_session}: some clients improve only after about "
        "six sessions (Saunders et al. 2019).",
    )
    overdue_after_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        label="Measures are overdue after (days without an answer while sessions go on)",
    )
    alliance_drop_points = forms.FloatField(
        required=False,
        min_value=0.1,
        label="Possible rupture: a drop below the client's own baseline of at least (points)",
        help_text="Leave empty for the alliance measure's reliable-change threshold, or "
        f"{DEFAULT_DROP_SHARE_OF_RANGE:.0%} of its range "
        "where its definition gives none (the WAI-SR has none).",
    )
    alliance_floor = forms.FloatField(
        required=False,
        label="Possible rupture: any alliance score below (points)",
        help_text="Leave empty for no floor: no verified cut-off exists for the WAI-SR.",
    )
    alliance_gap_points = forms.FloatField(
        min_value=1,
        max_value=100,
        label="Widening gap between the client's and the therapist's view (percent-of-range points)",
    )
    alliance_gap_sessions = forms.IntegerField(
        min_value=1, max_value=12, label="... sustained over this many measured sessions"
    )
