"""Reads: a link by its token, a draft's answers, and the crisis resources a client is shown."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet

from spacebetween.delivery.models import CrisisResource, Draft, QuestionnaireLink
from spacebetween.measures.models import Assignment
from spacebetween.practice.models import Practice


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


@dataclass(frozen=True)
class Resource:
    name: str
    phone: str
    text: str
    url: str = ""

    @property
    def tel(self) -> str:
        """The number for a tel: link, when the phone field is one number."""
        digits = self.phone.replace(" ", "")
        return digits if digits.isdigit() else ""


# Built in, always shown: a practice adds its own entries but cannot remove these
# (shared/research/security.md §4.3: the crisis page can never be switched off). [knowledge]: UK numbers
# as published by the NHS ("Where to get urgent help for mental health") and Samaritans.
BUILT_IN: dict[str, tuple[Resource, ...]] = {
    "GB": (
        Resource(
            "Emergency services",
            "999",
            "If you or someone else is in danger right now, or you have seriously hurt yourself.",
        ),
        Resource(
            "Samaritans",
            "116 123",
            "Free, any time of day or night, to talk about anything that is troubling you.",
            "https://www.samaritans.org",
        ),
        Resource(
            "NHS 111, option 2",
            "111",
            "Urgent mental health help from the NHS. Call 111 and choose option 2.",
            "https://111.nhs.uk",
        ),
    ),
}
GENERIC: tuple[Resource, ...] = (
    Resource(
        "Emergency services",
        "112 or 911",
        "If you or someone else is in danger right now, call your local emergency number "
        "(112 in Europe, 911 in North America).",
    ),
    Resource(
        "Find a helpline",
        "",
        "Free, confidential helplines in your country, listed by Find A Helpline.",
        "https://findahelpline.com",
    ),
)


def crisis_resources_for(practice: Practice) -> list[Resource]:
    """The practice's own entries for its country first, then the built-in ones (never empty)."""
    own = [
        Resource(r.name, r.phone, r.text, r.url)
        for r in CrisisResource.objects.filter(practice=practice, country=practice.country)
    ]
    return own + list(built_in_for(practice.country))


def built_in_for(country: str) -> tuple[Resource, ...]:
    """The entries always shown for `country`, whatever the practice adds (the generic ones where
    none are built in)."""
    return BUILT_IN.get(country, GENERIC)


def practice_crisis_resources(practice: Practice) -> QuerySet[CrisisResource]:
    """The practice's own entries, every country, for its admin page."""
    return CrisisResource.objects.filter(practice=practice)
