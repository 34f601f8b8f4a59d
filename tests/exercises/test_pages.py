"""End to end through the pages: the therapist sets an exercise from the client page, the client does it
in the portal, the therapist sees it done and what was shared; a page is shared, read and shown read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.exercises.models import ExerciseAssignment, ExerciseEntry, ReadingShare
from tests.conftest import signed_in
from tests.exercises.conftest import THOUGHT_RECORD

pytestmark = pytest.mark.django_db


def test_from_setting_to_seeing_the_entry(
    alice: User, carol_user: User, episode: Episode, today: dt.date
) -> None:
    therapist, client = signed_in(alice), signed_in(carol_user)
    page = therapist.get(reverse("client_detail", args=[episode.client_id])).content.decode()
    assert "Between sessions" in page and reverse("exercise_assign", args=[episode.pk]) in page

    form = {
        "exercise": "thought-record",
        "frequency": "daily",
        "starts_on": "2026-10-05",
        "ends_on": "2026-10-18",
    }
    response = therapist.post(reverse("exercise_assign", args=[episode.pk]), form)
    assert response.status_code == 302
    assignment = ExerciseAssignment.objects.get()

    portal = client.get(reverse("portal")).content.decode()
    assert "Thought record" in portal and reverse("portal_exercise", args=[assignment.pk]) in portal
    exercise_page = client.get(reverse("portal_exercise", args=[assignment.pk])).content.decode()
    assert "Why this can help" in exercise_page and "not watched in real time" in exercise_page
    response = client.post(reverse("portal_exercise", args=[assignment.pk]), THOUGHT_RECORD)
    assert response.status_code == 302 and response["Location"] == reverse("portal")
    client.post(
        reverse("portal_exercise", args=[assignment.pk]),
        {**THOUGHT_RECORD, "thought": "I am hopeless at this", "private": "on"},
    )

    page = therapist.get(reverse("client_detail", args=[episode.client_id])).content.decode()
    assert "done 2 times" in page and "She is angry with me" not in page  # counts only on the client page
    detail = therapist.get(reverse("episode_between_sessions", args=[episode.pk])).content.decode()
    assert "She is angry with me" in detail and "I am hopeless at this" not in detail
    assert "The client kept this entry private." in detail
    shared = ExerciseEntry.objects.get(private=False)
    assert AuditEvent.objects.filter(
        entity_type="ExerciseEntry", entity_id=str(shared.pk), action="R"
    ).exists()


def test_a_wrong_entry_gets_a_clear_error_and_saves_nothing(
    carol_user: User, assignment: ExerciseAssignment
) -> None:
    response = signed_in(carol_user).post(
        reverse("portal_exercise", args=[assignment.pk]),
        {**THOUGHT_RECORD, "intensity": "200", "situation": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give a number from 0 to 100." in body and "Please fill this in." in body
    assert not ExerciseEntry.objects.exists()


def test_bad_dates_are_refused_on_the_page(alice: User, episode: Episode, today: dt.date) -> None:
    form = {
        "exercise": "thought-record",
        "frequency": "daily",
        "starts_on": "2026-10-05",
        "ends_on": "2026-10-01",
    }
    response = signed_in(alice).post(reverse("exercise_assign", args=[episode.pk]), form)
    assert response.status_code == 400
    assert "The last day must be on or after the first day." in response.content.decode()
    assert not ExerciseAssignment.objects.exists()


def test_a_client_cannot_open_another_clients_exercise(
    carol_user: User, dave_assignment: ExerciseAssignment
) -> None:
    http = signed_in(carol_user)
    assert http.get(reverse("portal_exercise", args=[dave_assignment.pk])).status_code == 404
    assert (
        http.post(reverse("portal_exercise", args=[dave_assignment.pk]), {"situation": "x"}).status_code
        == 404
    )
    assert not ExerciseEntry.objects.exists()
    assert "Other minds" not in http.get(reverse("portal")).content.decode()


def test_a_page_shared_read_and_shown_read(
    alice: User, carol_user: User, episode: Episode, today: dt.date
) -> None:
    therapist, client = signed_in(alice), signed_in(carol_user)
    therapist.post(reverse("reading_share", args=[episode.pk]), {"page": "self-compassion"})
    share = ReadingShare.objects.get()
    again = therapist.post(
        reverse("reading_share", args=[episode.pk]), {"page": "self-compassion"}, follow=True
    )
    assert "already shared" in again.content.decode()
    assert (
        "not read yet" in therapist.get(reverse("client_detail", args=[episode.client_id])).content.decode()
    )

    assert "Self-compassion and self-esteem" in client.get(reverse("portal")).content.decode()
    reading = client.get(reverse("portal_reading", args=[share.pk])).content.decode()
    assert "Where this comes from" in reading and "Neff, K. D. (2003)" in reading
    page = therapist.get(reverse("client_detail", args=[episode.client_id])).content.decode()
    assert "read 1 time" in page


def test_stopping_an_exercise_takes_it_off_the_portal(
    alice: User, carol_user: User, assignment: ExerciseAssignment
) -> None:
    signed_in(alice).post(reverse("exercise_withdraw", args=[assignment.pk]))
    assert "Thought record" not in signed_in(carol_user).get(reverse("portal")).content.decode()


def test_no_content_in_urls_or_the_audit_log(
    alice: User, carol_user: User, assignment: ExerciseAssignment
) -> None:
    signed_in(carol_user).post(reverse("portal_exercise", args=[assignment.pk]), THOUGHT_RECORD)
    signed_in(alice).get(reverse("episode_between_sessions", args=[assignment.episode_id]))
    for event in AuditEvent.objects.all():
        assert "friend" not in f"{event.detail} {event.entity_id}"
