"""Goals attainment in the progress report (issue #17, part 3): each goal in the client's words with
its first and latest 0-10 rating and the change; the client's copy in plain words; the supervision
copy only for an episode shared for supervision; every goal shown audited as read."""

from __future__ import annotations

import pytest

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode, Session
from spacebetween.formulation import services
from tests.conftest import share_for_supervision, signed_in
from tests.insights.test_report import INTERNAL_WORDS, pdf_text

pytestmark = pytest.mark.django_db

GOAL = "Speak up at work meetings"


@pytest.fixture
def rated(alice: User, episode: Episode, held: list[Session]) -> Episode:
    """One goal rated 2, then 4, then 7 at the three held sessions; a second goal not rated yet."""
    goal = services.goal_add(actor=alice, episode=episode, text=GOAL)
    for session, score in zip(held, (2, 4, 7), strict=True):
        services.goal_rate(actor=alice, goal=goal, session=session, score=score)
    services.goal_add(actor=alice, episode=episode, text="Sleep through the night")
    return episode


def report_text(user: User, episode: Episode, audience: str) -> str:
    response = signed_in(user).get(f"/clients/{episode.client_id}/report.pdf?audience={audience}")
    assert response.status_code == 200
    return pdf_text(response.content)


def test_the_session_copy_has_each_goal_with_its_first_and_latest_rating(alice: User, rated: Episode) -> None:
    text = report_text(alice, rated, "session")
    assert "Progress report for the session" in text
    assert "Goals (goal-based outcomes, 0 to 10)" in text
    assert GOAL in text and "2 (session 1)" in text and "7 (session 3)" in text and "+5" in text
    assert "Sleep through the night" in text and "not rated yet" in text
    goals_read = AuditEvent.objects.filter(entity_type="Goal", action="R").count()
    assert goals_read == 2


def test_the_clients_copy_says_it_in_plain_words(alice: User, rated: Episode) -> None:
    text = report_text(alice, rated, "client")
    assert "Progress report for the client" in text
    assert "Your goals" in text
    assert "you rated it 2 out of 10 at first and 7 the last time" in " ".join(text.split())
    for words in INTERNAL_WORDS:
        assert words not in text, words


def test_the_supervision_copy_has_goals_only_for_an_episode_shared_for_supervision(
    alice: User, sam: User, rated: Episode
) -> None:
    text = report_text(alice, rated, "supervision")
    assert "Progress report for supervision" in text
    assert GOAL not in text
    share_for_supervision(alice, rated)
    for who in (sam, alice):
        assert GOAL in report_text(who, rated, "supervision")
