"""Reads: the instruments a practice may use, and the licensed pack's terms."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber

from spacebetween import clock, statements
from spacebetween.accounts.models import Role, User
from spacebetween.clients.models import Episode
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument
from spacebetween.core.schedule import FOLLOW_UP_MONTHS, PlanRow, When
from spacebetween.measures.models import (
    Assignment,
    AssignmentStatus,
    ImportedInstrument,
    InstrumentAcceptance,
    MeasurementPlan,
)
from spacebetween.practice.models import Practice

LICENSED_PACK = "licensed"


def licensed_pack() -> list[Instrument]:
    """The licensed (class C) instruments shipped as an opt-in pack, in id order."""
    everything = catalogue.registry(include_licensed=True)
    return sorted((i for i in everything.values() if i.pack == LICENSED_PACK), key=lambda i: i.id)


def pack_terms_digest(instruments: list[Instrument]) -> str:
    """SHA-256 of the whole pack's terms (each instrument's id, version, licence and terms): what
    `services.licensed_pack_accept` takes, the whole-pack acceptance from before each instrument was
    accepted by itself."""
    shown = [
        [i.id, i.version, i.licence.licence_class, i.licence.name, i.licence.statement, i.licence.terms or ""]
        for i in instruments
    ]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode("utf-8")).hexdigest()


def instrument_terms_digest(instrument: Instrument) -> str:
    """SHA-256 of exactly what the admin is shown for one instrument: id, version, licence, terms and
    whether the terms ask for the authors' permission."""
    lic = instrument.licence
    shown = [
        instrument.id,
        instrument.version,
        lic.licence_class,
        lic.name,
        lic.statement,
        lic.terms or "",
        lic.needs_permission,
    ]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode("utf-8")).hexdigest()


def accepted_instruments(practice: Practice | int) -> dict[str, InstrumentAcceptance]:
    """The acceptances in force, by instrument id: not withdrawn, and for that instrument's terms as
    they are now (changed terms switch the instrument off until accepted again)."""
    digests = {i.id: instrument_terms_digest(i) for i in licensed_pack()}
    in_force: dict[str, InstrumentAcceptance] = {}
    rows = InstrumentAcceptance.objects.filter(
        practice=practice, instrument_id__in=digests, withdrawn_at__isnull=True
    ).select_related("accepted_by")
    for row in rows.order_by("accepted_at", "id"):
        if row.terms_digest == digests[row.instrument_id]:
            in_force[row.instrument_id] = row
    return in_force


def instrument_accepted(practice: Practice | int, instrument_id: str) -> bool:
    """Whether the practice has accepted the current terms of this one licensed instrument."""
    return instrument_id in accepted_instruments(practice)


def licensed_pack_enabled(practice: Practice | int) -> bool:
    """Whether the practice has switched on any licensed instrument."""
    return bool(accepted_instruments(practice))


@dataclass(frozen=True)
class LicensedInstrument:
    """One licensed instrument as the admin sees it: its terms, their digest, and the acceptance in
    force if there is one."""

    instrument: Instrument
    terms_digest: str
    acceptance: InstrumentAcceptance | None


@dataclass(frozen=True)
class PracticeInstruments:
    core: list[Instrument]
    licensed: list[LicensedInstrument]
    imported: list[ImportedInstrument]


def practice_instruments(practice: Practice) -> PracticeInstruments:
    core = sorted(catalogue.registry().values(), key=lambda i: i.id)
    accepted = accepted_instruments(practice)
    return PracticeInstruments(
        core=core,
        licensed=[
            LicensedInstrument(i, instrument_terms_digest(i), accepted.get(i.id)) for i in licensed_pack()
        ],
        imported=list(ImportedInstrument.objects.filter(practice=practice)),
    )


def instruments_for(practice: Practice) -> Mapping[str, Instrument]:
    """Every instrument this practice may use, by id: core, licensed if accepted, then its imports
    (the newest imported version of an id wins)."""
    accepted = accepted_instruments(practice)
    available: dict[str, Instrument] = {
        iid: instrument
        for iid, instrument in catalogue.registry(include_licensed=bool(accepted)).items()
        if instrument.pack != LICENSED_PACK or iid in accepted
    }
    for imported in ImportedInstrument.objects.filter(practice=practice).order_by("imported_at"):
        available[imported.instrument_id] = _imported_definition(imported)
    return available


def _imported_definition(imported: ImportedInstrument) -> Instrument:
    return catalogue.build_instrument(
        imported.definition, f"imported:{imported.instrument_id}@{imported.version}"
    )


