"""Synthetic practices: the demo practice behind `spacebetween demo`, and bulk fixtures for benchmarks.

Everything is drawn from a seeded random generator, so the same seed and the same `today` give the
same practice, person for person and session for session. No real person is modelled: names are
random pairings from `vocabulary`, addresses use the reserved `.test` domain (RFC 2606) and phone
numbers come from Ofcom's range reserved for drama (07700 900000-900999).

Besides the current caseloads, the practice has two years of past, ended episodes (mostly
completed), enough for it to fit its own expected-recovery curve, and every episode has its
clients' questionnaire answers and, for the demo therapist's open episodes, her reflections after
each session; `spacebetween.demo.answers` plans them (and says which session each answer belongs to).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Client, EndReason, Episode, Session, SessionFormat
from spacebetween.core.schedule import AFTER_SESSION_DAYS, BEFORE_SESSION_DAYS, Reason
from spacebetween.demo import answers, vocabulary
from spacebetween.demo.answers import AttendedSession, CoursePlan, Profile, TherapistView
from spacebetween.demo.workspace import Workspace, workspace_written, write_workspace
from spacebetween.insights.hooks import deferred_refresh
from spacebetween.insights.services import refresh_practice
from spacebetween.measures import services as measures_catalogue
from spacebetween.measures.models import SubmittedVia
from spacebetween.measures.selectors import licensed_pack, pack_terms_digest
from spacebetween.practice.models import Practice
from spacebetween.practice.services import practice_create
from spacebetween.relationship.measures import SESSION_RATING, Feeling
from spacebetween.relationship.services import reflection_record

DEMO_PRACTICE_NAME = "Willow Lane Therapy (demo)"
DEMO_TIME_ZONE = "Europe/London"
DEMO_EMAIL_DOMAIN = "demo.spacebetween.test"
# One password for every demo account; it passes the practice's password validators.
DEMO_PASSWORD = "willow-lane-quiet-harbour"  # noqa: S105 - printed by `spacebetween demo` on purpose


def demo_email(local_part: str) -> str:
    return f"{local_part}@{DEMO_EMAIL_DOMAIN}"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str


DEMO_LOGINS = (
    DemoLogin("therapist (supervised; caseload includes the demo client)", demo_email("therapist")),
    DemoLogin("client (portal)", demo_email("client")),
    DemoLogin("supervisor", demo_email("supervisor")),
    DemoLogin("practice admin", demo_email("admin")),
    DemoLogin("therapist (colleague)", demo_email("therapist2")),
    DemoLogin("therapist (colleague)", demo_email("therapist3")),
)

# Clients per therapist (index clients; partners and parents come on top).
CASELOAD_SIZES = {"therapist": 15, "colleague_1": 10, "colleague_2": 10}
# How many of the demo therapist's other episodes she brings to supervision, besides the demo client's.
SHARED_FOR_SUPERVISION = 3
HISTORY_DAYS = 270  # episodes start within the past ~9 months
SESSION_HOURS = (9, 10, 11, 12, 14, 15, 16, 17, 18)
INDIVIDUAL_MINUTES = 50
JOINT_MINUTES = 75  # couple and family sessions run longer
# Past-session attendance, chosen to look plausible in a demo (not a published rate): most attended,
# some cancelled, fewer missed without notice.
P_CANCELLED = 0.08
P_DID_NOT_ATTEND = 0.06
P_SKIPPED_WEEK = 0.06  # holidays and breaks: no session that week
DISCHARGE_AFTER_NO_CONTACT_DAYS = 21  # a practice policy of the demo, not a clinical rule
# How many of the other episodes have ended, and why; the rest (and the demo client's) are still open.
ENDED_EPISODES = {EndReason.COMPLETED: 9, EndReason.DROPPED_OUT: 4, EndReason.REFERRED_ON: 3}
# The earliest start that leaves room for that ending ("" = still open).
MIN_HISTORY_DAYS = {"": 10, EndReason.COMPLETED: 120, EndReason.DROPPED_OUT: 50, EndReason.REFERRED_ON: 30}
DRAMA_PHONE_PREFIX = "07700 900"
# The practice's past: ended episodes of the three therapists over the past two years, besides the
# caseloads above. The practice fits its expected-recovery curve on its completed episodes once it has
# 40 (core.trajectories.MIN_EPISODES_TO_FIT); 55 leaves room. Some clients drop out or are referred on.
HISTORY_COMPLETED = 55
HISTORY_YEARS_DAYS = 730
HISTORY_ATTENDED: dict[str, tuple[int, int]] = {
    EndReason.COMPLETED: (6, 20),
    EndReason.DROPPED_OUT: (2, 5),
    EndReason.REFERRED_ON: (1, 4),
}
HISTORY_THERAPISTS = ("therapist", "colleague_1", "colleague_2")
# A completed course ends at least this long before the demo's day, so that it is history.
HISTORY_ENDS_BEFORE_DAYS = 14
# Counter-transference check-ins of the demo therapist (relationship.measures.Feeling): the usual
# ones, and those of a session where the client's alliance dropped.
EASY_FEELINGS = (Feeling.CLOSE, Feeling.PROTECTIVE, Feeling.CONFIDENT, Feeling.BORED)
HARD_FEELINGS = (Feeling.DISTANT, Feeling.IRRITATED, Feeling.INADEQUATE, Feeling.CRITICISED)


def history_counts(completed: int) -> dict[str, int]:
    """Past episodes by end reason: `completed`, with about one dropout per nine and one referral on
    per fourteen of them (a demo's mix, not a published rate)."""
    return {
        EndReason.COMPLETED: completed,
        EndReason.DROPPED_OUT: math.ceil(completed / 9),
        EndReason.REFERRED_ON: math.ceil(completed / 14),
    }


# --- the plan: plain data, drawn from the seeded generator before anything touches the database ---


@dataclass
class PersonPlan:
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: dt.date
    email: str
    phone: str


@dataclass
class SessionPlan:
    starts_at: dt.datetime
    format: str
    attendance: str
    participants: tuple[int, ...]  # indexes into the case's people; 0 is the episode's client
    duration_minutes: int


@dataclass
class CasePlan:
    therapist: str
    kind: str  # "individual", "couple" or "family"
    people: list[PersonPlan]
    referral_reason: str
    started_on: dt.date
    ended_on: dt.date | None = None
    end_reason: str = ""
    shared_for_supervision: bool = False
    is_demo_client: bool = False
    is_history: bool = False
    sessions: list[SessionPlan] = field(default_factory=list)
    course: CoursePlan | None = None

    def attended(self) -> list[SessionPlan]:
        return [s for s in self.sessions if s.attendance == Attendance.ATTENDED]


def _weekday(day: dt.date) -> dt.date:
    """First sessions are on weekdays: a Saturday or Sunday moves to the Monday."""
    return day + dt.timedelta(days=8 - day.isoweekday()) if day.isoweekday() > 5 else day


class _Planner:
    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
        self.today = today
        self.tz = ZoneInfo(DEMO_TIME_ZONE)
        self.taken_names: set[tuple[str, str]] = set()
        self.phones = iter(self.rng.sample(range(1000), 200))

    def person(self, *, family_name: str | None = None, age: tuple[int, int] = (19, 68)) -> PersonPlan:
        rng = self.rng
        while True:
            given = rng.choice(vocabulary.GIVEN_NAMES)
            family = family_name or rng.choice(vocabulary.FAMILY_NAMES)
            if (given, family) not in self.taken_names:
                break
        self.taken_names.add((given, family))
        preferred = vocabulary.PREFERRED_NAMES.get(given, "") if rng.random() < 0.6 else ""
        years = rng.randint(*age)
        born = dt.date(self.today.year - years, rng.randint(1, 12), rng.randint(1, 28))
        email = f"{given}.{family}@example.test".lower() if rng.random() < 0.85 else ""
        return PersonPlan(
            given, family, preferred, born, email, f"{DRAMA_PHONE_PREFIX}{next(self.phones):03d}"
        )

    def case(self, therapist: str, kind: str, outcome: str, *, is_demo_client: bool = False) -> CasePlan:
        rng = self.rng
        if kind == "couple":
            people = [self.person(), self.person()]
            reason = rng.choice(vocabulary.COUPLE_REASONS)
        elif kind == "family":
            young = self.person(age=(13, 16))
            people = [
                young,
                self.person(family_name=young.family_name, age=(38, 52)),
                self.person(age=(38, 52)),
            ]
            reason = rng.choice(vocabulary.FAMILY_REASONS)
        else:
            people = [self.person()]
            reason = rng.choice(vocabulary.INDIVIDUAL_REASONS)
        age_days = 98 if is_demo_client else rng.randint(MIN_HISTORY_DAYS[outcome], HISTORY_DAYS)
        started_on = _weekday(self.today - dt.timedelta(days=age_days))
        plan = CasePlan(therapist, kind, people, reason, started_on, is_demo_client=is_demo_client)
        self._timeline(plan, outcome)
        return plan

    def _timeline(self, plan: CasePlan, outcome: str) -> None:
        rng = self.rng
        weeks = (self.today - plan.started_on).days // 7
        limit: int | None = None
        if outcome == EndReason.COMPLETED:
            limit = rng.randint(8, 20)
        elif outcome == EndReason.DROPPED_OUT:
            limit = rng.randint(2, min(6, weeks - 4))
        elif outcome == EndReason.REFERRED_ON:
            limit = rng.randint(1, 4)
        hour, minute = rng.choice(SESSION_HOURS), rng.choice((0, 0, 0, 30))
        past: list[dt.date] = []
        day = plan.started_on
        while day < self.today and (limit is None or len(past) < limit):
            if not past or rng.random() > P_SKIPPED_WEEK:
                past.append(day)
            day += dt.timedelta(weeks=1)
        upcoming = [day + dt.timedelta(weeks=k) for k in range(rng.randint(1, 3))] if not outcome else []
        attendance = [self._attendance(first=(i == 0)) for i in range(len(past))]
        if outcome == EndReason.DROPPED_OUT:
            for i in range(max(1, len(past) - rng.randint(1, 2)), len(past)):
                attendance[i] = Attendance.DID_NOT_ATTEND
        attendance += [Attendance.SCHEDULED] * len(upcoming)
        for i, (day, status) in enumerate(zip([*past, *upcoming], attendance, strict=True)):
            starts_at = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)
            plan.sessions.append(self._session(plan, i, starts_at, str(status)))
        if outcome:
            last = past[-1]
            after = 0  # completed: the last session is the ending
            if outcome == EndReason.DROPPED_OUT:
                after = DISCHARGE_AFTER_NO_CONTACT_DAYS
            elif outcome == EndReason.REFERRED_ON:
                after = rng.randint(1, 10)
            plan.ended_on = max(last, min(last + dt.timedelta(days=after), self.today - dt.timedelta(days=1)))
            plan.end_reason = outcome

    def history_case(self, therapist: str, outcome: str) -> CasePlan:
        """A past individual episode that has ended, within the past two years: weekly sessions until
        the drawn number has been attended (the last one attended when completed)."""
        rng = self.rng
        low, high = HISTORY_ATTENDED[outcome]
        wanted = round(rng.triangular(low, high, low + (high - low) / 7))  # most courses are short
        span_days = 7 * (2 * wanted + 4) + HISTORY_ENDS_BEFORE_DAYS  # room for breaks and misses
        started_on = self.today - dt.timedelta(days=rng.randint(span_days, HISTORY_YEARS_DAYS))
        started_on = _weekday(started_on)
        plan = CasePlan(
            therapist,
            "individual",
            [self.person()],
            rng.choice(vocabulary.INDIVIDUAL_REASONS),
            started_on,
            is_history=True,
        )
        hour, minute = rng.choice(SESSION_HOURS), rng.choice((0, 0, 0, 30))
        day, attended = started_on, 0
        while attended < wanted:
            if plan.sessions and rng.random() < P_SKIPPED_WEEK:
                day += dt.timedelta(weeks=1)
                continue
            status = self._attendance(first=not plan.sessions)
            if outcome == EndReason.COMPLETED and attended == wanted - 1:
                status = Attendance.ATTENDED  # the ending is a session
            starts_at = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)
            plan.sessions.append(self._session(plan, len(plan.sessions), starts_at, status))
            attended += status == Attendance.ATTENDED
            day += dt.timedelta(weeks=1)
        last = plan.sessions[-1].starts_at.date()
        if outcome == EndReason.DROPPED_OUT:  # missed without notice, then discharged
            for _ in range(rng.randint(1, 2)):
                starts_at = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)
                plan.sessions.append(
                    self._session(plan, len(plan.sessions), starts_at, Attendance.DID_NOT_ATTEND)
                )
                last, day = day, day + dt.timedelta(weeks=1)
            last += dt.timedelta(days=DISCHARGE_AFTER_NO_CONTACT_DAYS)
        elif outcome == EndReason.REFERRED_ON:
            last += dt.timedelta(days=rng.randint(1, 10))
        plan.ended_on, plan.end_reason = min(last, self.today - dt.timedelta(days=1)), outcome
        return plan

    def _attendance(self, *, first: bool) -> str:
        draw = self.rng.random()
        if first or draw >= P_CANCELLED + P_DID_NOT_ATTEND:
            return Attendance.ATTENDED
        return Attendance.CANCELLED if draw < P_CANCELLED else Attendance.DID_NOT_ATTEND

    def _session(self, plan: CasePlan, index: int, starts_at: dt.datetime, attendance: str) -> SessionPlan:
        if plan.kind == "couple":
            return SessionPlan(starts_at, SessionFormat.COUPLE, attendance, (0, 1), JOINT_MINUTES)
        # Family work: the young person alone most weeks, with their parents every third session.
        if plan.kind == "family" and index % 3 == 0:
            parents = (1, 2) if self.rng.random() < 0.7 else (1,)
            return SessionPlan(starts_at, SessionFormat.FAMILY, attendance, (0, *parents), JOINT_MINUTES)
        return SessionPlan(starts_at, SessionFormat.INDIVIDUAL, attendance, (0,), INDIVIDUAL_MINUTES)


