"""Writes: enabling the licensed pack and importing a practice's own instrument definitions; the
measurement loop (assignments, responses, risk flags); measurement plans and `plan_apply`."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import astuple, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, Q

from spacebetween import statements
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Outcome, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Attendance, Episode, Session
from spacebetween.core import instruments as catalogue
from spacebetween.core import schedule
from spacebetween.core.instruments import Instrument, InstrumentDefinitionError, RiskRule
from spacebetween.core.schedule import Key, PlanRow, Reason, SessionSlot
from spacebetween.core.scoring import ResponseScore, ScoringError, score_response
from spacebetween.insights.hooks import refresh_episode_later
from spacebetween.measures import selectors
from spacebetween.measures.models import (
    Assignment,
    AssignmentReminder,
    AssignmentStatus,
    ImportedInstrument,
    MeasurementPlan,
    MeasurementPlanItem,
    PackAcceptance,
    PlannedMeasure,
    Response,
    RiskFlag,
    RiskNotification,
    RiskNotificationKind,
    SubmittedVia,
)
from spacebetween.measures.selectors import (
    LICENSED_PACK,
    current_acceptance,
    licensed_pack,
    pack_terms_digest,
)
from spacebetween.notifications.services import outbox_enqueue
from spacebetween.practice.models import Practice

logger = logging.getLogger(__name__)

ADMIN_ONLY = "Only the practice admin can change which instruments the practice uses."
TERMS_CHANGED = (
    "The licence terms changed while you were reading them; read the terms below and accept again."
)
NOT_ACCEPTED = "Tick the box to confirm that the practice accepts these terms."
ALREADY_ENABLED = "The licensed pack is already enabled."
NOT_ENABLED = "The licensed pack is not enabled."
NOT_JSON = "The file is not a JSON instrument definition: {problem}"
SHIPPED_ID = (
    "{id!r} is the id of an instrument that ships with Space Between; give your definition its own id."
)
VERSION_EXISTS = "Version {version} of {id!r} has already been imported; give the new file a new version."
TOO_LARGE = "The file is larger than 1 MB; an instrument definition is much smaller."
MAX_DEFINITION_BYTES = 1_000_000


def _audit_settings(
    actor: User, action: Action, obj: PackAcceptance | ImportedInstrument, request: Any, detail: str = ""
) -> None:
    """A practice-settings change, audited as healthcare operations in the caller's transaction."""
    record(
        action=action,
        actor=actor,
        entity_type=type(obj).__name__,
        entity_id=obj.pk,
        purpose=Purpose.OPERATIONS,
        request=request,
        detail=detail,
    )


def _require_admin(actor: User, practice_id: int) -> None:
    if actor.role != Role.ADMIN or actor.practice_id != practice_id:
        raise ValidationError(ADMIN_ONLY)


def licensed_pack_accept(
    *, actor: User, terms_digest: str, accepted: bool, request: Any = None
) -> PackAcceptance:
    """Enable the licensed pack for the actor's practice. `terms_digest` is the digest of the terms
    the admin was shown; if the terms changed since, nothing is enabled."""
    _require_admin(actor, actor.practice_id)
    if not accepted:
        raise ValidationError({"accept": NOT_ACCEPTED})
    if terms_digest != pack_terms_digest(licensed_pack()):
        raise ValidationError(TERMS_CHANGED)
    if current_acceptance(actor.practice) is not None:
        raise ValidationError(ALREADY_ENABLED)
    with transaction.atomic(durable=True):
        acceptance = PackAcceptance.objects.create(
            practice_id=actor.practice_id,
            pack=LICENSED_PACK,
            terms_digest=terms_digest,
            accepted_by=actor,
            accepted_at=dt.datetime.now(dt.UTC),
        )
        _audit_settings(actor, Action.CREATE, acceptance, request)
    return acceptance


def licensed_pack_withdraw(*, actor: User, request: Any = None) -> None:
    _require_admin(actor, actor.practice_id)
    acceptance = current_acceptance(actor.practice)
    if acceptance is None:
        raise ValidationError(NOT_ENABLED)
    with transaction.atomic(durable=True):
        acceptance.withdrawn_at = dt.datetime.now(dt.UTC)
        acceptance.save(update_fields=["withdrawn_at"])
        _audit_settings(actor, Action.UPDATE, acceptance, request, detail="withdrawn")


