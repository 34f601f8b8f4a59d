"""Reads: a link by its token and a draft's answers. (The crisis resources a client is shown are
`safety.crisis.resources_for`.)"""

from __future__ import annotations

from spacebetween.crypto import token_hash
from spacebetween.delivery.models import Draft, QuestionnaireLink
from spacebetween.measures.models import Assignment


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
