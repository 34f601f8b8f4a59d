"""Reads for risk flags: the caseload's open flags, one flag's minimal facts and a client's risk
history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Case, Q, QuerySet, When

from spacebetween.accounts.models import CLINICAL_ROLES, Role, User
from spacebetween.clients.access import clients_for
from spacebetween.clients.models import Client, Episode
from spacebetween.core import instruments as catalogue
from spacebetween.measures.models import Response
from spacebetween.measures.selectors import assignment_instrument, instruments_for
from spacebetween.practice.models import Practice
from spacebetween.safety.access import told
from spacebetween.safety.escalation import DEFAULT_MINUTES
from spacebetween.safety.models import (
    EscalationPolicy,
    RiskFlag,
    RiskNotificationKind,
    RiskSeverityRule,
    Severity,
)
from spacebetween.safety.services import meeting_values
from spacebetween.safety.severity import DEFAULTS, grade


def open_risk_flags_for(user: User) -> QuerySet[RiskFlag]:
    """Unacknowledged risk flags this user must act on: those on episodes they treat, and those the
    escalation chain told them about (a supervisor, an admin). Urgent first, then oldest first."""
    return (
        RiskFlag.objects.filter(
            Q(episode__therapist_id=user.pk) | Q(pk__in=told(user)),
            acknowledged_at__isnull=True,
            episode__client__practice_id=user.practice_id,
        )
        .select_related("episode", "assignment")
        .order_by(Case(When(severity=Severity.URGENT, then=0), default=1), "raised_at", "id")
    )


@dataclass(frozen=True)
class FlagRow:
    flag: RiskFlag
    instrument_title: str


def _title(instrument_id: str) -> str:
    shipped = catalogue.registry(include_licensed=True).get(instrument_id)
    return shipped.title if shipped is not None else instrument_id


class FlagRows(list[FlagRow]):
    @property
    def unreachable(self) -> list[FlagRow]:
        """The flags whose whole chain has been told and nobody acted: said loudly on top."""
        return [row for row in self if row.flag.unreachable_at is not None]


def caseload_risk_flags(user: User) -> FlagRows:
    """Open flags this user must act on, urgent first, then oldest, with the client's name and who
    was told last: one query."""
    flags = open_risk_flags_for(user).select_related("episode__client", "escalated_to")
    return FlagRows(FlagRow(flag, _title(flag.assignment.instrument_id)) for flag in flags)


@dataclass(frozen=True)
class Told:
    """One step of the escalation chain as the flag page shows it."""

    step: int
    who: str  # a person's name, or the practice's on-call address
    kind: str
    at: dt.datetime
    delivered_at: dt.datetime | None


@dataclass(frozen=True)
class FlagDetail:
    """Minimal PHI (docs/safety.md): who, which question, the answer, when, and what
    has happened since, with what the reader needs to act: how to reach the client and their
    emergency contact. No score, no other answer."""

    flag: RiskFlag
    instrument_title: str
    item_text: str
    answer_text: str
    last_answer_text: str = ""  # the latest answer, only when it differs from the highest
    client: Client | None = None
    can_read_client: bool = False  # a link to the record only for who may read it (not an admin)
    told: tuple[Told, ...] = ()


def _plain(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _item(instrument: catalogue.Instrument | None, item_id: str) -> catalogue.Item | None:
    try:
        return instrument.item(item_id) if instrument is not None else None
    except KeyError:  # a definition that no longer has the item: the stored id stands for it
        return None


def _answer(item: catalogue.Item | None, value: float) -> str:
    option = item.option_for(value) if item is not None else None
    return f"{option.display} ({_plain(value)})" if option is not None else _plain(value)


def flag_detail(flag: RiskFlag, viewer: User | None = None) -> FlagDetail:
    """The caller fetched `flag` through `safety.access.get_flag_for`. With `viewer`: whether they may
    read the client's record (clients.access; a practice admin told by escalation may not) and who
    was told when. Three queries at most, whatever the length of the chain."""
    client = flag.episode.client
    instrument = assignment_instrument(flag.assignment, client.practice)
    title = instrument.title if instrument is not None else _title(flag.assignment.instrument_id)
    # Withdrawn since: the stored facts still stand, with the item's id for its text.
    item = _item(instrument, flag.item_id)
    last = flag.last_value
    told_rows: tuple[Told, ...] = ()
    can_read = False
    if viewer is not None:
        can_read = clients_for(viewer).filter(pk=client.pk).exists()
        told_rows = tuple(
            Told(
                step=n.step,
                who=n.recipient.full_name if n.recipient is not None else n.to_address,
                kind=RiskNotificationKind(n.kind).label,
                at=n.created_at,
                delivered_at=n.delivered_at,
            )
            for n in flag.notifications.select_related("recipient").order_by("step", "id")
        )
    return FlagDetail(
        flag,
        title,
        item.text if item is not None else flag.item_id,
        _answer(item, flag.answer_value),
        last_answer_text=_answer(item, last) if last is not None and last != flag.answer_value else "",
        client=client,
        can_read_client=can_read,
        told=told_rows,
    )


# ------------------------------------------------------------------------------ the risk history


@dataclass(frozen=True)
class HistoryEntry:
    """One flag as the client page's risk history shows it: what was answered and what was done."""

    flag: RiskFlag
    instrument_title: str
    item_text: str
    answer_text: str
    last_answer_text: str  # the latest answer, only when it differs from the highest


