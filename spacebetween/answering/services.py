"""Asking a client for answers and taking them: assignments (questionnaires sent to a client) and
responses, scored by core.scoring, with every risk answer read by `safety.risk` first."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from spacebetween import clock, statements
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Episode, Session
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument
from spacebetween.core.schedule import Reason
from spacebetween.core.scoring import ResponseScore, ScoringError, score_response
from spacebetween.measures import selectors
from spacebetween.measures.events import answers_stored
from spacebetween.measures.models import (
    Assignment,
    AssignmentStatus,
    PlannedMeasure,
    Response,
    SubmittedVia,
)
from spacebetween.safety import risk
from spacebetween.safety.models import FlagSource, RiskFlag

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ the measurement loop
#
# Assign a questionnaire and take the client's answers, scored by core.scoring, in one durable
# transaction with their audit rows.
#
# Risk answers are never dropped (docs/safety.md): `safety.risk` reads them before
# anything here can refuse the answers. A closed questionnaire (answered, withdrawn, expired) or
# answers that cannot be scored are refused and nothing of the response is stored, but any risk
# answer among them is first raised as a flag in its own transaction (`safety.risk.screen`); the
# refusal carries the flags (`Refused.risk_flags`) so that the page can still show crisis help. A
# stored response's flags commit with it; if that transaction fails for any reason (the API's rate
# limit, a lost race), its risk answers are screened on their own before the failure goes on.

ASSIGN_NOT_ALLOWED = "Only the episode's therapist can assign or withdraw a questionnaire."
EPISODE_ENDED = "This episode has ended; questionnaires can only be assigned in an open episode."
INSTRUMENT_NOT_AVAILABLE = "{id!r} is not an instrument this practice uses."
NAIVE_TIME = "Give the time with its time zone."
EXPIRY_NOT_AFTER_DUE = "The questionnaire must expire after it is due."
EXPIRY_PASSED = "The expiry time has already passed."
ALREADY_SUBMITTED = "This questionnaire has already been answered; the first answers were kept."
EXPIRED = "This questionnaire has expired; your therapist can send you a new one."
REVOKED = "This questionnaire was withdrawn by your therapist."
ALREADY_REVOKED = "This questionnaire has already been withdrawn."
INSTRUMENT_WITHDRAWN = (
    "This questionnaire is no longer available in this practice; ask your therapist to send a new one."
)
SUBMIT_NOT_ALLOWED = "You cannot submit answers to this questionnaire."
UNKNOWN_VIA = "{via!r} is not a way of submitting answers."
ANSWERS_NOT_A_MAPPING = "The answers must map each item to its answer."
NOT_AN_OPTION = "Item {item}: {value} is not one of its answer options ({allowed})."
NOT_AN_ANSWER = "Item {item}: {value!r} is not an answer to this questionnaire."
ANSWER_MISSING = "Item {item} has no answer; scale {scale} cannot be scored without it."
SESSION_NOT_IN_EPISODE = "Choose one of this episode's sessions."
# A questionnaire link expires 7 days after issue (docs/measurement-loop.md, One-time links).
DEFAULT_EXPIRY = dt.timedelta(days=7)
# Waiting for the client's answers.
OPEN_STATUSES = (AssignmentStatus.DUE, AssignmentStatus.SENT, AssignmentStatus.OPENED)
# The plan's reasons that belong after the episode's end (core.schedule.Reason values).
AFTER_END_REASONS = frozenset({Reason.END_OF_EPISODE, Reason.FOLLOW_UP})


class Refused(ValidationError):
    """The answers were not stored; `risk_flags` lists the flags their risk answers raised (or had
    already raised), which *were* stored."""

    def __init__(self, message: Any, *, risk_flags: list[RiskFlag]) -> None:
        super().__init__(message)
        self.risk_flags = risk_flags


class AnswersRefused(Refused):
    """The answers cannot be scored (an item and value named)."""


class QuestionnaireClosed(Refused):
    """The questionnaire can no longer be answered."""


class AlreadyAnswered(QuestionnaireClosed):
    """Answered before (`ALREADY_SUBMITTED`): the first answers were kept."""


class QuestionnaireGone(QuestionnaireClosed):
    """Withdrawn by the therapist, expired, or its instrument withdrawn from the practice (`REVOKED`,
    `EXPIRED`, `INSTRUMENT_WITHDRAWN`)."""


def _closed(reason: str) -> type[QuestionnaireClosed]:
    return AlreadyAnswered if reason == ALREADY_SUBMITTED else QuestionnaireGone


def aware(when: dt.datetime, field: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationError({field: NAIVE_TIME})


def can_write_episode(actor: User, episode: Episode) -> bool:
    return episodes_for(actor, write=True).filter(pk=episode.pk).exists()


def require_episode_writer(actor: User, episode: Episode, *, detail: str, refusal: str) -> None:
    """The episode's treating therapist, or the refusal (PermissionDenied), audited as access-denied."""
    if not can_write_episode(actor, episode):
        record_denied(
            actor=actor,
            entity_type=Entity.EPISODE,
            entity_id=episode.pk,
            practice_id=actor.practice_id,
            detail=detail,
            action=Action.UPDATE,
        )
        raise PermissionDenied(refusal)


