"""The workspace pages: the treating therapist writes through them; a supervisor reads a shared
episode; bad input is a 400 that changes nothing; every page read is audited."""

from __future__ import annotations

import re

import pytest

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode, Session
from spacebetween.formulation import services
from spacebetween.formulation.chart import goals_chart
from spacebetween.formulation.models import FormulationVersion, Goal, GoalRating
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_revise_compare_and_rate_end_to_end(alice: User, episode: Episode, held: list[Session]) -> None:
    http = signed_in(alice)
    url = f"/episodes/{episode.pk}/formulation/revise/"
    assert http.post(url, {"ccrt_wish": "To be cared for", "measures": ["phq9"]}).status_code == 302
    assert http.post(url, {"ccrt_wish": "To be cared for, safely", "strengths": "Humour"}).status_code == 302
    assert FormulationVersion.objects.count() == 2
    page = http.get(f"/episodes/{episode.pk}/formulation/compare/").content.decode()
    assert "3 parts changed" in page  # wish, strengths, measures
    assert page.count("<strong>Changed</strong>") == 3
    assert "To be cared for, safely" in page and "To be cared for<" in page
    assert http.post(f"/episodes/{episode.pk}/goals/", {"text": "Sleep through"}).status_code == 302
    goal = Goal.objects.get()
    for session, score in ((held[0], 3), (held[2], 6)):
        response = http.post(
            f"/episodes/{episode.pk}/goals/rate/", {"goal": goal.pk, "session": session.pk, "score": score}
        )
        assert response.status_code == 302
    page = http.get(f"/episodes/{episode.pk}/workspace/").content.decode()
    assert "+3 points" in page and "Sleep through" in page
    assert "not yet verified" in page
    assert "<svg" in page and "Goals, rated 0 to 10" in page
    assert AuditEvent.objects.filter(action="R", entity_type="Goal", entity_id=str(goal.pk)).exists()


def test_bad_input_is_400_and_changes_nothing(alice: User, episode: Episode, held: list[Session]) -> None:
    http = signed_in(alice)
    goal = services.goal_add(actor=alice, episode=episode, text="Sleep")
    response = http.post(
        f"/episodes/{episode.pk}/goals/rate/", {"goal": goal.pk, "session": held[0].pk, "score": 11}
    )
    assert response.status_code == 400
    assert "Error" in response.content.decode()
    assert not GoalRating.objects.exists()
    response = http.post(f"/episodes/{episode.pk}/formulation/revise/", {})
    assert response.status_code == 400 and "Write at least one part" in response.content.decode()
    assert http.get(f"/episodes/{episode.pk}/formulation/compare/?before=1&after=9").status_code == 400


def test_a_supervisor_reads_a_shared_episode_but_cannot_write(
    alice: User, sam: User, shared_episode: Episode
) -> None:
    services.formulation_revise(actor=alice, episode=shared_episode, fields={"strengths": "Persistent"})
    http = signed_in(sam)
    page = http.get(f"/episodes/{shared_episode.pk}/workspace/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Persistent" in body and "Revise the formulation" not in body
    assert http.post(f"/episodes/{shared_episode.pk}/goals/", {"text": "x"}).status_code == 403
    assert not Goal.objects.exists()


def test_the_client_page_links_to_the_workspace(alice: User, episode: Episode) -> None:
    page = signed_in(alice).get(f"/clients/{episode.client_id}/").content.decode()
    assert f"/episodes/{episode.pk}/workspace/" in page


def test_the_goals_chart_has_a_data_table_and_refuses_bad_ratings() -> None:
    chart = goals_chart(
        title="Goals", goals=[("Goal 1", [(1, 2), (3, 7)]), ("Goal 2", [(2, 5)])], sessions=[1, 2, 3]
    )
    assert chart.table_headers == ("Session", "Goal 1", "Goal 2")
    assert chart.table_rows == (("1", "2", ""), ("2", "", "5"), ("3", "7", ""))
    assert re.search(r'role="img"', chart.svg) and "+5" in chart.summary
    with pytest.raises(ValueError):
        goals_chart(title="Goals", goals=[("Goal 1", [(1, 12)])])