def _shipped_item(instrument_id: str, version: str, item_id: str) -> tuple[str, catalogue.Item | None]:
    """The title and item of a shipped definition, without a query: the history may list many flags.
    An imported or since-changed definition keeps the stored item id (its text is on the flag page)."""
    shipped = catalogue.registry(include_licensed=True).get(instrument_id)
    if shipped is None:
        return instrument_id, None
    return shipped.title, _item(shipped, item_id) if shipped.version == version else None


def risk_history_for(episodes: Sequence[Episode]) -> list[HistoryEntry]:
    """Every risk flag of these episodes, open or acknowledged, newest first, with who acknowledged
    it and what was done: one query whatever the number of flags. The caller fetched the episodes
    through `clients.access` (the client page: the treating therapist, a supervisor on the episodes
    shared with them; never a client), so the history shows no more than the record it sits in."""
    ids = [e.pk for e in episodes]
    if not ids:
        return []
    flags = (
        RiskFlag.objects.filter(episode_id__in=ids)
        .select_related("assignment", "acknowledged_by")
        .order_by("-raised_at", "-id")
    )
    entries = []
    for flag in flags:
        title, item = _shipped_item(
            flag.assignment.instrument_id, flag.assignment.instrument_version, flag.item_id
        )
        last = flag.last_value
        entries.append(
            HistoryEntry(
                flag=flag,
                instrument_title=title,
                item_text=item.text if item is not None else flag.item_id,
                answer_text=_answer(item, flag.answer_value),
                last_answer_text=_answer(item, last)
                if last is not None and last != flag.answer_value
                else "",
            )
        )
    return entries


@dataclass(frozen=True)
class RiskItemUnanswered:
    assignment_id: int
    instrument_title: str
    submitted_at: dt.datetime


def risk_item_unanswered(episodes: Sequence[Episode]) -> dict[int, RiskItemUnanswered]:
    """Responses of these episodes that left a risk item unanswered (`Response.risk` holds None for
    its rule), by assignment id, newest first: the therapist is told, since a skipped risk item is
    not a "no". One query; the caller fetched the episodes through `clients.access`."""
    ids = [e.pk for e in episodes]
    if not ids:
        return {}
    rows = (
        Response.objects.filter(assignment__episode_id__in=ids)
        .order_by("-submitted_at", "-id")
        .values_list("assignment_id", "instrument_id", "submitted_at", "risk")
    )
    return {
        pk: RiskItemUnanswered(pk, _title(instrument_id), submitted_at)
        for pk, instrument_id, submitted_at, risk in rows
        if any(fired is None for fired in (risk or {}).values())
    }


