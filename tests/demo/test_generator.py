"""The synthetic demo practice, made once for the module through the real services: its people,
episodes and sessions, and the questionnaire answers, reflections and insights that issue #5 shows."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.password_validation import validate_password
from django.test import TestCase, override_settings

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import AuditEvent
from spacebetween.audit.selectors import verify_chain
from spacebetween.clients.access import clients_for, episodes_for
from spacebetween.clients.models import Attendance, Client, EndReason, Episode, Session, SessionFormat
from spacebetween.clients.selectors import attended_sessions, caseload
from spacebetween.core.schedule import PlanRow, When
from spacebetween.demo import answers, workspace
from spacebetween.demo.generator import (
    CASELOAD_SIZES,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_TIME_ZONE,
    HISTORY_COMPLETED,
    DemoPractice,
    generate_demo_practice,
    history_counts,
    plan_demo_cases,
)
from spacebetween.exercises.models import ExerciseAssignment, ExerciseEntry, ReadingShare
from spacebetween.exercises.selectors import entry_answers
from spacebetween.formulation.models import FormulationVersion, Goal, GoalRating
from spacebetween.insights.models import ExpectedRecoveryFit
from spacebetween.insights.selectors import caseload_by_need
from spacebetween.measures.models import Assignment, AssignmentStatus, Response
from spacebetween.measures.selectors import (
    instruments_for,
    licensed_pack,
    licensed_pack_enabled,
    open_questionnaires_for_client,
    practice_plan_rows,
)
from spacebetween.notes.models import ProgressNote
from spacebetween.relationship.models import RuptureNote, SessionReflection, SessionTheme, ThemeLabel
from spacebetween.safety.models import RiskFlag
from spacebetween.transcripts.models import Transcript

TODAY = dt.date(2026, 11, 23)
LONDON = ZoneInfo(DEMO_TIME_ZONE)
NOW = dt.datetime.combine(TODAY, dt.time(0, 0), tzinfo=LONDON)


@pytest.fixture(scope="module")
def full_demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[DemoPractice]:
    """The default demo, made once for this module inside a transaction that is rolled back after
    its last test (as TestCase.setUpTestData does): it takes most of a minute to make."""
    with django_db_blocker.unblock():
        atomics = TestCase._enter_atomics()  # type: ignore[attr-defined]  # setUpTestData's own
        try:
            # The fast hasher the per-test `fast_password_hashing` (tests/conftest.py) sets, so that
            # the tests can check the passwords.
            with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
                made = generate_demo_practice(seed=7, today=TODAY)
        except BaseException:
            TestCase._rollback_atomics(atomics)  # type: ignore[attr-defined]
            raise
    yield made
    with django_db_blocker.unblock():
        TestCase._rollback_atomics(atomics)  # type: ignore[attr-defined]


@pytest.fixture
def demo(full_demo: DemoPractice, db: None) -> DemoPractice:
    return full_demo


def test_it_makes_the_cast_forty_current_clients_and_two_years_of_past_ones(demo: DemoPractice) -> None:
    assert demo.practice.time_zone == "Europe/London"
    roles = Counter(User.objects.filter(practice=demo.practice).values_list("role", flat=True))
    assert roles == {Role.ADMIN: 1, Role.SUPERVISOR: 1, Role.THERAPIST: 3, Role.CLIENT: 1}
    assert demo.demo_therapist.supervisor_id == demo.supervisor.pk
    assert Client.objects.filter(practice=demo.practice).count() == demo.clients
    past = sum(history_counts(HISTORY_COMPLETED).values())  # one individual client each
    assert 35 <= demo.clients - past <= 45
    assert Episode.objects.count() == demo.episodes == sum(CASELOAD_SIZES.values()) + past
    assert Session.objects.count() == demo.sessions > 10 * demo.episodes


def test_every_demo_account_signs_in_with_the_demo_password(demo: DemoPractice) -> None:
    users = User.objects.filter(practice=demo.practice)
    assert {u.email for u in users} == {login.email for login in DEMO_LOGINS}
    assert all(u.is_demo_account and u.check_password(DEMO_PASSWORD) for u in users)
    assert all(u.email.endswith(".test") for u in users)
    validate_password(DEMO_PASSWORD, users.get(role=Role.THERAPIST, supervisor__isnull=False))


def test_only_the_designated_demo_client_has_a_portal_login(demo: DemoPractice) -> None:
    with_login = Client.objects.filter(portal_user__isnull=False)
    assert list(with_login) == [demo.demo_client]
    assert demo.demo_client.portal_user == demo.demo_client_user
    assert demo.demo_client_user.role == Role.CLIENT


def test_the_demo_client_is_in_the_demo_therapists_caseload(demo: DemoPractice) -> None:
    active = caseload(demo.demo_therapist, now=NOW)
    assert demo.demo_client.pk in {e.client_id for e in active}
    assert clients_for(demo.demo_client_user).get() == demo.demo_client
    mine = next(e for e in active if e.client_id == demo.demo_client.pk)
    next_session_at = mine.next_session_at  # type: ignore[attr-defined]  # the selector's annotation
    assert next_session_at is not None and next_session_at >= NOW


def test_every_session_falls_within_its_episode(demo: DemoPractice) -> None:
    for episode in Episode.objects.prefetch_related("sessions"):
        assert episode.sessions.all(), episode
        for session in episode.sessions.all():
            day = session.starts_at.astimezone(LONDON).date()
            assert day >= episode.started_on
            assert episode.ended_on is None or day <= episode.ended_on
            assert (session.attendance == Attendance.SCHEDULED) == (day >= TODAY)


def test_open_episodes_start_within_nine_months_and_ended_ones_have_reasons(demo: DemoPractice) -> None:
    episodes = list(Episode.objects.all())
    assert min(e.started_on for e in episodes if e.ended_on is None) >= TODAY - dt.timedelta(days=275)
    assert min(e.started_on for e in episodes) >= TODAY - dt.timedelta(days=731)
    ended = [e for e in episodes if e.ended_on is not None]
    assert all(e.end_reason and e.ended_on is not None and e.ended_on < TODAY for e in ended)
    assert {e.end_reason for e in ended} == {
        EndReason.COMPLETED,
        EndReason.DROPPED_OUT,
        EndReason.REFERRED_ON,
    }
    assert all(not e.end_reason for e in episodes if e.ended_on is None)


def test_attendance_is_mostly_attended_with_some_cancelled_and_missed(demo: DemoPractice) -> None:
    past = Counter(
        Session.objects.exclude(attendance=Attendance.SCHEDULED).values_list("attendance", flat=True)
    )
    total = sum(past.values())
    assert past[Attendance.ATTENDED] / total > 0.75
    assert past[Attendance.CANCELLED] > 0 and past[Attendance.DID_NOT_ATTEND] > 0


def test_every_open_episode_has_its_next_session_booked_within_three_weeks(demo: DemoPractice) -> None:
    soon = NOW + dt.timedelta(weeks=3)
    for episode in Episode.objects.filter(ended_on__isnull=True):
        upcoming = episode.sessions.filter(starts_at__gte=NOW, attendance=Attendance.SCHEDULED)
        assert upcoming.exists() and upcoming.first().starts_at < soon, episode  # type: ignore[union-attr]
    assert not Session.objects.filter(
        episode__ended_on__isnull=False, attendance=Attendance.SCHEDULED
    ).exists()


def test_couple_and_family_sessions_have_several_participants(demo: DemoPractice) -> None:
    joint = Session.objects.filter(format__in=[SessionFormat.COUPLE, SessionFormat.FAMILY])
    assert {s.format for s in joint} == {SessionFormat.COUPLE, SessionFormat.FAMILY}
    assert all(s.participants.count() >= 2 for s in joint)
    assert any(s.participants.count() >= 3 for s in joint.filter(format=SessionFormat.FAMILY))
    individual = Session.objects.filter(format=SessionFormat.INDIVIDUAL).prefetch_related("participants")
    assert all([p.pk for p in s.participants.all()] == [s.episode.client_id] for s in individual)


def test_the_supervisor_sees_only_the_episodes_shared_for_supervision(demo: DemoPractice) -> None:
    shared = set(Episode.objects.filter(shared_for_supervision=True).values_list("pk", flat=True))
    assert len(shared) >= 2
    assert set(Episode.objects.filter(pk__in=shared).values_list("therapist", flat=True)) == {
        demo.demo_therapist.pk
    }
    assert set(episodes_for(demo.supervisor).values_list("pk", flat=True)) == shared


def test_the_audit_chain_verifies_and_holds_every_write(demo: DemoPractice) -> None:
    report = verify_chain()
    assert report.intact, report.problems
    ended = Episode.objects.filter(ended_on__isnull=False).count()
    users = User.objects.count()
    # practice + accounts + the licensed pack + clients + episodes + sessions + questionnaires assigned
    # and answered + reflections + closings + one refit per fitted curve + the portal link
    expected = (
        1
        + users
        + 1
        + demo.clients
        + demo.episodes
        + demo.sessions
        + Assignment.objects.count()
        + demo.responses
        + demo.reflections
        + ended
        + ExpectedRecoveryFit.objects.count()
        + 1
        + _workspace_writes()
    )
    assert AuditEvent.objects.filter(practice_id=demo.practice.pk).count() == report.events == expected
    by_client = AuditEvent.objects.filter(entity_type="Response", actor_role="client")
    assert by_client.count() == Response.objects.count() == demo.responses


def _workspace_writes() -> int:
    """The workspace's audited writes (demo.workspace): one per row, a read of a page besides its share,
    one per theme label the practice's list gained, and two per session transcript."""
    rows: list[Any] = [
        ExerciseAssignment,
        ExerciseEntry,
        ReadingShare,
        ProgressNote,
        FormulationVersion,
        Goal,
        GoalRating,
    ]
    reads = sum(ReadingShare.objects.values_list("times_read", flat=True))
    themes = RuptureNote.objects.count() + SessionTheme.objects.count() + ThemeLabel.objects.count()
    transcripts = 2 * Transcript.objects.count()  # uploaded, then its speakers mapped and coded
    return sum(model.objects.count() for model in rows) + reads + themes + transcripts