def plan_demo_cases(
    seed: int, today: dt.date, *, history_completed: int = HISTORY_COMPLETED
) -> list[CasePlan]:
    """Everything the demo practice will hold, as plain data: one plan per episode with its people,
    sessions and questionnaire answers. Depends only on `seed`, `today` and the size of the history;
    the current caseloads come first and are the same whatever that size."""
    if history_completed < 0:
        raise ValueError(f"the number of past completed episodes cannot be negative ({history_completed})")
    planner = _Planner(seed, today)
    slots: list[tuple[str, str, bool]] = []  # (therapist, kind, is_demo_client)
    for therapist, size in CASELOAD_SIZES.items():
        kinds = ["individual"] * size
        if therapist in ("therapist", "colleague_1"):
            kinds[1] = "couple"
        if therapist in ("therapist", "colleague_2"):
            kinds[2] = "family"
        slots += [(therapist, kind, therapist == "therapist" and i == 0) for i, kind in enumerate(kinds)]
    endings = [str(reason) for reason, n in ENDED_EPISODES.items() for _ in range(n)]
    outcomes = iter(planner.rng.sample(endings + [""] * (len(slots) - 1 - len(endings)), len(slots) - 1))
    cases = [
        planner.case(therapist, kind, "" if demo else next(outcomes), is_demo_client=demo)
        for therapist, kind, demo in slots
    ]
    own = [c for c in cases if c.therapist == "therapist"]
    own[0].shared_for_supervision = True
    for case in planner.rng.sample(own[1:], SHARED_FOR_SUPERVISION):
        case.shared_for_supervision = True
    past = [str(reason) for reason, n in history_counts(history_completed).items() for _ in range(n)]
    cases += [
        planner.history_case(HISTORY_THERAPISTS[i % len(HISTORY_THERAPISTS)], outcome)
        for i, outcome in enumerate(planner.rng.sample(past, len(past)))
    ]
    now = demo_clock(today)
    for index, case in enumerate(cases):
        _plan_course(case, random.Random(f"demo-course-{seed}-{index}"), now)  # noqa: S311 - synthetic
    return cases


