"""The practice's own exercises (exercises.own): a therapist writes one from building blocks, it is
checked field by field, set like a built-in one, done in the portal through the same form, and the
entry is stored encrypted; another practice never sees it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from spacebetween import crypto
from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.exercises import own, services
from spacebetween.exercises.models import ExerciseAssignment, ExerciseEntry, PracticeExercise
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

BLOCKS = [
    {"label": "What did you try?", "kind": "text", "required": True},
    {"label": "How calm are you now?", "kind": "scale10", "required": True},
    {"label": "Where did you do it?", "kind": "choice", "options": "At home\nOutside\nAt work"},
    {"label": "How long?", "kind": "minutes"},
    {"label": "How strong was the urge?", "kind": "intensity"},
]

FORM = {
    "title": "Urge surfing",
    "why": "An urge rises and falls like a wave. Watching it without acting can make it pass.",
    "steps": "Notice the urge.\nBreathe and watch it rise.\nNotice it fall.",
    "minutes": "10",
    "block_1_label": "What did you try?",
    "block_1_kind": "text",
    "block_1_required": "on",
    "block_2_label": "How calm are you now?",
    "block_2_kind": "scale10",
    "block_2_required": "on",
    "block_3_label": "Where did you do it?",
    "block_3_kind": "choice",
    "block_3_options": "At home\nOutside\nAt work",
}


def _write(actor: User, **changes: object) -> PracticeExercise:
    kwargs: dict = {
        "actor": actor,
        "title": "Urge surfing",
        "why": "An urge rises and falls like a wave.",
        "steps": "Notice the urge.\nWatch it.",
        "blocks": BLOCKS,
        "minutes": "10",
    }
    return own.practice_exercise_write(**{**kwargs, **changes})


def test_a_therapist_writes_one_from_the_blocks(alice: User) -> None:
    written = _write(alice)
    exercise = own.as_exercise(written)
    assert [(f.name, f.kind, f.required) for f in exercise.fields] == [
        ("q1", "text", True),
        ("q2", "scale10", True),
        ("q3", "choice", False),
        ("q4", "minutes", False),
        ("q5", "intensity", False),
    ]
    assert exercise.fields[2].options == ("At home", "Outside", "At work")
    assert exercise.steps == ("Notice the urge.", "Watch it.") and exercise.minutes == 10
    assert exercise.id in own.assignable(alice.practice_id)
    event = AuditEvent.objects.get(entity_type="PracticeExercise")
    assert (event.action, event.entity_id) == ("C", str(written.pk))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"why": "  "}, "why"),
        ({"steps": ""}, "steps"),
        ({"steps": "\n".join(f"step {n}" for n in range(11))}, "steps"),
        ({"blocks": []}, "block_1_label"),
        ({"blocks": [{}, {"label": "", "kind": "text"}]}, "block_2_label"),
        ({"blocks": [{"label": "Which?", "kind": "choice", "options": "Only one"}]}, "block_1_options"),
        ({"blocks": [{"label": "Which?", "kind": "choice", "options": "Same\nSame"}]}, "block_1_options"),
        ({"blocks": [{"label": "How?", "kind": "text", "options": "A\nB"}]}, "block_1_options"),
        ({"blocks": [{"label": "How?", "kind": "slider"}]}, "block_1_kind"),
        ({"minutes": "0"}, "minutes"),
        ({"minutes": "121"}, "minutes"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(alice: User, changes: dict, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _write(alice, **changes)
    assert field in refused.value.error_dict
    assert not PracticeExercise.objects.exists()
    assert not AuditEvent.objects.filter(entity_type="PracticeExercise").exists()


def test_the_same_title_twice_is_refused_until_the_first_is_retired(alice: User) -> None:
    first = _write(alice)
    with pytest.raises(ValidationError) as refused:
        _write(alice, title="urge SURFING")
    assert "title" in refused.value.error_dict
    own.practice_exercise_retire(actor=alice, written=first)
    assert _write(alice).pk != first.pk
    assert [w.pk for w in own.written_for(alice.practice_id)] != [first.pk]


def test_only_therapists_write_and_only_the_author_retires(
    alice: User, bob: User, sam: User, admin: User, carol_user: User
) -> None:
    for actor in (sam, admin, carol_user):
        with pytest.raises(PermissionDenied):
            _write(actor)
    written = _write(alice)
    with pytest.raises(PermissionDenied):
        own.practice_exercise_retire(actor=bob, written=written)
    written.refresh_from_db()
    assert written.retired_at is None
    assert own.as_exercise(written).id in own.assignable(bob.practice_id)  # bob may still set it


def test_set_done_and_seen_like_a_built_in_one(
    alice: User, carol_user: User, episode: Episode, today: dt.date
) -> None:
    therapist, client = signed_in(alice), signed_in(carol_user)
    response = therapist.post(reverse("practice_exercise_new"), FORM)
    assert response.status_code == 302 and response["Location"] == reverse("library")
    written = PracticeExercise.objects.get()
    assert "Urge surfing" in therapist.get(reverse("library")).content.decode()
    assign_page = therapist.get(reverse("exercise_assign", args=[episode.pk])).content.decode()
    assert "Urge surfing (written in this practice)" in assign_page
    response = therapist.post(
        reverse("exercise_assign", args=[episode.pk]),
        {
            "exercise": f"practice-{written.pk}",
            "frequency": "daily",
            "starts_on": "2026-10-05",
            "ends_on": "2026-10-18",
        },
    )
    assert response.status_code == 302
    assignment = ExerciseAssignment.objects.get()
    assert assignment.practice_exercise == written

    url = reverse("portal_exercise", args=[assignment.pk])
    assert "Urge surfing" in client.get(reverse("portal")).content.decode()
    page = client.get(url).content.decode()
    assert "An urge rises and falls" in page and "At home" in page and "Take about 10 minutes" in page
    bad = client.post(url, {"q1": "Breathing", "q2": "11", "q3": "At home"})
    assert bad.status_code == 400 and "Give a number from 0 to 10." in bad.content.decode()
    assert client.post(url, {"q1": "Breathing", "q2": "5", "q3": "On the moon"}).status_code == 400
    assert not ExerciseEntry.objects.exists()
    assert client.post(url, {"q1": "Breathing by the window", "q2": "7", "q3": "At home"}).status_code == 302

    entry = ExerciseEntry.objects.get()
    assert "Breathing by the window" not in entry.content  # stored encrypted
    stored = json.loads(crypto.decrypt(entry.content, context=services.entry_context(assignment.pk)))
    assert stored == {"q1": "Breathing by the window", "q2": 7, "q3": "At home"}
    detail = therapist.get(reverse("episode_between_sessions", args=[episode.pk])).content.decode()
    assert "Breathing by the window" in detail and "7 out of 10" in detail


def test_the_page_shows_errors_beside_the_fields(alice: User) -> None:
    response = signed_in(alice).post(
        reverse("practice_exercise_new"), {**FORM, "block_3_options": "Only one", "title": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Write an exercise for the practice" in body
    assert own.TITLE_NEEDED in body and own.OPTIONS_NEEDED in body
    assert not PracticeExercise.objects.exists()


def test_an_answer_outside_the_list_is_refused_by_the_service(
    alice: User, carol_user: User, episode: Episode, today: dt.date
) -> None:
    written = _write(alice)
    assignment = services.exercise_assign(
        actor=alice,
        episode=episode,
        exercise=f"practice-{written.pk}",
        frequency="once",
        starts_on=today,
        ends_on=today,
    )
    with pytest.raises(ValidationError) as refused:
        services.entry_record(
            actor=carol_user, assignment=assignment, answers={"q1": "x", "q2": "3", "q3": "On the moon"}
        )
    assert refused.value.message_dict == {"q3": [services.NOT_AN_OPTION]}
    assert not ExerciseEntry.objects.exists()


def test_another_practice_neither_sees_nor_sets_it(
    alice: User, oscar: User, episode: Episode, today: dt.date
) -> None:
    written = _write(alice)
    page = signed_in(oscar).get(reverse("library")).content.decode()
    assert "Between-sessions library" in page and "Urge surfing" not in page
    assert own.as_exercise(written).id not in own.assignable(oscar.practice_id)
    with pytest.raises(ValidationError):
        services.exercise_assign(
            actor=alice,
            episode=episode,
            exercise="practice-999999",
            frequency="daily",
            starts_on=today,
            ends_on=today,
        )
