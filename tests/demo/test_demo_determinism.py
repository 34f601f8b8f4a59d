"""The same seed and day make the same demo practice, answer for answer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import TestCase

from spacebetween import crypto
from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.demo.generator import generate_demo_practice
from spacebetween.exercises.models import ExerciseAssignment, ExerciseEntry
from spacebetween.exercises.selectors import entry_answers
from spacebetween.formulation.models import FormulationVersion, GoalRating
from spacebetween.measures.models import Response
from spacebetween.notes.models import ProgressNote
from spacebetween.practice.models import Practice
from spacebetween.relationship.models import RuptureNote, SessionReflection
from spacebetween.relationship.services import note_context

TODAY = dt.date(2026, 11, 23)


def _snapshot(practice: Practice) -> str:
    """Everything the generator decided, by natural keys (no ids or creation times)."""
    users = User.objects.filter(practice=practice).select_related("supervisor").order_by("email")
    clients = Client.objects.filter(practice=practice).select_related("primary_therapist", "portal_user")

    def who(c: Client) -> str:
        return f"{c.given_name} {c.family_name} {c.date_of_birth}"

    episodes = Episode.objects.filter(client__practice=practice).select_related("client", "therapist")
    sessions = Session.objects.filter(episode__client__practice=practice).prefetch_related("participants")
    by_episode: dict[int, list[object]] = {}
    for s in sessions.order_by("starts_at", "id"):
        people = sorted(who(p) for p in s.participants.all())
        by_episode.setdefault(s.episode_id, []).append(
            [s.starts_at.isoformat(), s.duration_minutes, s.format, s.attendance, people]
        )
    answered = Response.objects.filter(assignment__episode__client__practice=practice).select_related(
        "assignment__episode"
    )
    for r in answered.order_by("submitted_at", "id"):
        by_episode.setdefault(r.assignment.episode_id, []).append(
            [
                r.instrument_id,
                r.submitted_at.isoformat(),
                r.answers,
                r.scores,
                r.assignment.due_at.isoformat(),
            ]
        )
    reflections = SessionReflection.objects.filter(session__episode__client__practice=practice)
    for f in reflections.select_related("session").order_by("session__starts_at"):
        note = crypto.decrypt(f.feelings_note, context=note_context(f.session_id)) if f.feelings_note else ""
        by_episode.setdefault(f.session.episode_id, []).append(
            [f.session.starts_at.isoformat(), f.answers, f.feelings, f.intensity, note]
        )
    emails: dict[int | None, str] = dict(User.objects.filter(practice=practice).values_list("pk", "email"))
    audit = AuditEvent.objects.filter(practice_id=practice.pk).order_by("seq")
    dump = {
        "practice": [practice.name, practice.time_zone, practice.country],
        "users": [
            [u.email, u.full_name, u.role, u.supervisor.email if u.supervisor else None, u.is_demo_account]
            for u in users
        ],
        "clients": sorted(
            [
                who(c),
                c.preferred_name,
                c.email,
                c.phone,
                c.primary_therapist.email,
                c.portal_user.email if c.portal_user else None,
            ]
            for c in clients
        ),  # fmt: skip
        "episodes": sorted(
            [
                who(e.client),
                e.therapist.email,
                e.referral_reason,
                str(e.started_on),
                str(e.ended_on),
                e.end_reason,
                e.shared_for_supervision,
                by_episode.get(e.pk, []),
            ]
            for e in episodes
        ),  # fmt: skip
        "audit": [[a.action, a.entity_type, emails.get(a.actor_id, a.actor_role), a.purpose] for a in audit],
        "workspace": _workspace(practice),
    }
    return json.dumps(dump, sort_keys=True, default=str)


def _workspace(practice: Practice) -> dict[str, object]:
    """The demo therapist's workspace (demo.workspace): how much of each, and what the client wrote
    and the therapist rated, by session time."""
    mine = {"episode__client__practice": practice}
    entries = ExerciseEntry.objects.filter(**{f"assignment__{k}": v for k, v in mine.items()})
    ratings = GoalRating.objects.filter(**{f"goal__{k}": v for k, v in mine.items()}).select_related(
        "session"
    )
    return {
        "exercises": ExerciseAssignment.objects.filter(**mine).count(),
        "entries": [
            [e.recorded_at.isoformat(), e.private, entry_answers(e.assignment, e)]
            for e in entries.select_related("assignment").order_by("recorded_at")
        ],
        "notes": ProgressNote.objects.filter(
            **{f"session__{k}": v for k, v in mine.items()}, signed_at__isnull=False
        ).count(),
        "formulations": FormulationVersion.objects.filter(**mine).count(),
        "ratings": sorted([r.session.starts_at.isoformat(), r.score] for r in ratings),
        "ruptures": RuptureNote.objects.filter(**{f"session__{k}": v for k, v in mine.items()}).count(),
    }


def _made(seed: int) -> str:
    """A snapshot of the demo made inside a transaction that is then rolled back. Without the
    history, which the plan-level tests (test_answers.py) cover, to keep this quick."""
    atomics = TestCase._enter_atomics()  # type: ignore[attr-defined]  # setUpTestData's own
    try:
        return _snapshot(generate_demo_practice(seed=seed, today=TODAY, history_completed=0).practice)
    finally:
        TestCase._rollback_atomics(atomics)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_same_seed_and_day_make_an_identical_practice() -> None:
    first = _made(7)
    assert first == _made(7)
    assert len(first) > 500_000  # the dump really holds the sessions and the answers
    assert '"phq9_9": 0' in first and '"bond"' in first  # answers and reflections
    workspace = json.loads(first)["workspace"]
    assert workspace["entries"] and workspace["ratings"] and workspace["notes"] and workspace["ruptures"] == 1
