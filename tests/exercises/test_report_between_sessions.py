"""The progress report lists what was set and read between sessions: per episode, each exercise,
how often, how many times done and when last, and the pages shared and read. Never what the client
wrote; the supervision copy only for an episode shared for supervision."""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode
from spacebetween.exercises import services
from spacebetween.exercises.models import ExerciseAssignment
from tests.conftest import FakeClock, share_for_supervision, signed_in
from tests.exercises.conftest import THOUGHT_RECORD
from tests.insights.test_report import INTERNAL_WORDS, pdf_text

pytestmark = pytest.mark.django_db

SECRET = "She is angry with me"  # what the client wrote: in no copy


@pytest.fixture
def practised(
    alice: User, carol_user: User, episode: Episode, assignment: ExerciseAssignment, clock: FakeClock
) -> Episode:
    """Carol did her thought record twice (the second kept private) and read one shared page twice."""
    services.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD)
    clock.set(dt.datetime(2026, 10, 7, 18, 0, tzinfo=dt.UTC))
    services.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD, private=True)
    share = services.page_share(actor=alice, episode=episode, page="emotions")
    services.page_read(actor=carol_user, share=share)
    services.page_read(actor=carol_user, share=share)
    return episode


def report(user: User, episode: Episode, audience: str) -> tuple[str, str]:
    """The copy as the HTML the PDF is made from (tables keep their cells there) and as PDF text."""
    response = signed_in(user).get(f"/clients/{episode.client_id}/report.pdf?audience={audience}")
    assert response.status_code == 200
    return response.content, pdf_text(response.content)  # type: ignore[return-value]


def test_the_session_copy_lists_the_exercises_and_pages_without_content(
    alice: User, practised: Episode
) -> None:
    _, text = report(alice, practised, "session")
    assert "Progress report for the session" in text
    assert "Between sessions" in text
    assert "Thought record" in text and "Every day" in text
    assert "5 Oct 2026 to 18 Oct 2026" in text  # the window
    assert "Exercises set and how often they were done" in text
    assert "7 Oct 2026" in text  # last done (the private entry counts: that it was done is not content)
    assert "Pages shared and read" in text and "How emotions work" in text
    assert SECRET not in text and "Low mood" not in text


def test_the_clients_copy_says_it_in_plain_words(alice: User, practised: Episode) -> None:
    _, text = report(alice, practised, "client")
    assert "Progress report for the client" in text
    assert "Thought record (every day): you did it 2 times, last on 7 Oct 2026." in text
    assert "you read it 2 times" in text
    assert SECRET not in text
    for words in INTERNAL_WORDS:
        assert words not in text, words


def test_the_supervision_copy_has_it_only_for_an_episode_shared_for_supervision(
    alice: User, sam: User, practised: Episode
) -> None:
    _, text = report(alice, practised, "supervision")
    assert "Progress report for supervision" in text
    assert "Thought record" not in text and "Between sessions" not in text  # not shared: no episode at all
    share_for_supervision(alice, practised)
    for who in (sam, alice):
        _, text = report(who, practised, "supervision")
        assert "Between sessions" in text and "Thought record" in text and "How emotions work" in text
        assert SECRET not in text