def instrument_import(
    *, actor: User, filename: str, content: bytes, request: Any = None
) -> ImportedInstrument:
    """Validate a practice's own definition file exactly as the shipped ones are, then store it."""
    _require_admin(actor, actor.practice_id)
    if len(content) > MAX_DEFINITION_BYTES:
        raise ValidationError({"definition": TOO_LARGE})
    try:
        doc = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError({"definition": NOT_JSON.format(problem=exc)}) from exc
    try:
        instrument = catalogue.build_instrument(doc, filename)
    except InstrumentDefinitionError as exc:
        raise ValidationError({"definition": str(exc)}) from exc
    if instrument.id in catalogue.registry(include_licensed=True):
        raise ValidationError({"definition": SHIPPED_ID.format(id=instrument.id)})
    if ImportedInstrument.objects.filter(
        practice_id=actor.practice_id, instrument_id=instrument.id, version=instrument.version
    ).exists():
        raise ValidationError(
            {"definition": VERSION_EXISTS.format(id=instrument.id, version=instrument.version)}
        )
    with transaction.atomic(durable=True):
        imported = ImportedInstrument.objects.create(
            practice_id=actor.practice_id,
            instrument_id=instrument.id,
            version=instrument.version,
            title=instrument.title,
            definition=doc,
            imported_by=actor,
            imported_at=dt.datetime.now(dt.UTC),
        )
        _audit_settings(actor, Action.CREATE, imported, request)
    return imported


# ------------------------------------------------------------------------------ the measurement loop
#
# Assign a questionnaire, take the client's answers, score them with core.scoring and raise any risk
# flag, all in one durable transaction with its audit rows; acknowledge and escalate flags.
#
# Risk answers are never dropped (shared/research/security.md §4.3). When the answers cannot be scored
# (a value that is not an answer option, an unknown item, too many missing), the response is refused
# and nothing of it is stored, so the client can correct it; but any risk rule that the answers given
# meet is recorded first, in its own transaction: a RiskFlag without a response and the therapist's
# notification. The corrected submission then attaches that same flag (one flag per assignment and
# rule) instead of raising a second one. The refusal (`AnswersRefused`) carries the flags so that the
# page can still show the crisis resources.

ASSIGN_NOT_ALLOWED = "Only the episode's therapist can assign or withdraw a questionnaire."
EPISODE_ENDED = "This episode has ended; questionnaires can only be assigned in an open episode."
INSTRUMENT_NOT_AVAILABLE = "{id!r} is not an instrument this practice uses."
NAIVE_TIME = "Give the time with its time zone."
EXPIRY_NOT_AFTER_DUE = "The questionnaire must expire after it is due."
EXPIRY_PASSED = "The expiry time has already passed."
ALREADY_SUBMITTED = "This questionnaire has already been answered; the first answers were kept."
EXPIRED = "This questionnaire has expired; ask your therapist to send a new one."
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
ACTION_REQUIRED = "Say what was done about this risk answer."
ALREADY_ACKNOWLEDGED = "This risk flag has already been acknowledged."
ACKNOWLEDGE_NOT_ALLOWED = (
    "Only the treating therapist, their supervisor or a practice admin can acknowledge this risk flag."
)

# Minimal PHI (shared/research/security.md §4.3): no name, instrument, score or answer.
RISK_EMAIL_SUBJECT = "A client response needs review"
RISK_EMAIL_BODY = "A client response in Space Between needs your review. Sign in to see it."

# shared/research/security.md §1.8: a questionnaire link expires 7 days after issue.
DEFAULT_EXPIRY = dt.timedelta(days=7)
# The plan's reasons that belong after the episode's end (core.schedule.Reason values).
AFTER_END_REASONS = frozenset({Reason.END_OF_EPISODE, Reason.FOLLOW_UP})