def _primary(response: Response) -> float:
    scale_id = answers.instruments()[response.instrument_id].scales[0].id
    return float(response.scores[scale_id]["score"])


def test_every_stored_score_is_the_planned_one_and_none_raised_a_risk_flag(demo: DemoPractice) -> None:
    plans = plan_demo_cases(7, TODAY)
    episodes = list(Episode.objects.filter(client__practice=demo.practice).order_by("pk"))
    assert len(episodes) == len(plans)
    stored: dict[int, list[tuple[str, str, float]]] = {}
    for r in Response.objects.select_related("assignment").order_by("submitted_at", "instrument_id"):
        stored.setdefault(r.assignment.episode_id, []).append(
            (r.instrument_id, r.submitted_at.isoformat(), _primary(r))
        )
    for episode, plan in zip(episodes, plans, strict=True):
        assert plan.course is not None
        planned = sorted(
            (r.instrument_id, r.submitted_at.astimezone(dt.UTC).isoformat(), r.score)
            for r in plan.course.responses
        )
        assert sorted(stored.get(episode.pk, [])) == planned, episode.pk
    assert Response.objects.count() == demo.responses > 4000
    assert not RiskFlag.objects.exists()
    assert not Response.objects.filter(any_risk=True).exists()
    assert all(
        a["phq9_9"] == 0
        for a in Response.objects.filter(instrument_id="phq9").values_list("answers", flat=True)
    )