def assignment_instrument(assignment: Assignment, practice: Practice | int) -> Instrument | None:
    """The exact definition an assignment was made with, if the practice may still use it: the
    current one (as `instruments_for` has it) when its version matches, else the practice's import of
    that version. Reads only what this one instrument needs, on every answer's path: the practice's
    imports of its id (one hand-written query: spacebetween.statements), and that instrument's
    acceptance only for a licensed instrument."""
    instrument_id = assignment.instrument_id
    practice_id = practice if isinstance(practice, int) else practice.pk
    imports = statements.select(
        ImportedInstrument, order_by=("imported_at", "id"), practice=practice_id, instrument_id=instrument_id
    )
    shipped = catalogue.registry(include_licensed=True).get(instrument_id)
    if imports:
        current: Instrument | None = _imported_definition(imports[-1])  # the newest import wins
    elif shipped is not None and (
        instrument_id in catalogue.registry() or instrument_accepted(practice, instrument_id)
    ):
        current = shipped
    else:
        current = None
    if current is not None and current.version == assignment.instrument_version:
        return current
    if current is None or shipped is not None:
        return None  # withdrawn, or a shipped definition whose older version no longer ships
    older = [i for i in imports if i.version == assignment.instrument_version]
    return _imported_definition(older[0]) if older else None


def assignments_for_episode(episode: Episode) -> QuerySet[Assignment]:
    """An episode's questionnaires, earliest due first, each with its response if there is one.
    The caller has fetched the episode through `clients.access` (the user's rights)."""
    return Assignment.objects.filter(episode=episode).select_related("response").order_by("due_at", "id")


# ------------------------------------------------------------------------------ measurement plans

# The plan a practice starts with until its admin saves its own: depression and anxiety at intake,
# before every session and at the end, and follow-ups 3, 6 and 12 months later, because durable
# change is the aim (PRODUCT.md, "change should last"). PHQ-9 and GAD-7 are free to use and are the
# NHS Talking Therapies session-by-session pair.
# The alliance is added where the practice has switched the WAI-SR on (its terms, Instruments page):
# after every session, when the relationship just had is rated (core.schedule, "after a session";
# Hatcher & Gillaspy 2006; Munder et al. 2010).
DEFAULT_PLAN_INSTRUMENTS = ("phq9", "gad7")
DEFAULT_ALLIANCE_INSTRUMENT = "wai-sr"
DEFAULT_PLAN: tuple[PlanRow, ...] = tuple(
    row
    for iid in DEFAULT_PLAN_INSTRUMENTS
    for row in (
        PlanRow(iid, When.INTAKE),
        PlanRow(iid, When.EVERY_SESSION),
        PlanRow(iid, When.END_OF_EPISODE),
        *(PlanRow(iid, When.FOLLOW_UP, months=m) for m in FOLLOW_UP_MONTHS),
    )
)


def plan_rows(plan: MeasurementPlan) -> list[PlanRow]:
    """A stored plan's rows (uses `items` prefetched by the caller when there)."""
    return sorted(
        PlanRow(item.instrument_id, When(item.when), n=item.every_n, months=item.months)
        for item in plan.items.all()
    )


def practice_plan(practice: Practice) -> MeasurementPlan | None:
    return (
        MeasurementPlan.objects.filter(practice=practice, episode__isnull=True)
        .prefetch_related("items")
        .first()
    )


def practice_plan_rows(
    practice: Practice, available: Mapping[str, Instrument] | None = None
) -> list[PlanRow]:
    """The practice's default plan, or the built-in one until its admin saves one (with the WAI-SR
    after every session when the practice has accepted its terms). `available`: the practice's
    instruments (`instruments_for`), when the caller has them."""
    plan = practice_plan(practice)
    if plan is not None:
        return plan_rows(plan)
    rows = list(DEFAULT_PLAN)
    alliance = (
        instrument_accepted(practice, DEFAULT_ALLIANCE_INSTRUMENT)
        if available is None
        else DEFAULT_ALLIANCE_INSTRUMENT in available
    )
    if alliance:
        rows.append(PlanRow(DEFAULT_ALLIANCE_INSTRUMENT, When.AFTER_EVERY_SESSION))
    return sorted(rows)


def episode_plan(episode: Episode) -> MeasurementPlan | None:
    return MeasurementPlan.objects.filter(episode=episode).prefetch_related("items").first()


def episode_plan_rows(episode: Episode) -> list[PlanRow]:
    """The episode's own plan, else the practice default it will be copied from on first use.
    The caller has fetched the episode through `clients.access`."""
    plan = episode_plan(episode)
    return plan_rows(plan) if plan is not None else practice_plan_rows(episode.client.practice)