class AnswersRefused(ValidationError):
    """The answers cannot be scored and nothing of the response was stored; `risk_flags` lists the
    flags the refused answers raised (or had already raised), which *were* stored."""

    def __init__(self, message: Any, *, risk_flags: list[RiskFlag]) -> None:
        super().__init__(message)
        self.risk_flags = risk_flags


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(when: dt.datetime, field: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationError({field: NAIVE_TIME})


def _can_write_episode(actor: User, episode: Episode) -> bool:
    return episodes_for(actor, write=True).filter(pk=episode.pk).exists()


def _denied(actor: User | None, entity_type: str, pk: object, practice_id: int, detail: str) -> None:
    record(
        action=Action.UPDATE,
        event_type="access-denied",
        actor=actor,
        entity_type=entity_type,
        entity_id=pk,
        outcome=Outcome.MINOR_FAILURE,
        practice_id=practice_id,
        detail=detail,
    )


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
) -> Assignment:
    """Ask the episode's client to answer `instrument_id` (in its current version) from `due_at`;
    the questionnaire expires 7 days later unless `expires_at` says otherwise.

    `planned` = (reason, occasion) when the measurement plan asks for it (`plan_apply`): the
    PlannedMeasure row is written in the same transaction, and its unique key refuses a second
    assignment for the same occasion (IntegrityError). End-of-episode and follow-up measures are
    the only ones assigned after the episode has ended."""
    now = now or _now()
    if not _can_write_episode(actor, episode):
        _denied(actor, "Episode", episode.pk, actor.practice_id, "assign-questionnaire")
        raise PermissionDenied(ASSIGN_NOT_ALLOWED)
    if episode.ended_on is not None and (planned is None or planned[0] not in AFTER_END_REASONS):
        raise ValidationError(EPISODE_ENDED)
    _aware(due_at, "due_at")
    if expires_at is None:
        expires_at = due_at + DEFAULT_EXPIRY
    _aware(expires_at, "expires_at")
    if expires_at <= due_at:
        raise ValidationError({"expires_at": EXPIRY_NOT_AFTER_DUE})
    if expires_at <= now:
        raise ValidationError({"expires_at": EXPIRY_PASSED})
    instrument = selectors.instruments_for(episode.client.practice).get(instrument_id)
    if instrument is None:
        raise ValidationError({"instrument_id": INSTRUMENT_NOT_AVAILABLE.format(id=instrument_id)})
    with transaction.atomic(durable=True):
        assignment = Assignment.objects.create(
            episode=episode,
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
            entity_type="Assignment",
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
    now = now or _now()
    if not _can_write_episode(actor, assignment.episode):
        _denied(actor, "Assignment", assignment.pk, actor.practice_id, "revoke-questionnaire")
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
            entity_type="Assignment",
            entity_id=locked.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="revoked",
        )
    return locked


def _refuse_if_closed(assignment: Assignment, now: dt.datetime) -> None:
    if assignment.status == AssignmentStatus.ANSWERED:
        raise ValidationError(ALREADY_SUBMITTED)
    if assignment.status == AssignmentStatus.REVOKED:
        raise ValidationError(REVOKED)
    if assignment.status == AssignmentStatus.EXPIRED or now >= assignment.expires_at:
        raise ValidationError(EXPIRED)


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
            allowed = _can_write_episode(actor, episode)
        else:
            allowed = is_client or _can_write_episode(actor, episode)
    if not allowed:
        if actor is not None:
            _denied(actor, "Assignment", assignment.pk, episode.client.practice_id, f"submit-{via}")
        raise PermissionDenied(SUBMIT_NOT_ALLOWED)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _risk_rules_met(
    instrument: Instrument, answers: Mapping[str, object], score: ResponseScore | None
) -> list[tuple[RiskRule, float]]:
    """The risk rules the raw answers meet, with the answer that met each.

    Read by core.scoring, on the raw answers, apart from whether the rest can be scored: unknown items
    and non-numbers are left out, so one bad answer elsewhere cannot hide a risk answer."""
    if score is None:
        known = {k: v for k, v in answers.items() if k in instrument.item_ids and _is_number(v)}
        try:
            score = score_response(instrument, known, incomplete="nan")  # type: ignore[arg-type]
            fired = {rule_id for rule_id, met in score.risk.items() if met}
        except ScoringError as exc:  # an answer outside its item's options; flags still computed
            fired = {rule.id for rule in instrument.risk_rules if rule.label in exc.risk_flags}
    else:
        fired = {rule_id for rule_id, met in score.risk.items() if met}
    return [
        (rule, float(answers[rule.item]))  # type: ignore[arg-type]
        for rule in instrument.risk_rules
        if rule.id in fired
    ]


def _refusal_message(instrument: Instrument, exc: ScoringError) -> ValidationError:
    item = exc.item or "answers"
    if exc.scale is not None:
        message = ANSWER_MISSING.format(item=item, scale=exc.scale)
    elif exc.item in instrument.item_ids and _is_number(exc.value):
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


