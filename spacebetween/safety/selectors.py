"""Reads for risk flags: the caseload's open flags and one flag's minimal facts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Q, QuerySet, When

from spacebetween.accounts.models import User
from spacebetween.core import instruments as catalogue
from spacebetween.measures.selectors import assignment_instrument
from spacebetween.safety.access import told
from spacebetween.safety.models import RiskFlag, Severity


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


def caseload_risk_flags(user: User) -> list[FlagRow]:
    """Open flags this user must act on, oldest first, with the client's name: one query."""
    flags = open_risk_flags_for(user).select_related("episode__client")
    return [FlagRow(flag, _title(flag.assignment.instrument_id)) for flag in flags]


@dataclass(frozen=True)
class FlagDetail:
    """Minimal PHI (shared/research/security.md §4): who, which question, the answer, when, and what
    has happened since. No score, no other answer."""

    flag: RiskFlag
    instrument_title: str
    item_text: str
    answer_text: str


def flag_detail(flag: RiskFlag) -> FlagDetail:
    """The caller fetched `flag` through `safety.access.get_flag_for`."""
    instrument = assignment_instrument(flag.assignment, flag.episode.client.practice)
    value = flag.answer_value
    plain = str(int(value)) if value.is_integer() else str(value)
    if instrument is None:  # withdrawn since: the stored facts still stand
        return FlagDetail(flag, _title(flag.assignment.instrument_id), flag.item_id, plain)
    item = instrument.item(flag.item_id)
    option = item.option_for(value)
    answer = f"{option.display} ({plain})" if option is not None else plain
    return FlagDetail(flag, instrument.title, item.text, answer)
