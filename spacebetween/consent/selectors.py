"""Reads: a client's consent now, its history, and whether they may be sent e-mail or questionnaires."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from spacebetween.clients.models import Client, Episode
from spacebetween.consent.models import CURRENT, WORDINGS, ConsentRecord, Purpose


@dataclass(frozen=True)
class ConsentState:
    purpose: Purpose
    latest: ConsentRecord | None  # None: never recorded

    @property
    def label(self) -> str:
        return self.purpose.label

    @property
    def status(self) -> str:
        if self.latest is None:
            return "Not recorded"
        return "Given" if self.latest.given else "Withdrawn"

    @property
    def current_wording(self) -> str:
        return WORDINGS[self.purpose][CURRENT[self.purpose]]

    @property
    def current_version(self) -> str:
        return CURRENT[self.purpose]


def consent_history(client: Client | int) -> list[ConsentRecord]:
    """Every decision, oldest first."""
    client_id = client if isinstance(client, int) else client.pk
    return list(ConsentRecord.objects.filter(client_id=client_id).select_related("recorded_by"))


def consent_states(client: Client) -> list[ConsentState]:
    """The latest decision for each purpose (None where none was ever recorded)."""
    latest: dict[str, ConsentRecord] = {}
    for row in consent_history(client):
        latest[row.purpose] = row
    return [ConsentState(purpose=p, latest=latest.get(p)) for p in Purpose]


def _latest_given(purpose: str, client: Any) -> QuerySet[ConsentRecord, bool]:
    """The latest decision on `purpose` of `client` (an id, or an OuterRef to one), as a one-value
    queryset: True, False, or nothing where none was ever recorded."""
    return (
        ConsentRecord.objects.filter(client_id=client, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values_list("given", flat=True)[:1]
    )


def measurement_allowed(client: Client | int) -> bool:
    """False once the client has withdrawn consent to questionnaires and measurement. As for e-mail, a
    client with no decision recorded is not stopped (docs/data-rights.md)."""
    client_id = client if isinstance(client, int) else client.pk
    given = _latest_given(Purpose.MEASUREMENT, client_id).first()
    return given is None or bool(given)


def without_measurement_withdrawn(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """`episodes` less those whose client has withdrawn consent to measurement, in the same query
    (the measurement plans' run: no questionnaire is assigned to them)."""
    latest = Subquery(_latest_given(Purpose.MEASUREMENT, OuterRef("client_id")).values("given"))
    # Not `exclude(... = False)`: NOT (NULL = false) is NULL in SQL, which would drop the clients who
    # never recorded a decision.
    return episodes.annotate(measurement_consent=latest).filter(
        Q(measurement_consent__isnull=True) | Q(measurement_consent=True)
    )


def email_allowed(client: Client | int) -> bool:
    """False once the client has withdrawn consent to e-mail. A client with no decision recorded is
    not stopped: e-mail contact for their care predates this record (docs/data-rights.md)."""
    client_id = client if isinstance(client, int) else client.pk
    row = (
        ConsentRecord.objects.filter(client_id=client_id, purpose=Purpose.EMAIL)
        .order_by("-recorded_at", "-id")
        .values_list("given", flat=True)
        .first()
    )
    return row is None or bool(row)