def test_answers_fall_to_their_session_by_the_mapping_rule(demo: DemoPractice) -> None:
    # Written out (docs/insights.md): PHQ-9, GAD-7 and the ingredient measures are answered before a
    # session (after the previous attended one started); the WAI-SR after the session it rates and
    # before the next; nothing is answered after the end date but the 3-month follow-ups.
    starts: dict[int, list[dt.datetime]] = {}
    for episode_id, starts_at in (
        Session.objects.filter(attendance=Attendance.ATTENDED)
        .order_by("starts_at")
        .values_list("episode_id", "starts_at")
    ):
        starts.setdefault(episode_id, []).append(starts_at)
    follow_ups = 0
    for r in Response.objects.select_related("assignment__episode", "assignment__planned"):
        episode = r.assignment.episode
        if episode.ended_on is not None and r.submitted_at.astimezone(LONDON).date() > episode.ended_on:
            follow_ups += 1
            assert r.assignment.planned.reason == "follow_up" and r.assignment.planned.occasion == "3"
            continue
        attended = starts[episode.pk]
        started_before = sum(s < r.submitted_at for s in attended)
        if r.instrument_id == answers.ALLIANCE_MEASURE:
            assert started_before >= 1, r.pk  # about session `started_before`
        else:
            assert started_before < len(attended), r.pk  # for session `started_before + 1`
    assert follow_ups >= 20


