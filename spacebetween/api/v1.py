"""API v1: what an integration or the mobile app needs to run the measurement loop. Takes only API
keys (`Authorization: Bearer <key>`), never session cookies; every call is audited against the key;
another practice's objects are 404. The OpenAPI schema is published at /api/v1/openapi.json; the
docs page is off because ninja's loads scripts from a CDN, which our CSP forbids."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestInvalid
from ninja.security import HttpBearer

from spacebetween import clock
from spacebetween.answering import services as answering
from spacebetween.api import selectors, services
from spacebetween.api.models import ApiKey
from spacebetween.api.schemas import (
    AssignmentListIn,
    AssignmentListOut,
    ErrorOut,
    QuestionnaireOut,
    ResponseSubmitIn,
    ResponseSubmitOut,
)
from spacebetween.api.services import RATE_LIMITED, RateLimited
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.core.fhir import questionnaire_resource
from spacebetween.measures.models import Response, SubmittedVia
from spacebetween.measures.selectors import instruments_for

UNAUTHORIZED = "A valid API key is required: send 'Authorization: Bearer <key>'."
NOT_FOUND = "Not found."
INVALID_REQUEST = "The request is not valid."
ANSWERS_REFUSED = "The answers cannot be scored; nothing was stored except any risk answer."
CANNOT_SUBMIT = "These answers cannot be submitted through the API."

# The services' typed refusals and the status each is answered with: the one table (the most
# specific class first; a refusal is answered with the first class it is an instance of).
STATUS_FOR: tuple[tuple[type[Exception], int], ...] = (
    (answering.AlreadyAnswered, 409),
    (answering.QuestionnaireGone, 410),
    (PermissionDenied, 403),
    (ValidationError, 422),  # answers that cannot be scored (answering.AnswersRefused), bad input
)


def status_for(exc: Exception) -> int:
    return next(status for kind, status in STATUS_FOR if isinstance(exc, kind))


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        *,
        risk_flag_raised: bool | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []
        self.risk_flag_raised = risk_flag_raised


class ApiKeyAuth(HttpBearer):
    """The key only, read without writing. Every operation admits its call when it records it
    (`services.api_call_record`: the rate limit, the key's last use and the audit row, in one
    transaction, which for a submission is the answers' own)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return services.api_key_authenticate(presented=token, request=request)


api = NinjaAPI(
    title="Space Between API",
    version="1",
    description="Measurement-based care: due questionnaires, their FHIR definitions, and answers.",
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    docs_url=None,
    docs_decorator=require_GET,
)

COMMON_ERRORS: dict[int, type[ErrorOut]] = {401: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def _key(request: HttpRequest) -> ApiKey:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    return key


def _error(
    request: HttpRequest,
    status: int,
    detail: str,
    errors: list[dict[str, Any]],
    risk_flag_raised: bool | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"detail": detail, "errors": errors}
    if risk_flag_raised is not None:
        body["risk_flag_raised"] = risk_flag_raised
    return api.create_response(request, body, status=status)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = _error(request, 401, UNAUTHORIZED, [])
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    flags = getattr(exc, "risk_flags", None)  # a submission's, screened before the limit refused it
    response = _error(request, 429, RATE_LIMITED, [], None if flags is None else bool(flags))
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(RequestInvalid)
def _request_invalid(request: HttpRequest, exc: RequestInvalid) -> HttpResponse:
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        value = error.get("input")
        errors.append(
            {
                "field": ".".join(loc[2:] if loc[:1] == ["body"] else loc[1:]) or ".".join(loc),
                "message": str(error.get("msg", "")),
                "value": value if isinstance(value, str | int | float | bool) else None,
            }
        )
    key = getattr(request, "auth", None)
    if isinstance(key, ApiKey):  # refused before the operation ran; still a call by this key
        match = request.resolver_match
        try:
            services.api_call_record(
                key=key,
                action=Action.READ if request.method == "GET" else Action.CREATE,
                entity_type=Entity.API_REQUEST,
                entity_id=match.url_name if match else "",
                request=request,
                outcome=Outcome.MINOR_FAILURE,
            )
        except RateLimited as limited:
            return _rate_limited(request, limited)
    return _error(request, 422, INVALID_REQUEST, errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, NOT_FOUND, [])


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc), [])


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _error(request, exc.status, exc.detail, exc.errors, exc.risk_flag_raised)


def _not_found_for(request: HttpRequest, key: ApiKey, entity_type: Entity, entity_id: object) -> ApiError:
    services.api_call_record(
        key=key,
        action=Action.READ,
        entity_type=entity_type,
        entity_id=entity_id,
        request=request,
        outcome=Outcome.MINOR_FAILURE,
        event_type="access-denied",
    )
    return ApiError(404, NOT_FOUND)


