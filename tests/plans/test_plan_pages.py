"""The measurement plan pages: /episodes/<id>/plan/ for the treating therapist, /practice/measurement-plan/
for the admin, and the plan and questionnaires on the client page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode
from spacebetween.core.schedule import PlanRow, When
from spacebetween.measures import selectors
from spacebetween.measures.models import MeasurementPlan
from spacebetween.plans import services as plans
from spacebetween.plans.forms import BOTH_SESSION_CHOICES, PLAN_INCOMPLETE
from tests.conftest import share_for_supervision, signed_in

NOW = dt.datetime(2026, 9, 7, 12, 0, tzinfo=dt.UTC)


def plan_url(episode: Episode) -> str:
    return reverse("episode_plan", kwargs={"episode_id": episode.pk})


PRACTICE_URL = "/practice/measurement-plan/"


# ------------------------------------------------------------------------------ the episode plan


def test_the_therapist_sees_the_plan_with_the_practice_default_ticked(alice: User, episode: Episode) -> None:
    response = signed_in(alice).get(plan_url(episode))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Patient Health Questionnaire-9 (PHQ-9)" in body
    assert 'name="phq9__follow_up_12" id="id_phq9__follow_up_12" checked' in body
    assert 'name="core10__intake" id="id_core10__intake">' in body  # not in the default


def test_the_therapist_saves_the_episode_plan(alice: User, episode: Episode) -> None:
    data = {"plan": "1", "phq9__intake": "on", "core10__every_n": "3", "gad7__follow_up_6": "on"}
    response = signed_in(alice).post(plan_url(episode), data)
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{episode.client_id}/#episode-{episode.pk}"
    assert selectors.episode_plan_rows(Episode.objects.get(pk=episode.pk)) == sorted(
        [
            PlanRow("phq9", When.INTAKE),
            PlanRow("core10", When.EVERY_NTH_SESSION, n=3),
            PlanRow("gad7", When.FOLLOW_UP, months=6),
        ]
    )


def test_every_nth_session_of_1_is_refused_on_its_field_and_nothing_is_written(
    alice: User, episode: Episode
) -> None:
    response = signed_in(alice).post(
        plan_url(episode), {"plan": "1", "phq9__intake": "on", "phq9__every_n": "1"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "phq9__every_n": ["Ensure this value is greater than or equal to 2."]
    }
    assert MeasurementPlan.objects.count() == 0


def test_every_session_and_every_nth_together_are_refused_and_nothing_is_written(
    alice: User, episode: Episode
) -> None:
    data = {"plan": "1", "phq9__every_session": "on", "phq9__every_n": "2"}
    response = signed_in(alice).post(plan_url(episode), data)
    assert response.status_code == 400
    assert response.context["form"].errors == {"phq9__every_n": [BOTH_SESSION_CHOICES]}
    assert MeasurementPlan.objects.count() == 0


def test_an_incomplete_post_does_not_empty_the_plan(alice: User, episode: Episode) -> None:
    plans.episode_plan_save(actor=alice, episode=episode, rows=[PlanRow("who5", When.INTAKE)])
    response = signed_in(alice).post(plan_url(episode), {})
    assert response.status_code == 400
    assert PLAN_INCOMPLETE in response.content.decode()
    assert selectors.episode_plan_rows(episode) == [PlanRow("who5", When.INTAKE)]


def test_an_instrument_of_the_disabled_licensed_pack_is_not_offered(alice: User, episode: Episode) -> None:
    response = signed_in(alice).get(plan_url(episode))
    assert "wai-sr__intake" not in response.content.decode()


def test_it_sends_anonymous_users_to_sign_in(episode: Episode) -> None:
    response = HttpClient().get(plan_url(episode))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_is_404_to_a_colleague(bob: User, episode: Episode) -> None:
    assert signed_in(bob).get(plan_url(episode)).status_code == 404


def test_a_colleague_cannot_save_it(bob: User, episode: Episode) -> None:
    response = signed_in(bob).post(plan_url(episode), {"plan": "1", "phq9__intake": "on"})
    assert response.status_code == 404
    assert MeasurementPlan.objects.count() == 0


def test_it_is_404_to_the_supervisor_of_an_episode_not_shared(sam: User, episode: Episode) -> None:
    assert signed_in(sam).get(plan_url(episode)).status_code == 404


def test_it_is_403_to_the_supervisor_of_a_shared_episode(sam: User, alice: User, episode: Episode) -> None:
    share_for_supervision(alice, episode)
    response = signed_in(sam).post(plan_url(episode), {"plan": "1", "phq9__intake": "on"})
    assert response.status_code == 403
    assert MeasurementPlan.objects.count() == 0


def test_it_is_403_to_the_admin(admin: User, episode: Episode) -> None:
    assert signed_in(admin).get(plan_url(episode)).status_code == 403


def test_it_is_403_to_the_client(carol_user: User, episode: Episode) -> None:
    assert signed_in(carol_user).get(plan_url(episode)).status_code == 403


def test_it_is_404_to_another_practice(oscar: User, episode: Episode) -> None:
    assert signed_in(oscar).get(plan_url(episode)).status_code == 404


# ------------------------------------------------------------------------------ the practice default


def test_the_admin_sees_the_built_in_default(admin: User) -> None:
    response = signed_in(admin).get(PRACTICE_URL)
    assert response.status_code == 200
    assert 'name="gad7__follow_up_3" id="id_gad7__follow_up_3" checked' in response.content.decode()


def test_the_admin_saves_the_practice_default(admin: User) -> None:
    response = signed_in(admin).post(
        PRACTICE_URL, {"plan": "1", "k10__intake": "on", "k10__end_of_episode": "on"}
    )
    assert response.status_code == 302
    assert selectors.practice_plan_rows(admin.practice) == [
        PlanRow("k10", When.END_OF_EPISODE),
        PlanRow("k10", When.INTAKE),
    ]


def test_wrong_input_on_the_practice_default_writes_nothing(admin: User) -> None:
    response = signed_in(admin).post(PRACTICE_URL, {"plan": "1", "k10__intake": "on", "k10__every_n": "many"})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["k10__every_n"]
    assert MeasurementPlan.objects.count() == 0


def test_the_practice_default_is_403_to_a_therapist(alice: User) -> None:
    assert signed_in(alice).post(PRACTICE_URL, {"plan": "1"}).status_code == 403
    assert MeasurementPlan.objects.count() == 0


def test_the_practice_default_is_403_to_a_client(carol_user: User) -> None:
    assert signed_in(carol_user).get(PRACTICE_URL).status_code == 403


def test_the_practice_default_is_403_to_a_therapist_of_another_practice(oscar: User) -> None:
    assert signed_in(oscar).get(PRACTICE_URL).status_code == 403


# ------------------------------------------------------------------------------ the client page


def test_the_client_page_shows_the_plan_its_questionnaires_and_the_link(
    alice: User, client_record: Client, episode: Episode
) -> None:
    plans.plan_apply(now=NOW)
    body = signed_in(alice).get(reverse("client_detail", args=[client_record.pk])).content.decode()
    assert "Patient Health Questionnaire-9 (PHQ-9): at intake, before every session, at the end" in body
    assert "3 months after the end, 6 months after the end, 12 months after the end" in body
    assert body.count('<span class="assignment-status due">Due</span>') == 2
    assert f'href="{plan_url(episode)}"' in body


def test_a_supervisor_of_a_shared_episode_sees_the_plan_without_the_link(
    alice: User, sam: User, client_record: Client, episode: Episode
) -> None:
    share_for_supervision(alice, episode)
    body = signed_in(sam).get(reverse("client_detail", args=[client_record.pk])).content.decode()
    assert "Measurement plan" in body
    assert plan_url(episode) not in body


@pytest.mark.parametrize("episodes", [1, 3])
def test_the_client_page_queries_do_not_grow_with_episodes(
    alice: User, client_record: Client, episodes: int
) -> None:
    for i in range(episodes):
        episode = clinical.episode_open(
            actor=alice, client=client_record, referral_reason="x", started_on=dt.date(2026, 9, 1 + i)
        )
        answering.assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=NOW, now=NOW)
    http = signed_in(alice)
    url = reverse("client_detail", args=[client_record.pk])
    http.get(url)
    with CaptureQueriesContext(connection) as ctx:
        http.get(url)
    ours = [q["sql"] for q in ctx.captured_queries if "measures_" in q["sql"]]
    # The instruments the practice uses, read once for the page's plans, charts and "Send a
    # questionnaire now" form (acceptances and imports, 2); the plans and the questionnaires (3); the
    # scores the insights chart (1); the risk history (flags keep their measures_ table) with its
    # unanswered risk items (2).
    assert len(ours) <= 8, ours