def _profile(case: CasePlan, rng: random.Random) -> Profile:
    if case.is_demo_client:
        return Profile.NOT_ON_TRACK
    if case.therapist == "therapist" and case.ended_on is None:
        return Profile.ON_COURSE  # the demo client stands out on her therapist's caseload
    weights = answers.PROFILE_WEIGHTS
    return rng.choices(list(weights), weights=list(weights.values()))[0]


THERAPIST_VIEW = TherapistView(
    rating_items=tuple(item.id for item in SESSION_RATING.items),
    rating_min=SESSION_RATING.minimum,
    rating_max=SESSION_RATING.maximum,
    easy=tuple(str(f) for f in EASY_FEELINGS),
    hard=tuple(str(f) for f in HARD_FEELINGS),
    easy_notes=vocabulary.CHECK_IN_NOTES,
    hard_notes=vocabulary.HARD_CHECK_IN_NOTES,
)


def _plan_course(case: CasePlan, rng: random.Random, now: dt.datetime) -> None:
    """The client's answers in this episode and, in the demo therapist's open episodes, her
    reflections after each session."""
    case.course = answers.plan_course(
        rng,
        profile=_profile(case, rng),
        attended=[AttendedSession(s.starts_at, s.duration_minutes) for s in case.attended()],
        ended_on=case.ended_on,
        now=now,
        time_zone=DEMO_TIME_ZONE,
        follow_up=case.end_reason == EndReason.COMPLETED and rng.random() < answers.P_FOLLOW_UP,
        reflections=THERAPIST_VIEW if case.therapist == "therapist" and case.ended_on is None else None,
    )