def assignment_create(
    *,
    actor: User,
    episode: Episode,
    instrument_id: str,
    due_at: dt.datetime,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    request: Any = None,
    planned: tuple[str, str] | None = None,
    session: Session | None = None,
) -> Assignment:
    """Ask the episode's client to answer `instrument_id` (in its current version) from `due_at`;
    the questionnaire expires 7 days later unless `expires_at` says otherwise.

    `planned` = (reason, occasion) when the measurement plan asks for it (`plan_apply`): the
    PlannedMeasure row is written in the same transaction, and its unique key refuses a second
    assignment for the same occasion (IntegrityError). End-of-episode and follow-up measures are
    the only ones assigned after the episode has ended. `session`: the episode's session it is asked
    for, if any (its questionnaires are sent together, delivery.services.link_send)."""
    now = now or clock.now()
    require_episode_writer(actor, episode, detail="assign-questionnaire", refusal=ASSIGN_NOT_ALLOWED)
    if episode.ended_on is not None and (planned is None or planned[0] not in AFTER_END_REASONS):
        raise ValidationError(EPISODE_ENDED)
    aware(due_at, "due_at")
    if expires_at is None:
        expires_at = due_at + DEFAULT_EXPIRY
    aware(expires_at, "expires_at")
    if expires_at <= due_at:
        raise ValidationError({"expires_at": EXPIRY_NOT_AFTER_DUE})
    if expires_at <= now:
        raise ValidationError({"expires_at": EXPIRY_PASSED})
    if session is not None and session.episode_id != episode.pk:
        raise ValidationError({"session": SESSION_NOT_IN_EPISODE})
    instrument = selectors.instruments_for(episode.client.practice).get(instrument_id)
    if instrument is None:
        raise ValidationError({"instrument_id": INSTRUMENT_NOT_AVAILABLE.format(id=instrument_id)})
    with transaction.atomic(durable=True):
        assignment = Assignment.objects.create(
            episode=episode,
            session=session,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            due_at=due_at,
            expires_at=expires_at,
            status=AssignmentStatus.DUE,
            created_by=actor,
            created_at=now,
        )
        if planned is not None:
            PlannedMeasure.objects.create(
                episode=episode,
                instrument_id=instrument.id,
                reason=planned[0],
                occasion=planned[1],
                assignment=assignment,
                recorded_at=now,
            )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.ASSIGNMENT,
            entity_id=assignment.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="" if planned is None else f"planned-{planned[0]}",
        )
    return assignment


