"""The workspace and the client's data rights: the formulation, goals and reconsolidation work go into
the subject access archive; anonymisation blanks their encrypted text and keeps the de-identified
record; erasure deletes them with the rest."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, EndReason, Episode, Session
from spacebetween.formulation import services
from spacebetween.formulation.models import (
    FormulationVersion,
    Goal,
    GoalRating,
    MarkerCheck,
    ReconsolidationStep,
    ReconsolidationWork,
)
from spacebetween.notes import services as notes
from spacebetween.rights.erasure import client_erase
from tests.conftest import FakeClock, signed_in

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
TEXTS = (
    "To be cared for without owing",
    "Sleep through the night",
    "Freezes when shouted at",
    "Anger means leaving",
)


@pytest.fixture
def worked(alice: User, episode: Episode, held: list[Session], clock: FakeClock) -> Episode:
    clock.set(NOW)
    services.formulation_revise(actor=alice, episode=episode, fields={"ccrt_wish": TEXTS[0]})
    goal = services.goal_add(actor=alice, episode=episode, text=TEXTS[1])
    services.goal_rate(actor=alice, goal=goal, session=held[0], score=4)
    work = services.reconsolidation_start(
        actor=alice, episode=episode, symptom=TEXTS[2], emotional_truth=TEXTS[3]
    )
    for step, day in (("retrieval", 8), ("disconfirmation", 15), ("juxtaposition", 22)):
        services.reconsolidation_step_add(
            actor=alice, work=work, step=step, occurred_on=dt.date(2026, 9, day), text=f"{step} in her words"
        )
    services.marker_check_add(
        actor=alice,
        work=work,
        occasion="session",
        checked_on=dt.date(2026, 9, 29),
        results={"no_retrigger": "yes", "symptom_ceased": "partly", "effortless": "no"},
        note="No freeze this week",
    )
    return episode


def _end(alice: User, episode: Episode) -> None:
    clinical.episode_update(
        actor=alice,
        episode=episode,
        referral_reason=episode.referral_reason,
        started_on=episode.started_on,
        ended_on=dt.date(2026, 9, 30),
        end_reason=EndReason.COMPLETED,
        shared_for_supervision=False,
    )


def test_the_archive_holds_the_workspace_and_no_process_note(
    alice: User, worked: Episode, held: list[Session]
) -> None:
    notes.note_save(
        actor=alice, session=held[0], kind="process", body="Private musing about the mother", sign=True
    )
    response = signed_in(alice).post(f"/clients/{worked.client_id}/data-rights/export/")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    page = archive.read("formulation-and-goals.html").decode()
    for text in (*TEXTS, "retrieval in her words", "No freeze this week", "Partly"):
        assert text in page, text
    assert "08 Sep 2026: 4" in page  # the goal's rating at its session
    every_file = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Private musing" not in every_file


def test_anonymising_blanks_the_encrypted_text_and_keeps_the_record(
    alice: User, worked: Episode, client_record: Client
) -> None:
    _end(alice, worked)
    client_erase(actor=alice, client=client_record, mode="anonymise", confirm=str(client_record.pk))
    version, goal, work = (
        FormulationVersion.objects.get(),
        Goal.objects.get(),
        ReconsolidationWork.objects.get(),
    )
    assert version.content == {} and goal.text == "" and (work.symptom, work.emotional_truth) == ("", "")
    assert {s.text for s in ReconsolidationStep.objects.all()} == {""}
    check = MarkerCheck.objects.get()
    assert check.note == "" and check.results() == [
        ("no_retrigger", "yes"),
        ("symptom_ceased", "partly"),
        ("effortless", "no"),
    ]
    assert GoalRating.objects.get().score == 4 and ReconsolidationStep.objects.count() == 3


def test_erasing_deletes_the_workspace(
    alice: User, worked: Episode, client_record: Client, clock: FakeClock
) -> None:
    _end(alice, worked)
    clock.set(dt.datetime(2034, 10, 1, 9, 0, tzinfo=dt.UTC))
    client_erase(actor=alice, client=client_record, mode="erase", confirm=str(client_record.pk))
    for model in (
        FormulationVersion,
        Goal,
        GoalRating,
        ReconsolidationWork,
        ReconsolidationStep,
        MarkerCheck,
    ):
        assert not model.objects.exists(), model.__name__