# --- the demo practice, written through the real services so that its audit trail is real ---


@dataclass(frozen=True)
class DemoPractice:
    practice: Practice
    admin: User
    supervisor: User
    demo_therapist: User
    therapists: tuple[User, ...]
    demo_client: Client
    demo_client_user: User
    clients: int
    episodes: int
    sessions: int
    completed_episodes: int = 0
    responses: int = 0
    reflections: int = 0
    fitted: tuple[str, ...] = ()  # instruments whose expected-recovery curve the practice fitted
    workspace: Workspace | None = None  # exercises, notes, formulations, a rupture note


def demo_today() -> dt.date:
    return clock.now().astimezone(ZoneInfo(DEMO_TIME_ZONE)).date()


def demo_clock(today: dt.date) -> dt.datetime:
    """The demo's "now" while it is made: midnight at the start of `today`, so that everything
    answered lies in the past and today's sessions are still to come."""
    return dt.datetime.combine(today, dt.time(0, 0), tzinfo=ZoneInfo(DEMO_TIME_ZONE))


@contextlib.contextmanager
def _quick_commits() -> Iterator[None]:
    """Commit without waiting for the disk while the demo loads. Thousands of small transactions
    (each service call is one, with its audit row) would otherwise each wait for a flush. Only for the
    demo: it is synthetic and made again with `--reset`, and a load cut short by a power cut leaves
    an incomplete demo (no portal link yet), which `spacebetween demo` detects."""
    # Inside a caller's transaction (tests) there is one commit at its end: nothing to change.
    vendor = "" if connection.in_atomic_block else connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":  # WAL with synchronous=NORMAL stays consistent; it may lose the last commits
            cursor.execute("PRAGMA synchronous")
            before = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA synchronous=NORMAL")
        elif vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "sqlite":
                cursor.execute(f"PRAGMA synchronous={before}")
            elif vendor == "postgresql":
                cursor.execute("RESET synchronous_commit")


