"""Reads: a link by its token, a draft's answers, and the crisis resources a client is shown."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet

from spacebetween.clients.models import Client
from spacebetween.delivery.models import CrisisResource, Draft, QuestionnaireLink
from spacebetween.measures.models import Assignment
from spacebetween.practice.models import Practice
from spacebetween.safety import crisis
from spacebetween.safety.crisis import Resource as Resource
from spacebetween.safety.crisis import built_in_for as built_in_for


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_for_token(token: str) -> QuestionnaireLink | None:
    """The link whatever its state, or None; the caller decides whether it still works."""
    if not token or len(token) > 128:
        return None
    return (
        QuestionnaireLink.objects.filter(token_hash=token_hash(token))
        .select_related("assignment__episode__client__practice")
        .first()
    )


def draft_answers(assignment: Assignment) -> dict[str, int | float | None]:
    draft = Draft.objects.filter(assignment=assignment).first()
    return dict(draft.answers) if draft is not None else {}


# The crisis resources a client is shown moved to the safety app (safety/crisis.py: built in by
# country, from a data file with a primary source for every entry); these names stay for old callers.
def crisis_resources_for(practice: Practice, client: Client | None = None) -> list[Resource]:
    """The practice's own entries for the country first, then the built-in ones (never empty)."""
    return crisis.resources_for(practice, client)


def practice_crisis_resources(practice: Practice) -> QuerySet[CrisisResource]:
    """The practice's own entries, every country, for its admin page."""
    return CrisisResource.objects.filter(practice=practice)
