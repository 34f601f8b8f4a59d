"""What the therapist is asked after a session: their view of the relationship, and a
counter-transference check-in.

The relationship view uses a validated therapist-rated alliance instrument when the practice has
one (the WAI therapist forms and the SAI are licence class C, docs/instrument-definitions.md; no
therapist form ships, because no verifiable source of the WAI-SR-T wording was found). Until then
the therapist answers SESSION_RATING: four questions of our own, plainly labelled as not validated.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from spacebetween.core.instruments import Instrument
from spacebetween.measures.selectors import instruments_for, licensed_pack_enabled
from spacebetween.practice.models import Practice


@dataclass(frozen=True)
class RatingItem:
    id: str
    text: str


@dataclass(frozen=True)
class SessionRating:
    id: str
    version: str
    title: str
    minimum: int
    maximum: int
    items: tuple[RatingItem, ...]


# NOT A VALIDATED INSTRUMENT. A therapist's quick 0-10 view of the session along Bordin's (1979)
# alliance components (bond, agreement on goals, agreement on tasks) plus an overall rating, so that
# practices without a licensed therapist alliance form still keep a session-by-session trace of the
# relationship. It has no psychometrics, norms or cut-offs, and its wording is deliberately not the
# WAI's (class C, SPR copyright). It must never be reported, exported or compared as an alliance
# measure (no "alliance score", no gap against the client's WAI-SR): show it as what it is.
SESSION_RATING = SessionRating(
    id="session-rating",
    version="1.0.0",
    title="Session rating (not a validated instrument)",
    minimum=0,
    maximum=10,
    items=(
        RatingItem("bond", "How connected did we feel in this session?"),
        RatingItem("goals", "How much did we agree on what we are working towards?"),
        RatingItem("tasks", "How much did we agree on how to work on it in this session?"),
        RatingItem("overall", "Overall, how did the relationship feel in this session?"),
    ),
)
NOT_VALIDATED = (
    "This session rating is not a validated instrument: a quick note of your view of the session, "
    "not an alliance score."
)


class Feeling(models.TextChoices):
    """Counter-transference categories: the issue's list, with the factors of the Therapist Response
    Questionnaire (Betan, Heim, Zittel Conklin & Westen 2005, Am J Psychiatry 162:890-898: overwhelmed,
    helpless/inadequate, positive, special/overinvolved, sexualized, disengaged, parental/protective,
    criticized/mistreated) and the Feeling Word Checklist's "confident" (FWC-BV; Breivik et al. 2020,
    BMC Psychiatry 20:141). Factor names only, as prompts: no TRQ or FWC items, and no scores."""

    PROTECTIVE = "protective", "Protective"
    CLOSE = "close", "Close, warm"
    CONFIDENT = "confident", "Confident"
    OVERINVOLVED = "overinvolved", "Special, overinvolved"
    BORED = "bored", "Bored"
    DISTANT = "distant", "Distant, disengaged"
    IRRITATED = "irritated", "Irritated"
    CRITICISED = "criticised", "Criticised, mistreated"
    OVERWHELMED = "overwhelmed", "Overwhelmed"
    INADEQUATE = "inadequate", "Helpless, inadequate"
    SEXUALISED = "sexualised", "Sexual feelings"


class Intensity(models.IntegerChoices):
    SLIGHT = 1, "Slight"
    MILD = 2, "Mild"
    MODERATE = 3, "Moderate"
    STRONG = 4, "Strong"
    VERY_STRONG = 5, "Very strong"


MAX_NOTE_LENGTH = 4000


def therapist_alliance_instrument(practice: Practice) -> Instrument | None:
    """The practice's therapist-rated alliance instrument, if it has enabled the licensed pack and one
    is available to it (shipped or imported); else None and the session rating is used."""
    if not licensed_pack_enabled(practice):
        return None
    candidates = [
        i
        for i in instruments_for(practice).values()
        if i.respondent == "therapist" and i.construct == "alliance"
    ]
    return sorted(candidates, key=lambda i: i.id)[0] if candidates else None