def generate_demo_practice(
    *, seed: int = 7, today: dt.date | None = None, history_completed: int = HISTORY_COMPLETED
) -> DemoPractice:
    """Create the demo practice: an admin, a supervisor, three therapists (the demo therapist is
    supervised and shares some episodes), about forty clients in current episodes over the past nine
    months with weekly sessions and the next ones booked, `history_completed` past completed episodes
    (and some dropouts and referrals) over two years, and one client with a portal login.

    The admin accepts the WAI-SR's terms (a real practice's admin reads them first; the licensed
    instruments whose terms ask for the authors' permission stay off), so that the client's alliance
    questionnaire can be used and the default plan asks for it after every session. Every client
    answers the questionnaires `spacebetween.demo.answers` plans for their episode; the demo therapist
    reflects on each session of her open episodes. The practice then fits its expected-recovery curves
    on its completed episodes (where there are enough) and computes its current signals.

    Every demo account has `is_demo_account=True` and the password `DEMO_PASSWORD`. Fewer past
    episodes (`history_completed`) load faster, e.g. for tests, but below 40 there is no curve.
    """
    today = today or demo_today()
    now = demo_clock(today)
    cases = plan_demo_cases(seed, today, history_completed=history_completed)
    with _quick_commits():
        practice = practice_create(name=DEMO_PRACTICE_NAME, time_zone=DEMO_TIME_ZONE, country="GB")

        def account(key: str, role: Role, actor: User | None, **kw: object) -> User:
            full_name, local_part = vocabulary.STAFF[key]
            return user_create(
                practice=practice,
                email=demo_email(local_part),
                full_name=full_name,
                role=role,
                password=DEMO_PASSWORD,
                actor=actor,
                is_demo_account=True,
                **kw,  # type: ignore[arg-type]
            )

        admin = account("admin", Role.ADMIN, None)
        supervisor = account("supervisor", Role.SUPERVISOR, admin)
        staff = {
            "therapist": account("therapist", Role.THERAPIST, admin, supervisor=supervisor),
            "colleague_1": account("colleague_1", Role.THERAPIST, admin),
            "colleague_2": account("colleague_2", Role.THERAPIST, admin),
        }
        measures_catalogue.licensed_pack_accept(
            actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True
        )
        written = _Written()
        demo_episode: tuple[Client, Episode, list[Session]] | None = None
        # The insights refresh once per episode at the end of the block, not after every answer.
        with deferred_refresh():
            for case in cases:
                made = _write_case(case, staff[case.therapist], written)
                if case.is_demo_client:
                    demo_episode = made
        assert demo_episode is not None
        fit = refresh_practice(practice, refit=True, actor=admin).fit
        demo_client, episode, sessions = demo_episode
        _leave_one_open(staff["therapist"], episode, sessions, now)
        # Linked near the end, then the workspace, whose last write marks a complete demo (`demo_state`).
        client_user = user_create(
            practice=practice,
            email=demo_email("client"),
            full_name=demo_client.display_name,
            role=Role.CLIENT,
            password=DEMO_PASSWORD,
            actor=admin,
            is_demo_account=True,
        )
        clinical.client_portal_link(actor=staff["therapist"], client=demo_client, portal_user=client_user)
        written_workspace = write_workspace(seed=seed, demo_client=demo_client, now=now)
    return DemoPractice(
        practice=practice,
        admin=admin,
        supervisor=supervisor,
        demo_therapist=staff["therapist"],
        therapists=tuple(staff.values()),
        demo_client=demo_client,
        demo_client_user=client_user,
        clients=written.clients,
        episodes=len(cases),
        sessions=written.sessions,
        completed_episodes=sum(c.end_reason == EndReason.COMPLETED for c in cases),
        responses=written.responses,
        reflections=written.reflections,
        fitted=tuple(sorted(fit.fitted)),
        workspace=written_workspace,
    )