def _audit_system(
    action: Action, entity_type: str, pk: object, practice_id: int, detail: str, actor: User | None = None
) -> None:
    record(
        action=action,
        actor=actor,
        entity_type=entity_type,
        entity_id=pk,
        practice_id=practice_id,
        purpose=Purpose.TREATMENT,
        detail=detail,
        actor_role="" if actor is not None else "system",
    )


def _notify(
    *,
    flag: RiskFlag,
    recipient: User,
    kind: str,
    now: dt.datetime,
    practice_id: int,
    audit_later: list[Callable[[], object]] | None = None,
) -> None:
    """The in-app notice and its e-mail, both committed with the flag (transactional outbox). Its audit
    row is written now, or appended to `audit_later` for the caller to write last."""
    notice = RiskNotification.objects.create(flag=flag, recipient=recipient, kind=kind, created_at=now)
    outbox_enqueue(
        practice_id=practice_id,
        to_address=recipient.email,
        subject=RISK_EMAIL_SUBJECT,
        body_text=RISK_EMAIL_BODY,
        kind=f"risk-{kind}",
    )
    audit = functools.partial(_audit_system, Action.CREATE, "RiskNotification", notice.pk, practice_id, kind)
    if audit_later is None:
        audit()
    else:
        audit_later.append(audit)


def _raise_flags(
    *,
    assignment: Assignment,
    response: Response | None,
    met: list[tuple[RiskRule, float]],
    now: dt.datetime,
    actor: User | None,
    audit_later: list[Callable[[], object]],
) -> list[RiskFlag]:
    """Create (or, after a refused submission, attach) one flag per rule met, each with the treating
    therapist's notification. Runs inside the caller's transaction, which writes the audit rows
    appended to `audit_later` last: every transaction takes the audit chain's head after the other
    rows it locks, so that two of them never wait on each other (a submission's API key count)."""
    episode = assignment.episode
    practice_id = episode.client.practice_id
    flags: list[RiskFlag] = []
    for rule, value in met:
        # Hand-written reads (spacebetween.statements): a risk answer's path is an answer's path too.
        flag = statements.get(RiskFlag, assignment=assignment.pk, rule_id=rule.id)
        if flag is None:
            flag = RiskFlag.objects.create(
                assignment=assignment,
                response=response,
                episode=episode,
                rule_id=rule.id,
                item_id=rule.item,
                answer_value=value,
                raised_at=now,
            )
            audit_later.append(
                functools.partial(
                    _audit_system, Action.CREATE, "RiskFlag", flag.pk, practice_id, "raised", actor
                )
            )
            if not Episode.therapist.is_cached(episode):
                therapist = statements.get(User, id=episode.therapist_id)
                assert therapist is not None  # the episode's foreign key, protected
                episode.therapist = therapist
            _notify(
                flag=flag,
                recipient=episode.therapist,
                kind=RiskNotificationKind.RAISED,
                now=now,
                practice_id=practice_id,
                audit_later=audit_later,
            )
        else:
            if response is not None and flag.response_id is None:
                flag.response = response
            flag.answer_value = max(flag.answer_value, value)
            flag.save(update_fields=["response", "answer_value"])
            audit_later.append(
                functools.partial(
                    _audit_system, Action.UPDATE, "RiskFlag", flag.pk, practice_id, "answered-again", actor
                )
            )
        flags.append(flag)
    return flags


