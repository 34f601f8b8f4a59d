"""Request and response bodies of API v1: one In and one Out schema per operation, never shared
between directions. Nothing here names a client or carries clinical free text."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from spacebetween.measures.models import AssignmentStatus

StatusName = Literal["due", "sent", "opened", "answered", "expired", "revoked"]
assert set(StatusName.__args__) == set(AssignmentStatus.values)  # type: ignore[attr-defined]

# An answer is a finite number (an option's value) or null (skipped); JSON's NaN/Infinity are refused.
Answer = StrictInt | Annotated[float, Field(strict=True, allow_inf_nan=False)] | None


class ErrorItemOut(Schema):
    field: str = Field(description="The item id or request field at fault, or '' for the whole request.")
    message: str
    value: Any = Field(default=None, description="The value that was refused, where there was one.")


class ErrorOut(Schema):
    """Every error answer has this shape."""

    detail: str
    errors: list[ErrorItemOut]
    # Submissions only: whether the answers carried a risk answer, which was flagged for the treating
    # therapist even though they were not stored (a closed questionnaire, unscorable answers, the rate
    # limit). Absent on every other error.
    risk_flag_raised: bool | None = None


# --------------------------------------------------------------------- GET /assignments


class AssignmentListIn(Schema):
    status: StatusName = "due"
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class AssignmentListItemOut(Schema):
    id: int
    episode_id: int
    instrument_id: str
    instrument_version: str
    due_at: dt.datetime
    expires_at: dt.datetime
    status: StatusName


class AssignmentListOut(Schema):
    items: list[AssignmentListItemOut]
    limit: int
    offset: int


# --------------------------------------------------------------------- GET /instruments/{id}


class QuestionnaireOut(BaseModel):
    """The instrument's FHIR R4 Questionnaire resource, as built by core.fhir (more fields than listed).
    A plain pydantic model: ninja's Schema would drop the fields not listed."""

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["Questionnaire"]  # FHIR's own field name
    id: str
    url: str
    version: str
    status: str
    title: str
    item: list[dict[str, Any]]


# --------------------------------------------------------------------- POST /assignments/{id}/responses


class ResponseSubmitIn(Schema):
    answers: dict[Annotated[str, Field(max_length=64)], Answer] = Field(
        max_length=500, description="Each item id mapped to its answer value, or null when skipped."
    )


class ScaleScoreOut(Schema):
    score: float | None
    band: str | None
    band_index: int | None
    caseness: bool | None
    prorated: bool
    n_missing: int


class ResponseSubmitOut(Schema):
    response_id: int
    assignment_id: int
    instrument_id: str
    instrument_version: str
    submitted_at: dt.datetime
    scores: dict[str, ScaleScoreOut]
    any_risk: bool
    risk_flag_raised: bool  # a risk answer among these answers is flagged for the treating therapist