@dataclass
class _Written:
    clients: int = 0
    sessions: int = 0
    responses: int = 0
    reflections: int = 0


def _write_case(case: CasePlan, therapist: User, written: _Written) -> tuple[Client, Episode, list[Session]]:
    """One episode through the services, in time order: its sessions, then the answers and
    reflections (backdated to when they were given), the ending, and any follow-up."""
    people = [_create_client(therapist, person, case.is_demo_client) for person in case.people]
    written.clients += len(people)
    episode = clinical.episode_open(
        actor=therapist,
        client=people[0],
        referral_reason=case.referral_reason,
        started_on=case.started_on,
        shared_for_supervision=case.shared_for_supervision,
    )
    sessions = [
        clinical.session_create(
            actor=therapist,
            episode=episode,
            starts_at=plan.starts_at,
            duration_minutes=plan.duration_minutes,
            format=plan.format,
            attendance=plan.attendance,
            participants=[people[i] for i in plan.participants],
        )
        for plan in case.sessions
    ]
    written.sessions += len(sessions)
    attended = [s for s in sessions if s.attendance == Attendance.ATTENDED]
    course = case.course
    assert course is not None
    in_treatment = [r for r in course.responses if r.session_number > 0]
    for planned in in_treatment:
        _answer(therapist, episode, planned, _planned_key(planned, attended))
    for reflection in course.reflections:
        reflection_record(
            actor=therapist,
            session=attended[reflection.session_number - 1],
            answers=reflection.ratings,
            feelings=reflection.feelings,
            intensity=reflection.intensity,
            note=reflection.note,
            now=reflection.recorded_at,
        )
    if case.ended_on is not None:
        episode = clinical.episode_close(
            actor=therapist, episode=episode, ended_on=case.ended_on, end_reason=case.end_reason
        )
    for planned in course.responses:
        if planned.session_number == 0:
            _answer(therapist, episode, planned, (Reason.FOLLOW_UP, str(answers.FOLLOW_UP_AFTER_MONTHS)))
    written.responses += len(course.responses)
    written.reflections += len(course.reflections)
    return people[0], episode, sessions


