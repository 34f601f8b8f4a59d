"""`{% goal_outcomes episode as goals %}`: the episode's goals with their first and latest 0-10
ratings and the change between them, for the progress report (issue #17, part 3: "goals attainment
in the report"; goal-based outcomes, Law & Jacob 2015). Read here so that the report (in `insights`,
a layer below) needs one load line and no import, as the client page does for reconsolidation work.

The report is made only for a record its maker may read, and its supervision copy holds only the
episodes shared for supervision (insights.report.report_html); each goal shown is audited as read."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import transaction

from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.models import Episode
from spacebetween.formulation import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def goal_outcomes(context: dict[str, Any], episode: Episode) -> list[selectors.GoalProgress]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    goals = selectors.goal_progress(episode, selectors.held_sessions(episode))
    if goals:
        shown: list[tuple[Entity, object]] = [(Entity.GOAL, progress.goal.pk) for progress in goals]
        with transaction.atomic():
            record_reads(actor=user, entities=shown, purpose=Purpose.TREATMENT, request=request)
    return goals
