"""What the workspace page shows: the latest formulation, its versions, the goals with their change
and chart, and the episode's standard measures beside them (insights' charts)."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from spacebetween.accounts.models import User
from spacebetween.audit.models import Entity
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Episode
from spacebetween.core.goals import MAX_ACTIVE_GOALS
from spacebetween.core.reconsolidation import JUXTAPOSITION
from spacebetween.formulation import selectors
from spacebetween.formulation.chart import goals_chart
from spacebetween.formulation.forms import (
    FormulationForm,
    GoalForm,
    GoalRatingForm,
    MarkerCheckForm,
    StepForm,
)
from spacebetween.formulation.models import FormulationVersion
from spacebetween.insights.presenters import episode_views
from spacebetween.measures.selectors import instruments_for

THRESHOLD_NOTE = (
    "Change is the latest rating minus the first. A change of 3 or more points is often quoted as "
    "reliable on goal-based outcomes; that threshold is not yet verified against its source here, so "
    "read the raw change (docs/formulation.md)."
)


def workspace(
    user: User,
    episode: Episode,
    *,
    goal_form: GoalForm | None = None,
    rating_form: GoalRatingForm | None = None,
) -> dict[str, Any]:
    can_edit = episodes_for(user, write=True).filter(pk=episode.pk).exists()
    sessions = selectors.held_sessions(episode)
    progress = selectors.goal_progress(episode, sessions)
    all_versions = selectors.versions(episode)
    active = [p.goal for p in progress if p.goal.is_active]
    chart = goals_chart(
        title="Goals, rated 0 to 10",
        goals=[(f"Goal {p.number}", p.points) for p in progress],
        sessions=list(range(1, len(sessions) + 1)),
    )
    return {
        "episode": episode,
        "can_edit": can_edit,
        "versions": all_versions,
        "latest": all_versions[0] if all_versions else None,
        "groups": selectors.grouped(all_versions[0]) if all_versions else [],
        "evidence": selectors.evidence(episode, all_versions[:1]).get(all_versions[0].pk, [])
        if all_versions
        else [],
        "progress": progress,
        "goals_chart": chart,
        "threshold_note": THRESHOLD_NOTE,
        "goal_form": goal_form or GoalForm(),
        "rating_form": rating_form or GoalRatingForm(goals=active, sessions=sessions),
        "can_add_goal": len(active) < MAX_ACTIVE_GOALS,
        "insight_views": episode_views(user, [episode], episode.client.practice),
        "reconsolidation": selectors.reconsolidation_works(episode),
    }


def revise_form(
    episode: Episode, data: QueryDict | None
) -> tuple[FormulationForm, FormulationVersion | None]:
    """The revise page's form, filled from the latest version (empty for the first), with the
    practice's instruments and the episode's held sessions to choose from; and that latest version."""
    instruments = instruments_for(episode.client.practice)
    latest = next(iter(selectors.versions(episode)), None)
    initial = {**latest.content, "measures": latest.measures, "evidence": latest.evidence} if latest else {}
    form = FormulationForm(
        data, initial=initial, instruments=instruments, sessions=selectors.held_sessions(episode)
    )
    return form, latest


def shown(context: dict[str, Any]) -> list[tuple[Entity, object]]:
    """What the page showed, for the audit log: ids only."""
    entities: list[tuple[Entity, object]] = [(Entity.EPISODE, context["episode"].pk)]
    if context["latest"] is not None:
        entities.append((Entity.FORMULATION_VERSION, context["latest"].pk))
    entities += [(Entity.GOAL, p.goal.pk) for p in context["progress"]]
    entities += [(Entity.RECONSOLIDATION_WORK, w.work.pk) for w in context["reconsolidation"]]
    return entities


def reconsolidation_page(
    user: User,
    episode: Episode,
    work: selectors.WorkView,
    *,
    step_form: StepForm | None = None,
    marker_form: MarkerCheckForm | None = None,
) -> dict[str, Any]:
    """One piece of reconsolidation work: its steps and marker checks as a dated timeline, the
    follow-ups due, and (for the treating therapist) the forms for the next step and a marker check."""
    following = work.next_step or JUXTAPOSITION
    return {
        "episode": episode,
        "view": work,
        "can_edit": episodes_for(user, write=True).filter(pk=episode.pk).exists(),
        "step_form": step_form or StepForm(initial={"step": following}),
        "marker_form": marker_form or MarkerCheckForm(),
        "measures": [selectors.episode_instruments(episode).get(m, m) for m in work.work.measures],
    }


def reconsolidation_shown(context: dict[str, Any]) -> list[tuple[Entity, object]]:
    """What the work's page showed, for the audit log: ids only."""
    view: selectors.WorkView = context["view"]
    return [
        (Entity.EPISODE, context["episode"].pk),
        (Entity.RECONSOLIDATION_WORK, view.work.pk),
        *((Entity.RECONSOLIDATION_STEP, s.pk) for s in view.steps),
        *((Entity.MARKER_CHECK, c.pk) for c in view.checks),
    ]
