"""The writes: who may set, do, share and read; bad input is refused and changes nothing; what the
client writes is stored encrypted and never reaches the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode
from spacebetween.exercises import selectors, services
from spacebetween.exercises.models import ExerciseAssignment, ExerciseEntry, ReadingShare
from tests.conftest import FakeClock
from tests.exercises.conftest import THOUGHT_RECORD

pytestmark = pytest.mark.django_db


def _assign(actor: User, episode: Episode, **changes: object) -> ExerciseAssignment:
    kwargs: dict = {
        "actor": actor,
        "episode": episode,
        "exercise": "emotion-check-in",
        "frequency": "weekly",
        "starts_on": dt.date(2026, 10, 5),
        "ends_on": dt.date(2026, 10, 31),
    }
    return services.exercise_assign(**{**kwargs, **changes})


def test_the_treating_therapist_sets_an_exercise(alice: User, episode: Episode, today: dt.date) -> None:
    assignment = _assign(alice, episode)
    assert (assignment.exercise, assignment.frequency, assignment.assigned_by) == (
        "emotion-check-in",
        "weekly",
        alice,
    )
    event = AuditEvent.objects.filter(entity_type="ExerciseAssignment").get()
    assert (event.action, event.entity_id) == ("C", str(assignment.pk))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"exercise": "cold-showers"}, "exercise"),
        ({"frequency": "hourly"}, "frequency"),
        ({"ends_on": dt.date(2026, 10, 4), "starts_on": dt.date(2026, 10, 5)}, "ends_on"),
        ({"starts_on": dt.date(2026, 9, 1), "ends_on": dt.date(2026, 10, 4)}, "ends_on"),
        ({"ends_on": dt.date(2027, 12, 31)}, "ends_on"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    alice: User, episode: Episode, today: dt.date, changes: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _assign(alice, episode, **changes)
    assert field in refused.value.message_dict
    assert not ExerciseAssignment.objects.exists()


def test_a_colleague_or_a_supervisor_cannot_set_one(
    bob: User, sam: User, episode: Episode, today: dt.date
) -> None:
    for other in (bob, sam):
        with pytest.raises(PermissionDenied):
            _assign(other, episode)
    assert not ExerciseAssignment.objects.exists()
    assert AuditEvent.objects.filter(event_type="access-denied", detail="exercise-assign").count() == 2


def test_not_in_an_ended_episode(alice: User, episode: Episode, today: dt.date) -> None:
    clinical.episode_update(
        actor=alice,
        episode=episode,
        referral_reason=episode.referral_reason,
        started_on=episode.started_on,
        ended_on=dt.date(2026, 10, 1),
        end_reason="completed",
        shared_for_supervision=False,
    )
    with pytest.raises(ValidationError, match="ended"):
        _assign(alice, episode)


def test_the_client_records_an_entry_stored_encrypted(
    carol_user: User, assignment: ExerciseAssignment
) -> None:
    entry = services.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD)
    stored = ExerciseEntry.objects.get()
    assert "friend" not in stored.content and not stored.private
    shown = dict(selectors.entry_answers(assignment, entry))
    assert shown["What went through your mind?"] == "She is angry with me"
    assert shown["How strong is the feeling now? (0 to 100)"] == "40 out of 100"
    event = AuditEvent.objects.filter(entity_type="ExerciseEntry").get()
    assert (event.entity_id, event.purpose, event.detail) == (str(entry.pk), "PATRQT", "")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"situation": "  "}, "situation"),
        ({"feeling": "hangry"}, "feeling"),
        ({"intensity": "101"}, "intensity"),
        ({"intensity": "-5"}, "intensity"),
        ({"intensity_after": "lots"}, "intensity_after"),
        ({"thought": "x" * 2001}, "thought"),
    ],
)
def test_an_incomplete_or_wrong_entry_is_refused(
    carol_user: User, assignment: ExerciseAssignment, changes: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.entry_record(actor=carol_user, assignment=assignment, answers={**THOUGHT_RECORD, **changes})
    assert list(refused.value.message_dict) == [field]
    assert not ExerciseEntry.objects.exists()


def test_minutes_for_the_mindfulness_practice(
    alice: User, carol_user: User, episode: Episode, today: dt.date
) -> None:
    practice = _assign(alice, episode, exercise="mindful-breathing")
    with pytest.raises(ValidationError):
        services.entry_record(actor=carol_user, assignment=practice, answers={"minutes": "0"})
    entry = services.entry_record(actor=carol_user, assignment=practice, answers={"minutes": "7", "note": ""})
    assert selectors.entry_answers(practice, entry) == [("How many minutes did you practise?", "7 minutes")]


def test_only_the_clients_own_exercise(
    alice: User, carol_user: User, dave_user: User, dave_assignment: ExerciseAssignment
) -> None:
    for other in (carol_user, alice):
        with pytest.raises(PermissionDenied):
            services.entry_record(actor=other, assignment=dave_assignment, answers={})
    assert not ExerciseEntry.objects.exists()


def test_outside_its_window_or_once_stopped_nothing_is_saved(
    alice: User, carol_user: User, assignment: ExerciseAssignment, clock: FakeClock
) -> None:
    clock.advance(days=14)  # the window was 14 days from the first
    with pytest.raises(ValidationError, match="not open"):
        services.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD)
    clock.advance(days=-1)
    services.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD)
    services.exercise_withdraw(actor=alice, assignment=assignment)
    with pytest.raises(ValidationError, match="not open"):
        services.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD)
    with pytest.raises(ValidationError, match="already"):
        services.exercise_withdraw(actor=alice, assignment=assignment)
    assert ExerciseEntry.objects.count() == 1


def test_a_private_entry_shows_the_therapist_only_that_it_was_done(
    alice: User, carol_user: User, episode: Episode, assignment: ExerciseAssignment
) -> None:
    services.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD, private=True)
    shared = {**THOUGHT_RECORD, "thought": "Nobody ever calls"}
    services.entry_record(actor=carol_user, assignment=assignment, answers=shared)
    [row] = selectors.episode_entries(alice, episode).assignments
    assert row.done == 2
    assert [e.answers is None for e in row.entries] == [False, True]  # newest first
    assert "Nobody ever calls" in dict(row.entries[0].answers or [])["What went through your mind?"]


def test_sharing_a_page_once_and_recording_its_reading(
    alice: User, carol_user: User, bob: User, episode: Episode, clock: FakeClock
) -> None:
    share = services.page_share(actor=alice, episode=episode, page="emotions")
    with pytest.raises(ValidationError, match="already shared"):
        services.page_share(actor=alice, episode=episode, page="emotions")
    with pytest.raises(ValidationError):
        services.page_share(actor=alice, episode=episode, page="horoscopes")
    with pytest.raises(PermissionDenied):
        services.page_share(actor=bob, episode=episode, page="therapy")
    assert ReadingShare.objects.count() == 1
    first = clock.now
    services.page_read(actor=carol_user, share=share)
    clock.advance(days=1)
    read = services.page_read(actor=carol_user, share=share)
    assert (read.first_read_at, read.last_read_at, read.times_read) == (first, clock.now, 2)
    with pytest.raises(PermissionDenied):
        services.page_read(actor=alice, share=share)