def _record_refused_risk(
    *, assignment: Assignment, met: list[tuple[RiskRule, float]], now: dt.datetime, actor: User | None
) -> list[RiskFlag]:
    for attempt in range(2):  # a concurrent refused submission may create the same flag first
        try:
            with transaction.atomic(durable=True):
                audit_later: list[Callable[[], object]] = []
                flags = _raise_flags(
                    assignment=assignment,
                    response=None,
                    met=met,
                    now=now,
                    actor=actor,
                    audit_later=audit_later,
                )
                for audit in audit_later:
                    audit()
                return flags
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


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
    notification, in one transaction. Refused, changing nothing: an answered, revoked or expired
    questionnaire (`ALREADY_SUBMITTED`, `REVOKED`, `EXPIRED`). Refused as `AnswersRefused` (naming the
    item and value): answers that cannot be scored, after recording any risk answer among them.
    `audit_stored(response)` writes the stored response's audit row in place of this service's, inside
    its transaction after every other write except the risk flags' audit rows, so that it commits with
    the response or not at all: the API's row names the key and counts the call against the key's
    limit (that count before the audit chain's head, as everywhere), at the cost of no extra commit."""
    now = now or _now()
    _aware(now, "now")
    # Reuse the caller's copy when it was read with the episode and client the checks below need (the
    # API's is): one query fewer per submission. Its status is checked again by the conditional UPDATE
    # in the transaction either way. (The therapist is read only when a risk answer notifies them.)
    episode = assignment.episode if Assignment.episode.is_cached(assignment) else None
    if episode is None or not Episode.client.is_cached(episode):
        assignment = Assignment.objects.select_related("episode__client").get(pk=assignment.pk)
    _check_submitter(actor, assignment, via)
    _refuse_if_closed(assignment, now)
    instrument = selectors.assignment_instrument(assignment, assignment.episode.client.practice_id)
    if instrument is None:
        raise ValidationError(INSTRUMENT_WITHDRAWN)
    if not isinstance(answers, Mapping):
        raise ValidationError(ANSWERS_NOT_A_MAPPING)
    try:
        score = score_response(instrument, answers, respondent_id=f"assignment {assignment.pk}")
    except ScoringError as exc:
        met = _risk_rules_met(instrument, answers, None)
        flags = _record_refused_risk(assignment=assignment, met=met, now=now, actor=actor) if met else []
        raise AnswersRefused(_refusal_message(instrument, exc).message_dict, risk_flags=flags) from exc
    met = _risk_rules_met(instrument, answers, score)
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
    try:
        with transaction.atomic(durable=True):
            # Why it is closed is read only on refusal.
            claimed = _assignment_claim(assignment.pk, now)
            if not claimed:
                _refuse_if_closed(Assignment.objects.get(pk=assignment.pk), now)
                raise ValidationError(ALREADY_SUBMITTED)  # closed by a status _refuse_if_closed lacks
            response.pk = statements.insert(Response, stored)
            response._state.adding, response._state.db = False, connection.alias
            later: list[Callable[[], object]] = []
            _raise_flags(
                assignment=assignment, response=response, met=met, now=now, actor=actor, audit_later=later
            )
            refresh_episode_later(assignment.episode_id)
            # The audit rows last: they lock the chain's single head row until the commit.
            if audit_stored is not None:
                audit_stored(response)
            else:
                record(
                    action=Action.CREATE,
                    actor=actor,
                    entity_type="Response",
                    entity_id=response.pk,
                    practice_id=practice_id,
                    purpose=Purpose.TREATMENT,
                    request=request,
                    detail=f"via-{via}",
                    actor_role="" if actor is not None else "client",
                )
            for audit in later:
                audit()
    except IntegrityError as exc:
        if Response.objects.filter(assignment_id=assignment.pk).exists():
            raise ValidationError(ALREADY_SUBMITTED) from exc
        raise
    assignment.status, assignment.answered_at = AssignmentStatus.ANSWERED, now
    return response


def _may_acknowledge(actor: User, flag: RiskFlag) -> bool:
    therapist = flag.episode.therapist
    if not actor.is_active or actor.practice_id != flag.episode.client.practice_id:
        return False
    if actor.pk in (therapist.pk, flag.escalated_to_id):
        return True
    if actor.role in (Role.THERAPIST, Role.SUPERVISOR) and therapist.supervisor_id == actor.pk:
        return True
    return actor.role == Role.ADMIN


def risk_flag_acknowledge(
    *,
    actor: User,
    flag: RiskFlag,
    action_taken: str,
    now: dt.datetime | None = None,
    request: Any = None,
) -> RiskFlag:
    """Record who acknowledged a risk flag, when, and what was done. Once only."""
    now = now or _now()
    flag = RiskFlag.objects.select_related("episode__therapist", "episode__client").get(pk=flag.pk)
    if not _may_acknowledge(actor, flag):
        _denied(actor, "RiskFlag", flag.pk, actor.practice_id, "acknowledge")
        raise PermissionDenied(ACKNOWLEDGE_NOT_ALLOWED)
    action_taken = action_taken.strip()
    if not action_taken:
        raise ValidationError({"action_taken": ACTION_REQUIRED})
    with transaction.atomic(durable=True):
        updated = RiskFlag.objects.filter(pk=flag.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=actor, action_taken=action_taken
        )
        if not updated:
            raise ValidationError(ALREADY_ACKNOWLEDGED)
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type="RiskFlag",
            entity_id=flag.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail="acknowledged",
        )
    flag.refresh_from_db()
    return flag


