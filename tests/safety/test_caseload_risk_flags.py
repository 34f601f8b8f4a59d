"""Open risk flags come first on the therapist's caseload, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode
from spacebetween.insights.services import refresh_stale
from spacebetween.safety.escalation import escalate_due
from spacebetween.safety.models import RiskFlag
from spacebetween.safety.risk import flag_acknowledge
from spacebetween.web import views
from tests.conftest import signed_in
from tests.safety.conftest import RAISED, raise_flag
from tests.web.test_caseload import CASELOAD_QUERIES

pytestmark = pytest.mark.django_db

URL = "/caseload/"


def test_open_flags_come_before_the_caseload(alice: User, flag: RiskFlag) -> None:
    body = signed_in(alice).get(URL).content.decode()
    assert "Risk flags to review (1)" in body
    assert f'href="/risk-flags/{flag.pk}/"' in body
    assert body.index("Risk flags to review") < body.index("Active episodes")


def test_an_acknowledged_flag_leaves_the_caseload(alice: User, flag: RiskFlag) -> None:
    flag_acknowledge(actor=alice, flag=flag, action_taken="Phoned; safe.", now=RAISED)
    assert "Risk flags to review" not in signed_in(alice).get(URL).content.decode()


def test_a_colleague_does_not_see_the_flag(bob: User, flag: RiskFlag) -> None:
    assert "Risk flags to review" not in signed_in(bob).get(URL).content.decode()


def test_the_supervisor_sees_a_flag_escalated_to_them(sam: User, flag: RiskFlag) -> None:
    assert "Risk flags to review" not in signed_in(sam).get(URL).content.decode()
    escalate_due(now=RAISED + dt.timedelta(hours=5))
    body = signed_in(sam).get(URL).content.decode()
    assert "Risk flags to review (1)" in body
    assert "Escalated" in body


@pytest.mark.parametrize("n", [1, 8])
def test_the_number_of_queries_does_not_grow_with_the_flags(
    rf, alice: User, episode: Episode, django_assert_num_queries, n: int
) -> None:
    for i in range(n):
        client = clinical.client_create(actor=alice, given_name=f"Client{i}", family_name="Test")
        other = clinical.episode_open(
            actor=alice, client=client, referral_reason="Anxiety", started_on=dt.date(2026, 9, 1)
        )
        raise_flag(alice, other, RAISED + dt.timedelta(minutes=i))
    refresh_stale()  # what the worker does; pinned here: the caseload with nothing left to refresh
    request = rf.get(URL)
    request.user = User.objects.get(pk=alice.pk)
    with django_assert_num_queries(CASELOAD_QUERIES):
        response = views.caseload(request)
    assert response.content.decode().count('href="/risk-flags/') == n