@api.get(
    "/assignments",
    response={200: AssignmentListOut, **COMMON_ERRORS},
    url_name="api_assignment_list",
    operation_id="listAssignments",
    summary="The practice's questionnaires in one status (default: due)",
)
def assignment_list(request: HttpRequest, filters: Query[AssignmentListIn]) -> dict[str, Any]:
    key = _key(request)
    now = clock.now()
    items = selectors.assignments_listed(
        key, status=filters.status, now=now, limit=filters.limit, offset=filters.offset
    )
    services.api_call_record(
        key=key, action=Action.READ, entity_type=Entity.ASSIGNMENT, entity_id="", request=request
    )
    return {"items": items, "limit": filters.limit, "offset": filters.offset}


@api.get(
    "/instruments/{instrument_id}",
    response={200: QuestionnaireOut, 404: ErrorOut, **COMMON_ERRORS},
    url_name="api_instrument_detail",
    operation_id="getInstrument",
    summary="An instrument the practice uses, as a FHIR R4 Questionnaire",
)
def instrument_detail(request: HttpRequest, instrument_id: str) -> dict[str, Any]:
    key = _key(request)
    instrument = instruments_for(key.practice).get(instrument_id)
    if instrument is None:
        raise _not_found_for(request, key, Entity.INSTRUMENT, instrument_id[:64])
    services.api_call_record(
        key=key,
        action=Action.READ,
        entity_type=Entity.INSTRUMENT,
        entity_id=instrument.id,
        request=request,
        purpose=Purpose.OPERATIONS,
    )
    return questionnaire_resource(instrument)


def _refusal(exc: ValidationError, answers: dict[str, Any]) -> ApiError:
    flagged = bool(exc.risk_flags) if isinstance(exc, answering.Refused) else None
    if isinstance(exc, answering.QuestionnaireClosed):
        return ApiError(status_for(exc), exc.messages[0], risk_flag_raised=flagged)
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": field, "message": message, "value": answers.get(field)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"field": "", "message": message, "value": None} for message in exc.messages]
    detail = ANSWERS_REFUSED if isinstance(exc, answering.AnswersRefused) else INVALID_REQUEST
    return ApiError(status_for(exc), detail, errors, risk_flag_raised=flagged)


@api.post(
    "/assignments/{assignment_id}/responses",
    response={
        201: ResponseSubmitOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        410: ErrorOut,
        **COMMON_ERRORS,
    },
    url_name="api_response_submit",
    operation_id="submitResponse",
    summary="Submit a client's answers; they are scored at once and risk answers are flagged",
)
def response_submit(request: HttpRequest, assignment_id: int, payload: ResponseSubmitIn) -> Status:
    key = _key(request)
    assignment = selectors.assignment_for_key(key, assignment_id)
    if assignment is None:
        raise _not_found_for(request, key, Entity.ASSIGNMENT, assignment_id)
    answers = dict(payload.answers)

    def call_record(response: Response | None = None) -> None:
        # A stored response's one audit row is this call's: it names the response and the key, and
        # commits with the answers. Any other outcome's row names the assignment, after.
        services.api_call_record(
            key=key,
            action=Action.CREATE,
            entity_type=Entity.ASSIGNMENT if response is None else Entity.RESPONSE,
            entity_id=assignment.pk if response is None else response.pk,
            request=request,
            outcome=Outcome.MINOR_FAILURE if response is None else Outcome.SUCCESS,
            detail="" if response is None else f"via-{SubmittedVia.API}",
        )

    try:
        # No user: the key (already scoped to this practice) is the credential, and this call's
        # audit row names it; the response is not credited to any person.
        response = answering.response_submit(
            assignment=assignment,
            answers=answers,
            via=SubmittedVia.API,
            actor=None,
            request=request,
            audit_stored=call_record,
        )
    except RateLimited:
        raise  # nothing was stored, nor counted; a risk answer was flagged first (its risk_flags)
    except (PermissionDenied, ValidationError) as exc:
        refusal = (
            ApiError(status_for(exc), CANNOT_SUBMIT)
            if isinstance(exc, PermissionDenied)
            else _refusal(exc, answers)
        )
        try:
            call_record()
        except RateLimited as limited:  # the refusal over the limit: still say whether it was flagged
            limited.risk_flags = getattr(exc, "risk_flags", None)  # type: ignore[attr-defined]
            raise
        raise refusal from exc
    return Status(
        201,
        {
            "response_id": response.pk,
            "assignment_id": assignment.pk,
            "instrument_id": response.instrument_id,
            "instrument_version": response.instrument_version,
            "submitted_at": response.submitted_at,
            "scores": response.scores,
            "any_risk": response.any_risk,
            "risk_flag_raised": response.any_risk,  # its flags committed with it
        },
    )