def test_at_least_fifty_completed_episodes_have_six_phq9_scores(demo: DemoPractice) -> None:
    completed = Episode.objects.filter(end_reason=EndReason.COMPLETED)
    counts = Counter(
        Response.objects.filter(assignment__episode__in=completed, instrument_id="phq9")
        .exclude(assignment__planned__reason="follow_up")
        .values_list("assignment__episode_id", flat=True)
    )
    assert sum(n >= 6 for n in counts.values()) >= 50
    assert demo.completed_episodes == completed.count()


def _series(episode: Episode, instrument_id: str) -> list[float]:
    answered = Response.objects.filter(assignment__episode=episode, instrument_id=instrument_id)
    return [_primary(r) for r in answered.order_by("submitted_at")]


def test_the_demo_client_gets_worse_and_has_a_rupture_that_is_repaired(demo: DemoPractice) -> None:
    episode = demo.demo_client.episodes.get(ended_on__isnull=True)
    phq = _series(episode, "phq9")
    assert phq[-1] - phq[0] >= 3
    wai = _series(episode, "wai-sr")
    # A rupture: a score at least 8 below the mean of the 3 before it; repaired two sessions later.
    ruptures = [k for k in range(3, len(wai)) if sum(wai[k - 3 : k]) / 3 - wai[k] >= 8]
    assert len(ruptures) == 1 and ruptures[0] + 1 in (7, 8)
    k = ruptures[0]
    assert wai[k + 2] >= sum(wai[k - 3 : k]) / 3


def test_the_demo_therapist_reflected_on_every_session_of_her_open_episodes(demo: DemoPractice) -> None:
    mine = Episode.objects.filter(therapist=demo.demo_therapist, ended_on__isnull=True)
    attended = Session.objects.filter(episode__in=mine, attendance=Attendance.ATTENDED)
    reflected = SessionReflection.objects.filter(session__in=attended)
    assert reflected.count() == attended.count() == demo.reflections == SessionReflection.objects.count()
    assert set(reflected.values_list("therapist", flat=True)) == {demo.demo_therapist.pk}
    assert reflected.exclude(feelings=[]).count() > attended.count() / 2
    assert reflected.exclude(feelings_note="").exists()


def test_the_licensed_pack_is_on_and_expected_recovery_is_fitted(demo: DemoPractice) -> None:
    assert licensed_pack_enabled(demo.practice)
    # The WAI-SR only: the instruments whose terms ask for the authors' permission stay off.
    licensed = {i.id for i in licensed_pack()}
    assert licensed & set(instruments_for(demo.practice)) == {"wai-sr"}
    fits = {f.instrument_id: f.n_episodes for f in ExpectedRecoveryFit.objects.filter(practice=demo.practice)}
    assert set(demo.fitted) == {"phq9", "gad7"} == set(fits)
    assert min(fits.values()) >= 40


def test_the_alliance_answers_are_the_default_plans_after_session_measures(demo: DemoPractice) -> None:
    # Recorded as planned, so the worker never asks for a session's WAI-SR a second time.
    assert PlanRow("wai-sr", When.AFTER_EVERY_SESSION) in practice_plan_rows(demo.practice)
    reasons = Counter(
        Response.objects.filter(instrument_id=answers.ALLIANCE_MEASURE).values_list(
            "assignment__planned__reason", flat=True
        )
    )
    assert set(reasons) == {"after_session"} and reasons["after_session"] > 100


def test_the_demo_client_comes_first_on_her_therapists_caseload(demo: DemoPractice) -> None:
    episodes = list(caseload(demo.demo_therapist, now=NOW))
    ordered = caseload_by_need(demo.demo_therapist, episodes, practice=demo.practice, now=NOW)
    assert ordered[0].episode.client_id == demo.demo_client.pk
    assert any("expected range" in r.text for r in ordered[0].reasons)
    assert all(n.level > ordered[0].level for n in ordered[1:])


