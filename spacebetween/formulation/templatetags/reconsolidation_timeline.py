"""`{% reconsolidation_timeline episode as timeline %}`: the episode's memory-reconsolidation work as
dated events for the client page (issue #17, part 5: "shown on the client's timeline"). Read here so
that the client page (in `web`, a layer below) needs one include line and no import, as
`progress` does for practice per week.

The client page is a clinician's (`clinician_required`) and lists only the episodes the user may
read (`clients.access`), so a supervisor sees this for an episode shared for supervision. Like the
workspace page, each work shown is audited as read, by its id."""

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
def reconsolidation_timeline(context: dict[str, Any], episode: Episode) -> list[selectors.TimelineEntry]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    works = selectors.reconsolidation_works(episode)
    if not works:
        return []
    # One read per work, as the workspace page records it (presenters.shown): the events are the
    # work's titles and dates, and one row per work keeps the page's queries from growing with them.
    shown: list[tuple[Entity, object]] = [(Entity.RECONSOLIDATION_WORK, view.work.pk) for view in works]
    with transaction.atomic():
        record_reads(actor=user, entities=shown, purpose=Purpose.TREATMENT, request=request)
    return selectors.timeline_entries(works)