# ------------------------------------------------------------------------------ nobody left to tell


@dataclass(frozen=True)
class Unreachable:
    """Open flags of a practice whose whole chain has been told and nobody acted, for the admin's
    overview: how many and when raised, never whose (the admin sees no clinical content); the flags
    that were passed on to this admin are on the same page with the client's name."""

    raised: list[dt.datetime]

    @property
    def count(self) -> int:
        return len(self.raised)


def unreachable_flags(practice_id: int) -> Unreachable:
    raised = RiskFlag.objects.filter(
        acknowledged_at__isnull=True, unreachable_at__isnull=False, episode__client__practice_id=practice_id
    ).order_by("raised_at", "id")
    return Unreachable(list(raised.values_list("raised_at", flat=True)))


# ------------------------------------------------------------------------------ risk settings page


@dataclass(frozen=True)
class AnswerSetting:
    value: float
    display: str
    severity: str  # what it means now: the practice's own, else the default
    default: str

    @property
    def plain(self) -> str:
        return str(int(self.value)) if self.value.is_integer() else str(self.value)


@dataclass(frozen=True)
class RuleSetting:
    rule_id: str
    instrument_title: str
    item_text: str
    label: str
    answers: list[AnswerSetting]
    own: bool  # the practice saved its own; else the defaults apply


@dataclass(frozen=True)
class RiskSettings:
    rules: list[RuleSetting]
    urgent_minutes: int
    review_minutes: int
    on_call_email: str
    own_policy: bool
    admins: int  # active admins of the practice (the chain after the supervisor)
    without_supervisor: list[str]  # active clinicians whose flags skip straight to the admins

    @property
    def chain_short(self) -> bool:
        """No on-call address, and someone's flags go from them to the admins with no supervisor
        between: the chain may end before anyone acts."""
        return not self.on_call_email and bool(self.without_supervisor)


def risk_settings(practice: Practice) -> RiskSettings:
    """What the risk settings page shows: for every risk rule of the instruments this practice may
    use, what each answer that meets it means now; the escalation intervals; who the chain lacks."""
    own: dict[str, list[tuple[float, str]]] = {}
    for rule_id, start, severity in RiskSeverityRule.objects.filter(practice=practice).values_list(
        "rule_id", "min_value", "severity"
    ):
        own.setdefault(rule_id, []).append((start, severity))
    rules: list[RuleSetting] = []
    seen: set[str] = set()
    for instrument in instruments_for(practice).values():
        for rule in instrument.risk_rules:
            if rule.id in seen:  # an imported version of the same instrument: one setting per rule
                continue
            seen.add(rule.id)
            item = instrument.item(rule.item)
            answers = []
            for value in meeting_values(instrument, rule):
                option = item.option_for(value)
                default = grade(DEFAULTS.get(rule.id, ()), value)
                current = grade(sorted(own[rule.id]), value) if rule.id in own else default
                answers.append(AnswerSetting(value, option.display if option else "", current, default))
            own_rule = rule.id in own
            rules.append(RuleSetting(rule.id, instrument.title, item.text, rule.label, answers, own_rule))
    policy = EscalationPolicy.objects.filter(practice=practice).first()
    clinicians = User.objects.filter(
        practice=practice, role__in=CLINICAL_ROLES, is_active=True
    ).select_related("supervisor")
    without = [
        u.full_name
        for u in clinicians
        if u.supervisor is None
        or not u.supervisor.is_active
        or u.supervisor.practice_id != practice.pk
        or u.supervisor.role not in CLINICAL_ROLES
    ]
    return RiskSettings(
        rules=rules,
        urgent_minutes=policy.urgent_minutes if policy else DEFAULT_MINUTES[Severity.URGENT],
        review_minutes=policy.review_minutes if policy else DEFAULT_MINUTES[Severity.REVIEW],
        on_call_email=policy.on_call_email if policy else "",
        own_policy=policy is not None,
        admins=User.objects.filter(practice=practice, role=Role.ADMIN, is_active=True).count(),
        without_supervisor=without,
    )