def _backup_for(flag: RiskFlag) -> User | None:
    """Who a flag goes to when the treating therapist has not acknowledged it: their supervisor,
    else the practice's first active admin."""
    therapist = flag.episode.therapist
    practice_id = flag.episode.client.practice_id
    supervisor = therapist.supervisor
    if (
        supervisor is not None
        and supervisor.is_active
        and supervisor.practice_id == practice_id
        and supervisor.role in (Role.THERAPIST, Role.SUPERVISOR)
    ):
        return supervisor
    admins = User.objects.filter(practice_id=practice_id, role=Role.ADMIN, is_active=True)
    return admins.order_by("pk").first()


def risk_escalate_due(*, now: dt.datetime, after: dt.timedelta | None = None) -> list[RiskFlag]:
    """Escalate every flag still unacknowledged `after` (default: settings.RISK_ESCALATION_MINUTES)
    since it was raised to the therapist's backup, with a notification. Idempotent: a flag is
    escalated once, claimed by a conditional UPDATE so that concurrent workers cannot both send it.
    A flag whose practice has no backup stays due (and is logged) until one exists."""
    _aware(now, "now")
    if after is None:
        after = dt.timedelta(minutes=settings.RISK_ESCALATION_MINUTES)
    due = RiskFlag.objects.filter(
        acknowledged_at__isnull=True, escalated_at__isnull=True, raised_at__lte=now - after
    ).select_related("episode__therapist__supervisor", "episode__client")
    escalated: list[RiskFlag] = []
    for flag in due:
        backup = _backup_for(flag)
        if backup is None:
            logger.warning("risk flag %s is overdue and its practice has no supervisor or admin", flag.pk)
            continue
        with transaction.atomic(durable=True):
            claimed = RiskFlag.objects.filter(
                pk=flag.pk, acknowledged_at__isnull=True, escalated_at__isnull=True
            ).update(escalated_at=now, escalated_to=backup)
            if not claimed:
                continue
            practice_id = flag.episode.client.practice_id
            _audit_system(Action.UPDATE, "RiskFlag", flag.pk, practice_id, "escalated")
            _notify(
                flag=flag,
                recipient=backup,
                kind=RiskNotificationKind.ESCALATED,
                now=now,
                practice_id=practice_id,
            )
        flag.escalated_at, flag.escalated_to = now, backup
        escalated.append(flag)
    return escalated


# ------------------------------------------------------------------------------ measurement plans
#
# A practice's default plan (its admin's), each episode's own copy (its therapist's), and
# `plan_apply`, run every minute by `spacebetween worker`: it assigns what the plan makes due
# (core.schedule computes when), expires what was not answered in time, and queues one reminder
# e-mail per open questionnaire, outside the quiet hours of the practice's time zone.

PLAN_ADMIN_ONLY = "Only the practice admin can change the practice's default measurement plan."
PLAN_THERAPIST_ONLY = "Only the episode's therapist can change its measurement plan."
PLAN_INSTRUMENT_NOT_AVAILABLE = "{id!r} is not an instrument this practice uses."

# Minimal PHI (docs/notifications.md): no instrument name, therapist or practice detail.
REMINDER_SUBJECT = "A questionnaire is waiting for you"
REMINDER_BODY = (
    "Your therapist has asked you to answer a short questionnaire in Space Between. Sign in to answer it."
)
REMINDER_KIND = "reminder"

OPEN_STATUSES = (AssignmentStatus.DUE, AssignmentStatus.SENT, AssignmentStatus.OPENED)
# Ended episodes are still looked at until their last follow-up has expired.
FOLLOW_UP_LOOKBACK = dt.timedelta(days=366 + 31) + schedule.FOLLOW_UP_OPEN


def _plan_rows_checked(rows: list[PlanRow], practice: Practice) -> list[PlanRow]:
    available = selectors.instruments_for(practice)
    for row in rows:
        if row.instrument_id not in available:
            raise ValidationError(PLAN_INSTRUMENT_NOT_AVAILABLE.format(id=row.instrument_id))
    return sorted(set(rows))


