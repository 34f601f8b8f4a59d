"""Reads: a client's consent now, its history, and whether they may be sent e-mail."""

from __future__ import annotations

from dataclasses import dataclass

from spacebetween.clients.models import Client
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