@dataclass(frozen=True)
class PlanLine:
    """One instrument of a plan and its occasions, in words a clinician reads at a glance."""

    instrument_id: str
    title: str
    occasions: str


_ORDINAL = {2: "2nd", 3: "3rd"}


def _occasion(row: PlanRow) -> str:
    if row.when == When.EVERY_NTH_SESSION:
        return f"before every {_ORDINAL.get(row.n or 0, f'{row.n}th')} session"
    if row.when == When.FOLLOW_UP:
        return f"{row.months} months after the end"
    return {
        When.INTAKE: "at intake",
        When.EVERY_SESSION: "before every session",
        When.AFTER_EVERY_SESSION: "after every session",
        When.END_OF_EPISODE: "at the end",
    }[row.when]


def plan_lines(rows: Sequence[PlanRow], titles: Mapping[str, str]) -> list[PlanLine]:
    by_instrument: dict[str, list[PlanRow]] = {}
    for row in sorted(
        rows, key=lambda r: (r.instrument_id, list(When).index(r.when), r.n or 0, r.months or 0)
    ):
        by_instrument.setdefault(row.instrument_id, []).append(row)
    return [
        PlanLine(iid, titles.get(iid, iid), ", ".join(_occasion(r) for r in instrument_rows))
        for iid, instrument_rows in sorted(by_instrument.items())
    ]


@dataclass(frozen=True)
class EpisodeMeasures:
    episode_id: int
    plan: list[PlanLine]
    own_plan: bool  # False: the practice default, copied to the episode on first use
    assignments: list[Assignment]  # in due order: all, or the latest `recent`
    assignment_count: int = 0  # all the episode's questionnaires


def episode_measures(
    episodes: Sequence[Episode],
    practice: Practice,
    *,
    recent: int | None = None,
    available: Mapping[str, Instrument] | None = None,
) -> list[EpisodeMeasures]:
    """Each episode's plan and questionnaires (for the client page), in a fixed number of queries
    whatever the number of episodes: all its questionnaires, or with `recent` the latest `recent` by
    due time (the client page; the episode's history page has them all). The caller has fetched the
    episodes through `clients.access`."""
    ids = [e.pk for e in episodes]
    if not ids:
        return []
    plans = {
        p.episode_id: p for p in MeasurementPlan.objects.filter(episode_id__in=ids).prefetch_related("items")
    }
    by_episode: dict[int, list[Assignment]] = {pk: [] for pk in ids}
    counts = dict.fromkeys(ids, 0)
    assignments = Assignment.objects.filter(episode_id__in=ids).annotate(
        in_episode=Window(Count("id"), partition_by=F("episode_id")),
        newest_first=Window(
            RowNumber(), partition_by=F("episode_id"), order_by=(F("due_at").desc(), F("id").desc())
        ),
    )
    if recent is not None:
        assignments = assignments.filter(newest_first__lte=recent)
    for assignment in assignments.order_by("due_at", "id"):
        by_episode[assignment.episode_id].append(assignment)
        counts[assignment.episode_id] = assignment.in_episode
    default = practice_plan_rows(practice, available) if len(plans) < len(ids) else []
    titles = {i.id: i.title for i in catalogue.registry(include_licensed=True).values()}
    return [
        EpisodeMeasures(
            episode_id=pk,
            plan=plan_lines(plan_rows(plans[pk]) if pk in plans else default, titles),
            own_plan=pk in plans,
            assignments=by_episode[pk],
            assignment_count=counts[pk],
        )
        for pk in ids
    ]


@dataclass(frozen=True)
class OpenQuestionnaire:
    assignment: Assignment
    title: str


def open_questionnaires_for_client(user: User, *, now: dt.datetime | None = None) -> list[OpenQuestionnaire]:
    """A signed-in client's questionnaires still to answer (due, sent or opened, not yet expired), in
    their own episodes only, soonest due first."""
    now = now or clock.now()
    if user.role != Role.CLIENT:
        return []
    open_now = (
        Assignment.objects.filter(
            episode__client__portal_user_id=user.pk,
            episode__client__practice_id=user.practice_id,
            status__in=[AssignmentStatus.DUE, AssignmentStatus.SENT, AssignmentStatus.OPENED],
            due_at__lte=now,
            expires_at__gt=now,
        )
        .select_related("episode__client__practice")
        .order_by("expires_at", "id")
    )
    found = []
    for assignment in open_now:
        instrument = assignment_instrument(assignment, assignment.episode.client.practice)
        if instrument is not None:
            found.append(OpenQuestionnaire(assignment=assignment, title=instrument.title))
    return found