def _plan_replace(plan: MeasurementPlan, rows: list[PlanRow]) -> None:
    plan.items.all().delete()
    MeasurementPlanItem.objects.bulk_create(
        MeasurementPlanItem(
            plan=plan, instrument_id=row.instrument_id, when=str(row.when), every_n=row.n, months=row.months
        )
        for row in rows
    )


def practice_plan_save(
    *, actor: User, rows: list[PlanRow], now: dt.datetime | None = None, request: Any = None
) -> MeasurementPlan:
    """Replace the practice's default plan, which episodes copy on first use."""
    now = now or _now()
    if actor.role != Role.ADMIN:
        raise PermissionDenied(PLAN_ADMIN_ONLY)
    rows = _plan_rows_checked(rows, actor.practice)
    with transaction.atomic(durable=True):
        plan = (
            MeasurementPlan.objects.select_for_update()
            .filter(practice_id=actor.practice_id, episode__isnull=True)
            .first()
        )
        if plan is None:
            plan = MeasurementPlan(practice_id=actor.practice_id)
        plan.updated_by, plan.updated_at = actor, now
        plan.save()
        _plan_replace(plan, rows)
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type="MeasurementPlan",
            entity_id=plan.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail="practice-default",
        )
    return plan


def episode_plan_save(
    *,
    actor: User,
    episode: Episode,
    rows: list[PlanRow],
    now: dt.datetime | None = None,
    request: Any = None,
) -> MeasurementPlan:
    """Replace one episode's plan. Questionnaires already assigned stay as they are."""
    now = now or _now()
    if not _can_write_episode(actor, episode):
        _denied(actor, "Episode", episode.pk, actor.practice_id, "change-measurement-plan")
        raise PermissionDenied(PLAN_THERAPIST_ONLY)
    rows = _plan_rows_checked(rows, episode.client.practice)
    with transaction.atomic(durable=True):
        plan = MeasurementPlan.objects.select_for_update().filter(episode=episode).first()
        if plan is None:
            plan = MeasurementPlan(practice_id=episode.client.practice_id, episode=episode)
        plan.updated_by, plan.updated_at = actor, now
        plan.save()
        _plan_replace(plan, rows)
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type="MeasurementPlan",
            entity_id=plan.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail=f"episode-{episode.pk}",
        )
    return plan


def _episode_plan_ensure(episode: Episode, default: list[PlanRow], now: dt.datetime) -> list[PlanRow]:
    """The episode's plan, copied from the practice default the first time it is needed."""
    try:
        return selectors.plan_rows(episode.measurement_plan)
    except MeasurementPlan.DoesNotExist:
        pass
    try:
        with transaction.atomic(durable=True):
            plan = MeasurementPlan.objects.create(
                practice_id=episode.client.practice_id, episode=episode, updated_at=now
            )
            _plan_replace(plan, default)
            _audit_system(
                Action.CREATE, "MeasurementPlan", plan.pk, episode.client.practice_id, "copied-default"
            )
    except IntegrityError:  # another worker copied it first
        return selectors.episode_plan_rows(episode)
    return default


@dataclass(frozen=True)
class PlanRun:
    """Counts only (they are logged)."""

    assigned: int = 0
    expired: int = 0
    reminded: int = 0
    skipped: int = 0  # occasions that could not be assigned, e.g. an instrument no longer in use


def plan_apply(*, now: dt.datetime, practice: Practice | None = None) -> PlanRun:
    """Bring every open (or recently ended) episode up to date with its plan; idempotent, and safe to
    run from several workers at once. On behalf of each episode's therapist, who is recorded as the
    assignment's creator; expiries and reminders are audited as the system's."""
    _aware(now, "now")
    expired = _expire_overdue(now=now, practice=practice)
    assigned, skipped = _assign_planned(now=now, practice=practice)
    reminded = _queue_reminders(now=now, practice=practice)
    run = PlanRun(assigned=assigned, expired=expired, reminded=reminded, skipped=skipped)
    if run != PlanRun():
        logger.info("plan: %d assigned, %d expired, %d reminders, %d skipped", *astuple(run))
    return run


def _in_practice(practice: Practice | None, prefix: str = "episode__") -> Q:
    return Q() if practice is None else Q(**{f"{prefix}client__practice_id": practice.pk})


