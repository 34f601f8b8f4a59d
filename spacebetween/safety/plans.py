"""The client's safety plan: what its sections ask, writing the next version, and reading it back.

The seven sections follow the structure of Stanley & Brown's Safety Planning Intervention (Stanley B,
Brown GK. Safety Planning Intervention: a brief intervention to mitigate suicide risk. Cogn Behav
Pract. 2012;19(2):256-264), in our own words. A plan is written by the treating therapist with the
client; each save is a new version and no version is ever changed, so the record shows what the
client had in hand at any time. The client sees the latest (portal, crisis page, print).

Selectors here take a client the caller has already fetched through `clients.access` (or the
client's own record): they do not decide who may read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest

from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Client
from spacebetween.safety.models import SafetyPlan

MAX_SECTION_LENGTH = 4000

NOT_ALLOWED = "Only a therapist treating the client in an open episode can write their safety plan."
ALL_EMPTY = "Write at least one section of the plan."
TOO_LONG = f"Keep this section to {MAX_SECTION_LENGTH} characters or fewer."
NOT_TEXT = "This section must be text."
UNKNOWN_SECTION = "{name!r} is not a section of the safety plan."


@dataclass(frozen=True)
class Section:
    name: str  # the SafetyPlan field
    heading: str
    prompt: str  # one line, in the client's voice, saying what belongs here


SECTIONS: tuple[Section, ...] = (
    Section(
        "warning_signs",
        "Warning signs",
        "Thoughts, feelings, pictures in my mind or situations that tell me a crisis may be coming.",
    ),
    Section(
        "coping_strategies",
        "Things I can do on my own",
        "What helps me get through a hard moment by myself: to calm down or to take my mind off things.",
    ),
    Section(
        "distractions",
        "People and places that take my mind off things",
        "Who I can be with, and where I can go, to feel less alone or think about something else.",
    ),
    Section(
        "people_to_ask",
        "People I can ask for help",
        "Family or friends I can tell that I am struggling, and how to reach them.",
    ),
    Section(
        "professionals",
        "Professionals and crisis lines",
        "My therapist, my doctor, crisis lines and emergency numbers, and how to reach them.",
    ),
    Section(
        "safer_environment",
        "Making where I am safer",
        "What I can do, or ask someone to do, to put things I could hurt myself with out of reach.",
    ),
    Section(
        "reasons_for_living",
        "What keeps me going",
        "The people, things and hopes that matter to me and are worth staying alive for.",
    ),
)
SECTION_NAMES = tuple(s.name for s in SECTIONS)


@dataclass(frozen=True)
class SectionText:
    section: Section
    text: str


@dataclass(frozen=True)
class PlanView:
    """A version with its sections in order, for the templates (they cannot look a field up by name)."""

    plan: SafetyPlan
    sections: list[SectionText]

    @property
    def filled(self) -> list[SectionText]:
        return [s for s in self.sections if s.text]


# ------------------------------------------------------------------------------------------- writes


def may_write(actor: User, client: Client) -> bool:
    """A therapist of an open episode of the client, as `clients.access` lets them write it. A
    supervisor reads a shared plan but never writes it; a primary therapist with no open episode
    opens one first, so the plan always belongs to a course of care someone is responsible for."""
    return episodes_for(actor, write=True).filter(client_id=client.pk, ended_on__isnull=True).exists()


def _clean(sections: Mapping[str, object]) -> dict[str, str]:
    unknown = [name for name in sections if name not in SECTION_NAMES]
    if unknown:
        raise ValidationError({NON_FIELD_ERRORS: UNKNOWN_SECTION.format(name=unknown[0])})
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for name in SECTION_NAMES:
        value = sections.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = NOT_TEXT
            continue
        # Browsers send textarea lines as CRLF: store one kind of line end, and count characters as
        # the person sees them.
        text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if len(text) > MAX_SECTION_LENGTH:
            errors[name] = TOO_LONG
        clean[name] = text
    if errors:
        raise ValidationError(errors)
    if not any(clean.values()):
        raise ValidationError({NON_FIELD_ERRORS: ALL_EMPTY})
    return clean


def plan_save(
    *,
    actor: User,
    client: Client,
    sections: Mapping[str, object],
    now: dt.datetime,
    request: HttpRequest | None = None,
) -> SafetyPlan:
    """Write the client's next safety plan version (1 for the first). Earlier versions stay as they
    were. Refused, writing nothing: anyone but a treating therapist (PermissionDenied, audited), and
    bad input (ValidationError naming the section, or above the form when every section is empty)."""
    if not may_write(actor, client):
        record_denied(
            actor=actor,
            entity_type=Entity.CLIENT,
            entity_id=client.pk,
            detail="safety-plan",
            action=Action.CREATE,
            request=request,
        )
        raise PermissionDenied(NOT_ALLOWED)
    clean = _clean(sections)
    with transaction.atomic():
        # Lock the client so that two saves at once take consecutive versions rather than one failing
        # on the unique (client, version) (SQLite already serialises writers).
        Client.objects.select_for_update().filter(pk=client.pk).first()
        latest = SafetyPlan.objects.filter(client_id=client.pk).aggregate(v=Max("version"))["v"] or 0
        plan = SafetyPlan.objects.create(
            client=client, version=latest + 1, created_at=now, created_by=actor, **clean
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.SAFETY_PLAN,
            entity_id=plan.pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return plan


# -------------------------------------------------------------------------------------------- reads


def current_plan(client: Client) -> SafetyPlan | None:
    """The latest version, or None when no plan has been written."""
    return (
        SafetyPlan.objects.filter(client_id=client.pk)
        .select_related("created_by")
        .order_by("-version")
        .first()
    )


def plan_versions(client: Client) -> list[SafetyPlan]:
    """Every version, newest first, with who wrote it."""
    return list(
        SafetyPlan.objects.filter(client_id=client.pk).select_related("created_by").order_by("-version")
    )


def plan_version(client: Client, version: int) -> SafetyPlan | None:
    return (
        SafetyPlan.objects.filter(client_id=client.pk, version=version).select_related("created_by").first()
    )


def plan_view(plan: SafetyPlan | None) -> PlanView | None:
    if plan is None:
        return None
    return PlanView(plan, [SectionText(s, getattr(plan, s.name)) for s in SECTIONS])


def sections_of(plan: SafetyPlan | None) -> dict[str, str]:
    """The sections' texts by field name: a form's initial data."""
    return {name: getattr(plan, name) for name in SECTION_NAMES} if plan is not None else {}


def plan_for_crisis_page(
    client: Client, *, actor: User | None, request: HttpRequest | None = None
) -> PlanView | None:
    """The client's latest plan for the crisis page, whoever opened it (the portal login, or a
    one-time link: then no actor). The read is audited as the client's own, like their portal."""
    plan = current_plan(client)
    if plan is not None:
        record(
            action=Action.READ,
            actor=actor,
            entity_type=Entity.SAFETY_PLAN,
            entity_id=plan.pk,
            purpose=Purpose.PATIENT_REQUEST,
            practice_id=client.practice_id,
            request=request,
            actor_role="" if actor is not None else "client",  # holder of the client's one-time link
        )
    return plan_view(plan)