def test_the_demo_client_has_one_questionnaire_waiting(demo: DemoPractice) -> None:
    waiting = open_questionnaires_for_client(demo.demo_client_user, now=NOW)
    assert [q.assignment.instrument_id for q in waiting] == ["phq9"]
    assert Assignment.objects.exclude(status=AssignmentStatus.ANSWERED).count() == 1


def test_the_demo_therapists_workspace_has_exercises_notes_a_formulation_and_a_rupture_note(
    demo: DemoPractice,
) -> None:
    written = demo.workspace
    assert written is not None and written.clients == 1 + workspace.OTHER_CLIENTS
    mine = Episode.objects.filter(therapist=demo.demo_therapist, ended_on__isnull=True)
    story = demo.demo_client.episodes.get(ended_on__isnull=True)
    # Exercises set, and the demo client's own entries through her portal login, some private.
    assert (
        ExerciseAssignment.objects.filter(episode__in=mine).count()
        == written.exercises
        >= 2 * written.clients
    )
    entries = ExerciseEntry.objects.filter(assignment__episode=story)
    assert entries.count() == written.entries == ExerciseEntry.objects.count() >= 3
    assert entries.filter(private=True).exists() and entries.filter(private=False).exists()
    first = entries.order_by("recorded_at").first()
    assert first is not None and entry_answers(first.assignment, first)  # encrypted; opens with its context
    assert all(e.recorded_at < NOW for e in entries)
    page = ReadingShare.objects.get(episode=story)
    assert page.times_read == 1 and page.first_read_at is not None
    # Signed progress notes on past sessions.
    signed = ProgressNote.objects.filter(session__episode__in=mine, signed_at__isnull=False)
    assert signed.count() == written.progress_notes == workspace.NOTED_SESSIONS * written.clients
    assert all(n.session.starts_at < (n.signed_at or NOW) < NOW for n in signed.select_related("session"))
    # A formulation with its CCRT, and two goals each rated at several sessions.
    version = FormulationVersion.objects.get(episode=story)
    content = version.content
    assert content["presenting_problems"] and content["ccrt_wish"] and content["ccrt_response_of_other"]
    goals = Goal.objects.filter(episode=story)
    assert goals.count() == 2 and all(g.ratings.count() == workspace.RATED_SESSIONS for g in goals)
    assert (
        GoalRating.objects.count() == written.goal_ratings == 2 * workspace.RATED_SESSIONS * written.clients
    )
    # Her latest sessions transcribed and coded, each placed on her episode's charts by its number.
    numbers = {sid: n for n, (sid, _) in enumerate(attended_sessions([story.pk])[story.pk], start=1)}
    transcribed = Transcript.objects.filter(session__episode=story).order_by("session__starts_at")
    assert (
        written.transcripts == len(workspace.TRANSCRIPTS) == transcribed.count() == Transcript.objects.count()
    )
    held = [numbers.get(t.session_id) for t in transcribed]
    assert held == list(range(len(numbers) - written.transcripts + 1, len(numbers) + 1))  # the latest ones
    assert all(t.coded_at is not None and t.summary["turns"]["client"] > 0 for t in transcribed)
    assert all(t.session.starts_at < (t.coded_at or NOW) < NOW for t in transcribed.select_related("session"))
    # The rupture note and two themes on the demo client's session where her alliance fell.
    rupture = RuptureNote.objects.get()
    assert rupture.session.episode_id == story.pk and rupture.repaired == "yes"
    themes = SessionTheme.objects.filter(session=rupture.session)
    assert {t.kind for t in themes} == {"transference", "counter_transference"}
    wai_after = Response.objects.get(
        assignment__planned__occasion=str(rupture.session_id), instrument_id=answers.ALLIANCE_MEASURE
    )
    earlier = Response.objects.filter(
        assignment__episode=story,
        instrument_id=answers.ALLIANCE_MEASURE,
        submitted_at__lt=wai_after.submitted_at,
    ).order_by("-submitted_at")[: answers.RUPTURE_WINDOW]
    before = sum(_primary(r) for r in earlier) / answers.RUPTURE_WINDOW
    assert before - _primary(wai_after) > 0  # the note sits on the drop the chart shows