def _expire_overdue(*, now: dt.datetime, practice: Practice | None) -> int:
    overdue = Assignment.objects.filter(_in_practice(practice), status__in=OPEN_STATUSES, expires_at__lte=now)
    count = 0
    for pk, practice_id in overdue.values_list("pk", "episode__client__practice_id"):
        with transaction.atomic(durable=True):
            # Conditional: an answer or another worker may have got there first.
            changed = Assignment.objects.filter(pk=pk, status__in=OPEN_STATUSES, expires_at__lte=now).update(
                status=AssignmentStatus.EXPIRED, expired_at=now
            )
            if changed:
                _audit_system(Action.UPDATE, "Assignment", pk, practice_id, "expired")
                count += 1
    return count


def _assign_planned(*, now: dt.datetime, practice: Practice | None) -> tuple[int, int]:
    episodes = (
        Episode.objects.filter(
            _in_practice(practice, prefix=""),
            Q(ended_on__isnull=True) | Q(ended_on__gte=(now - FOLLOW_UP_LOOKBACK).date()),
            therapist__role__in=(Role.THERAPIST, Role.SUPERVISOR),
        )
        .select_related("client__practice", "therapist", "measurement_plan")
        .prefetch_related(
            "measurement_plan__items",
            "planned_measures",
            Prefetch("sessions", queryset=Session.objects.exclude(attendance=Attendance.CANCELLED)),
        )
        .order_by("pk")
    )
    defaults: dict[int, list[PlanRow]] = {}
    assigned = skipped = 0
    for episode in episodes:
        practice_ = episode.client.practice
        if practice_.pk not in defaults:
            defaults[practice_.pk] = selectors.practice_plan_rows(practice_)
        rows = _episode_plan_ensure(episode, defaults[practice_.pk], now)
        dues = schedule.due_now(
            rows=rows,
            started_on=episode.started_on,
            ended_on=episode.ended_on,
            sessions=[SessionSlot(str(s.pk), s.starts_at) for s in episode.sessions.all()],
            existing={
                Key(p.instrument_id, Reason(p.reason), p.occasion) for p in episode.planned_measures.all()
            },
            now=now,
            time_zone=practice_.time_zone,
        )
        for due in dues:
            try:
                assignment_create(
                    actor=episode.therapist,
                    episode=episode,
                    instrument_id=due.instrument_id,
                    due_at=due.due_at,
                    expires_at=due.expires_at,
                    now=now,
                    planned=(str(due.reason), due.occasion),
                )
            except IntegrityError:  # another worker assigned this occasion first
                continue
            except (ValidationError, PermissionDenied):
                skipped += 1
                continue
            assigned += 1
    return assigned, skipped


def _queue_reminders(*, now: dt.datetime, practice: Practice | None) -> int:
    """One sign-in reminder per open questionnaire of a client with a portal login, once it is due,
    sent outside the quiet hours. Clients without a login get a one-time link instead
    (delivery.services.links_send_due)."""
    waiting = Assignment.objects.filter(
        _in_practice(practice),
        episode__client__portal_user__isnull=False,
        status__in=OPEN_STATUSES,
        due_at__lte=now,
        expires_at__gt=now,
        reminder__isnull=True,
    ).select_related("episode__client__practice", "episode__client__portal_user")
    count = 0
    for assignment in waiting:
        client = assignment.episode.client
        address = client.email or client.portal_user.email  # type: ignore[union-attr]
        send_at = schedule.reminder_at(now, client.practice.time_zone)
        if not address or send_at >= assignment.expires_at:
            continue
        try:
            with transaction.atomic(durable=True):
                reminder = AssignmentReminder.objects.create(
                    assignment=assignment, queued_at=now, send_at=send_at
                )
                outbox_enqueue(
                    practice_id=client.practice_id,
                    to_address=address,
                    subject=REMINDER_SUBJECT,
                    body_text=REMINDER_BODY,
                    kind=REMINDER_KIND,
                    not_before=send_at,
                )
                _audit_system(Action.CREATE, "AssignmentReminder", reminder.pk, client.practice_id, "queued")
        except IntegrityError:  # another worker queued it first
            continue
        except ValueError:  # an address the outbox refuses; left for the therapist to correct
            logger.warning("reminder for assignment %s not queued: unusable address", assignment.pk)
            continue
        count += 1
    return count