def assignment_revoke(
    *, actor: User, assignment: Assignment, now: dt.datetime | None = None, request: Any = None
) -> Assignment:
    """Withdraw an unanswered questionnaire; its link stops working."""
    now = now or clock.now()
    if not can_write_episode(actor, assignment.episode):
        record_denied(
            actor=actor,
            entity_type=Entity.ASSIGNMENT,
            entity_id=assignment.pk,
            practice_id=actor.practice_id,
            detail="revoke-questionnaire",
            action=Action.UPDATE,
        )
        raise PermissionDenied(ASSIGN_NOT_ALLOWED)
    with transaction.atomic(durable=True):
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.status == AssignmentStatus.ANSWERED:
            raise ValidationError(ALREADY_SUBMITTED)
        if locked.status == AssignmentStatus.REVOKED:
            raise ValidationError(ALREADY_REVOKED)
        locked.status = AssignmentStatus.REVOKED
        locked.revoked_at = now
        locked.save(update_fields=["status", "revoked_at"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.ASSIGNMENT,
            entity_id=locked.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="revoked",
        )
    return locked


def closed_reason(assignment: Assignment, now: dt.datetime) -> str | None:
    """Why the questionnaire can no longer be answered, or None while it can."""
    if assignment.status == AssignmentStatus.ANSWERED:
        return ALREADY_SUBMITTED
    if assignment.status == AssignmentStatus.REVOKED:
        return REVOKED
    if assignment.status == AssignmentStatus.EXPIRED or now >= assignment.expires_at:
        return EXPIRED
    return None


def _check_submitter(actor: User | None, assignment: Assignment, via: str) -> None:
    if via not in SubmittedVia.values:
        raise ValidationError({"via": UNKNOWN_VIA.format(via=via)})
    episode = assignment.episode
    if via == SubmittedVia.LINK:
        # The one-time link is the credential; the link page checked it before calling.
        allowed = actor is None or actor.pk == episode.client.portal_user_id
    elif via == SubmittedVia.API and actor is None:
        # An API key is the credential; the API checked that it belongs to the assignment's practice
        # (spacebetween.api.selectors.assignment_for_key) and writes its own audit row naming the key.
        allowed = True
    elif actor is None or actor.practice_id != episode.client.practice_id:
        allowed = False
    else:
        is_client = actor.role == Role.CLIENT and actor.pk == episode.client.portal_user_id
        if via == SubmittedVia.PORTAL:
            allowed = is_client
        elif via == SubmittedVia.STAFF:
            allowed = can_write_episode(actor, episode)
        else:
            allowed = is_client or can_write_episode(actor, episode)
    if not allowed:
        if actor is not None:
            record_denied(
                actor=actor,
                entity_type=Entity.ASSIGNMENT,
                entity_id=assignment.pk,
                practice_id=episode.client.practice_id,
                detail=f"submit-{via}",
                action=Action.UPDATE,
            )
        raise PermissionDenied(SUBMIT_NOT_ALLOWED)


def _refusal_message(instrument: Instrument, exc: ScoringError) -> ValidationError:
    item = exc.item or "answers"
    if exc.scale is not None:
        message = ANSWER_MISSING.format(item=item, scale=exc.scale)
    elif exc.item in instrument.item_ids and risk.is_number(exc.value):
        values = instrument.item(exc.item).values
        message = NOT_AN_OPTION.format(
            item=item, value=_plain(exc.value), allowed=", ".join(str(_plain(v)) for v in values)
        )
    else:
        message = NOT_AN_ANSWER.format(item=item, value=exc.value)
    return ValidationError({item: message})


def _plain(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def _scores_json(score: ResponseScore) -> dict[str, dict[str, Any]]:
    return {
        scale_id: {
            "score": s.score,
            "band": s.band,
            "band_index": s.band_index,
            "caseness": s.caseness,
            "prorated": s.prorated,
            "n_missing": s.n_missing,
        }
        for scale_id, s in score.scales.items()
    }


@functools.cache
def _claim_sql() -> str:
    a = statements.columns(Assignment, "id", "status", "answered_at", "expires_at")
    open_statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    return (
        f"UPDATE {a['table']} SET {a['status']} = %s, {a['answered_at']} = %s "  # noqa: S608 - our names
        f"WHERE {a['id']} = %s AND {a['expires_at']} > %s AND {a['status']} IN ({open_statuses})"
    )


def _assignment_claim(assignment_id: int, now: dt.datetime) -> bool:
    """Answered now, if it is still open: one conditional UPDATE, which takes the row lock, so that of
    two concurrent submissions only one finds it open. (A hand-written statement: on every answer's
    path, spacebetween.statements.)"""
    when = statements.value(Assignment, "answered_at", now)
    changed, _ = statements.execute(
        _claim_sql(), (AssignmentStatus.ANSWERED.value, when, assignment_id, when, *OPEN_STATUSES)
    )
    return changed == 1


def _instrument_for_screening(assignment: Assignment) -> Instrument | None:
    """The definition the answers belong to, for the risk rules: the practice's, else the shipped one
    of the same id (a withdrawn instrument's risk answer is still read)."""
    practice_id = assignment.episode.client.practice_id
    instrument = selectors.assignment_instrument(assignment, practice_id)
    if instrument is None:
        instrument = catalogue.registry(include_licensed=True).get(assignment.instrument_id)
    return instrument


def response_submit(
    *,
    assignment: Assignment,
    answers: Mapping[str, int | float | None],
    via: str,
    actor: User | None = None,
    now: dt.datetime | None = None,
    request: Any = None,
    audit_stored: Callable[[Response], object] | None = None,
) -> Response:
    """Store a client's answers, scored by core.scoring, with any risk flag and the therapist's
    notification, in one transaction.

    Refused, storing nothing of the response but any risk answer among the answers
    (`safety.risk.screen`, first): a closed questionnaire (`QuestionnaireClosed`: answered, withdrawn,
    expired, or its instrument withdrawn), answers that cannot be scored (`AnswersRefused`, naming the
    item and value). Whatever else makes the transaction fail (`audit_stored` over the API's rate
    limit), the risk answers are screened before the exception goes on.

    `audit_stored(response)` writes the stored response's audit row in place of this service's, inside
    its transaction after every other write except the risk flags' audit rows, so that it commits with
    the response or not at all: the API's row names the key and counts the call against the key's
    limit (that count before the audit chain's head, as everywhere), at the cost of no extra commit."""
    now = now or clock.now()
    aware(now, "now")
    # The checks need the episode and client: reuse the caller's copy when it was read with them (the
    # API's and the answering pages' are). The therapist is read only when a risk answer tells them.
    episode = assignment.episode if Assignment.episode.is_cached(assignment) else None
    if episode is None or not Episode.client.is_cached(episode):
        assignment = Assignment.objects.select_related("episode__client", "episode__therapist").get(
            pk=assignment.pk
        )
    _check_submitter(actor, assignment, via)
    if not isinstance(answers, Mapping):
        raise ValidationError(ANSWERS_NOT_A_MAPPING)

    def refuse(kind: type[Refused], message: Any, source: str) -> Refused:
        definition = _instrument_for_screening(assignment)
        flags = []
        if definition is not None:
            flags = risk.screen(
                assignment=assignment,
                instrument=definition,
                answers=answers,
                source=source,
                now=now,
                actor=actor,
            )
        return kind(message, risk_flags=flags)

    closed = closed_reason(assignment, now)
    if closed is not None:
        raise refuse(_closed(closed), closed, FlagSource.CLOSED)
    instrument = selectors.assignment_instrument(assignment, assignment.episode.client.practice_id)
    if instrument is None:
        raise refuse(QuestionnaireGone, INSTRUMENT_WITHDRAWN, FlagSource.CLOSED)
    try:
        score = score_response(instrument, answers, respondent_id=f"assignment {assignment.pk}")
    except ScoringError as exc:
        raise refuse(
            AnswersRefused, _refusal_message(instrument, exc).message_dict, FlagSource.REFUSED
        ) from exc
    met = risk.rules_met(instrument, answers, score)
    practice_id = assignment.episode.client.practice_id
    # Everything that can be is made ready before the transaction: on SQLite, writers take turns.
    stored: dict[str, Any] = {
        "assignment": assignment.pk,
        "instrument_id": instrument.id,
        "instrument_version": instrument.version,
        "instrument_language": instrument.language,
        "answers": {k: None if v is None else _plain(v) for k, v in answers.items()},
        "submitted_at": now,
        "submitted_via": via,
        "submitted_by": actor.pk if actor is not None else None,
        "scores": _scores_json(score),
        "risk": dict(score.risk),
        "any_risk": bool(met),
    }
    response = Response(
        assignment=assignment,
        submitted_by=actor,
        **{k: v for k, v in stored.items() if k not in ("assignment", "submitted_by")},
    )

    def store() -> None:
        with transaction.atomic(durable=True):
            if not _assignment_claim(assignment.pk, now):
                raise _Lost
            response.pk = statements.insert(Response, stored)
            response._state.adding, response._state.db = False, connection.alias
            later: list[Callable[[], object]] = []
            risk.raise_flags(
                assignment=assignment,
                answers=answers,
                response=response,
                met=met,
                source=FlagSource.SUBMITTED,
                now=now,
                actor=actor,
                audit_later=later,
            )
            answers_stored.send(__name__, episode_id=assignment.episode_id)  # insights: stale
            # The audit rows last: they lock the chain's single head row until the commit.
            if audit_stored is not None:
                audit_stored(response)
            else:
                record(
                    action=Action.CREATE,
                    actor=actor,
                    entity_type=Entity.RESPONSE,
                    entity_id=response.pk,
                    practice_id=practice_id,
                    purpose=Purpose.TREATMENT,
                    request=request,
                    detail=f"via-{via}",
                    actor_role="" if actor is not None else "client",
                )
            for audit in later:
                audit()

    try:
        try:
            store()
        except IntegrityError:
            # A flag of this assignment raised meanwhile by a saved draft, or a second submission.
            if closed_reason(Assignment.objects.get(pk=assignment.pk), now) is not None:
                raise
            store()
    except (_Lost, IntegrityError) as exc:
        # Closed meanwhile (a second tab, the worker's expiry): say why, after the risk answers.
        assignment = Assignment.objects.select_related("episode__client", "episode__therapist").get(
            pk=assignment.pk
        )
        reason = closed_reason(assignment, now) or ALREADY_SUBMITTED
        raise refuse(_closed(reason), reason, FlagSource.CLOSED) from exc
    except BaseException as exc:
        # Nothing was stored (the API's rate limit, a database error): the risk answers still are. The
        # exception carries the flags, for an answer that says so (the API's 429).
        if met:
            exc.risk_flags = risk.screen(  # type: ignore[attr-defined]
                assignment=assignment,
                instrument=instrument,
                answers=answers,
                source=FlagSource.REFUSED,
                now=now,
                actor=actor,
            )
        raise
    assignment.status, assignment.answered_at = AssignmentStatus.ANSWERED, now
    return response


class _Lost(Exception):
    """The conditional claim found the questionnaire no longer open."""