def _planned_key(planned: answers.PlannedResponse, attended: list[Session]) -> tuple[str, str] | None:
    """PHQ-9 and GAD-7 before each session and the WAI-SR after it are what the practice's default
    plan asks for (the WAI-SR once its terms are accepted); recorded as planned (intake, then each
    session), the worker never assigns them a second time."""
    if planned.instrument_id == answers.ALLIANCE_MEASURE:
        return (Reason.AFTER_SESSION, str(attended[planned.session_number - 1].pk))
    if planned.instrument_id not in answers.SYMPTOM_MEASURES:
        return None
    if planned.session_number == 1:
        return (Reason.INTAKE, "")
    return (Reason.SESSION, str(attended[planned.session_number - 1].pk))


def _answer(
    therapist: User, episode: Episode, planned: answers.PlannedResponse, key: tuple[str, str] | None
) -> None:
    """The therapist assigns the questionnaire when it is due; the client answers it by its link."""
    assignment = answering.assignment_create(
        actor=therapist,
        episode=episode,
        instrument_id=planned.instrument_id,
        due_at=planned.due_at,
        expires_at=planned.expires_at,
        now=planned.due_at,
        planned=key,
    )
    answering.response_submit(
        assignment=assignment, answers=planned.answers, via=SubmittedVia.LINK, now=planned.submitted_at
    )


def _leave_one_open(therapist: User, episode: Episode, sessions: list[Session], now: dt.datetime) -> None:
    """The demo client's PHQ-9 for her next session, due since yesterday evening and not yet
    answered, so that her portal has a questionnaire waiting."""
    upcoming = next(s for s in sessions if s.attendance == Attendance.SCHEDULED)
    before = upcoming.starts_at - dt.timedelta(days=BEFORE_SESSION_DAYS)
    due_at = min(before, now - dt.timedelta(hours=6))
    answering.assignment_create(
        actor=therapist,
        episode=episode,
        instrument_id=answers.PHQ9,
        due_at=due_at,
        expires_at=upcoming.starts_at + dt.timedelta(days=AFTER_SESSION_DAYS),
        now=due_at,
        planned=(Reason.SESSION, str(upcoming.pk)),
    )


def _create_client(therapist: User, person: PersonPlan, is_demo_client: bool) -> Client:
    return clinical.client_create(
        actor=therapist,
        given_name=person.given_name,
        family_name=person.family_name,
        preferred_name=person.preferred_name,
        date_of_birth=person.date_of_birth,
        email=demo_email("client") if is_demo_client else person.email,
        phone=person.phone,
    )


class DemoState:
    ABSENT = "absent"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"


def demo_state() -> str:
    """Whether this database holds the demo practice, completely or from an interrupted run."""
    if not User.objects.filter(email=demo_email("admin")).exists():
        return DemoState.ABSENT
    # The workspace's last write (workspace.write_workspace: the themes on the demo client's session)
    # marks a complete demo; a run cut off before it left an incomplete one.
    return DemoState.COMPLETE if workspace_written(demo_email("client")) else DemoState.INCOMPLETE


def demo_practice_ids() -> list[int]:
    """Practices made by the demo: named as the demo and holding only demo accounts."""
    named = Practice.objects.filter(name=DEMO_PRACTICE_NAME)
    return list(named.exclude(users__is_demo_account=False).values_list("pk", flat=True))
