"""The client's safety plan: versions written by the treating therapist only, refused input that
writes nothing, audit rows; the therapist's page, the printable copy, the client's portal and the
crisis page (tests/conftest.py's cast: alice treats Carol; carol_user is Carol's portal login)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.answering.services import assignment_create
from spacebetween.audit.models import Action, AuditEvent, Purpose
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, Episode
from spacebetween.delivery import services as delivery
from spacebetween.measures.models import Assignment
from spacebetween.safety import plans
from spacebetween.safety.models import SafetyPlan
from tests.conftest import PASSWORD, signed_in
from tests.delivery.helpers import CALM, answer_all, start_link

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 9, 15, 10, 0, tzinfo=dt.UTC)
FIRST = {
    "warning_signs": "Not sleeping; cancelling on friends",
    "coping_strategies": "A walk along the river",
    "people_to_ask": "My sister Ann, 07700 900123",
    "reasons_for_living": "My niece",
}
SECOND = {**FIRST, "coping_strategies": "A walk along the river; the breathing exercise"}


def save(actor: User, client: Client, sections: Mapping[str, object], now: dt.datetime = NOW) -> SafetyPlan:
    return plans.plan_save(actor=actor, client=client, sections=sections, now=now)


def plan_events(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(entity_type="SafetyPlan", **filters))


# ---------------------------------------------------------------------------------------- services


def test_each_save_is_the_next_version_and_old_versions_stay_as_they_were(
    alice: User, client_record: Client, episode: Episode
) -> None:
    first = save(alice, client_record, FIRST)
    second = save(alice, client_record, SECOND, NOW + dt.timedelta(days=7))
    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert first.coping_strategies == "A walk along the river"
    assert first.created_at == NOW and first.created_by == alice
    assert plans.current_plan(client_record) == second
    assert [p.version for p in plans.plan_versions(client_record)] == [2, 1]
    assert plans.current_plan(client_record).distractions == ""  # type: ignore[union-attr]


def test_a_save_is_audited_as_a_create_for_treatment(
    alice: User, client_record: Client, episode: Episode
) -> None:
    plan = save(alice, client_record, FIRST)
    [event] = plan_events(action=Action.CREATE)
    assert (event.actor_id, event.entity_id, event.purpose) == (alice.pk, str(plan.pk), Purpose.TREATMENT)
    assert FIRST["people_to_ask"] not in event.detail


def test_every_version_of_one_client_is_numbered_apart_from_another_clients(
    alice: User, client_record: Client, episode: Episode
) -> None:
    other = clinical.client_create(actor=alice, given_name="Dan", family_name="Reed")
    clinical.episode_open(
        actor=alice, client=other, referral_reason="Anxiety", started_on=dt.date(2026, 9, 1)
    )
    save(alice, client_record, FIRST)
    assert save(alice, other, FIRST).version == 1


@pytest.mark.parametrize("who", ["bob", "sam", "admin", "carol_user", "oscar"])
def test_only_the_treating_therapist_may_write_and_refusals_are_audited(
    who: str, shared_episode: Episode, client_record: Client, request: pytest.FixtureRequest
) -> None:
    # Shared for supervision: even the supervisor, who may read it, may not write it.
    actor: User = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        save(actor, client_record, FIRST)
    assert not SafetyPlan.objects.exists()
    denied = AuditEvent.objects.filter(event_type="access-denied", actor_id=actor.pk, detail="safety-plan")
    assert denied.count() == 1


def test_no_plan_is_written_without_an_open_episode(
    alice: User, client_record: Client, episode: Episode
) -> None:
    clinical.episode_update(
        actor=alice,
        episode=episode,
        referral_reason=episode.referral_reason,
        started_on=episode.started_on,
        ended_on=dt.date(2026, 9, 10),
        end_reason="completed",
        shared_for_supervision=False,
    )
    with pytest.raises(PermissionDenied):
        save(alice, client_record, FIRST)
    assert not SafetyPlan.objects.exists()


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({}, "__all__"),
        ({name: "  \r\n " for name in plans.SECTION_NAMES}, "__all__"),
        ({**FIRST, "distractions": "x" * (plans.MAX_SECTION_LENGTH + 1)}, "distractions"),
        ({**FIRST, "professionals": 42}, "professionals"),
        ({**FIRST, "hobbies": "Chess"}, "__all__"),
    ],
    ids=["nothing", "only-blanks", "too-long", "not-text", "unknown-section"],
)
def test_bad_input_names_the_field_and_changes_nothing(
    alice: User, client_record: Client, episode: Episode, sections: dict[str, object], field: str
) -> None:
    save(alice, client_record, FIRST)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        save(alice, client_record, sections)
    assert field in refused.value.message_dict
    assert [p.version for p in plans.plan_versions(client_record)] == [1]
    assert AuditEvent.objects.count() == events


def test_a_section_is_counted_as_the_client_sees_it(
    alice: User, client_record: Client, episode: Episode
) -> None:
    # 2000 one-letter lines typed in a browser arrive with CRLF: 5998 characters sent, 3999 on screen.
    typed = "\r\n".join(["a"] * 2000)
    plan = save(alice, client_record, {"warning_signs": typed})
    assert plan.warning_signs == "\n".join(["a"] * 2000)


# ------------------------------------------------------------------------------------------- pages


def page(client: Client) -> str:
    return reverse("safety_plan", kwargs={"client_id": client.pk})


def print_page(client: Client) -> str:
    return reverse("safety_plan_print", kwargs={"client_id": client.pk})


PORTAL_PLAN = reverse("portal_safety_plan")


def test_the_therapist_writes_the_plan_on_its_page(
    alice: User, client_record: Client, episode: Episode
) -> None:
    http = signed_in(alice)
    body = http.get(page(client_record)).content.decode()
    assert "No safety plan has been written yet." in body
    for section in plans.SECTIONS:
        assert section.heading in body and section.prompt in body
    response = http.post(page(client_record), FIRST)
    assert response.status_code == 302 and response["Location"] == page(client_record)
    body = http.get(page(client_record)).content.decode()
    assert "Safety plan saved as version 1." in body
    assert "My sister Ann, 07700 900123</textarea>" in body  # the next version starts from this one
    assert "written by Alice" in body

    http.post(page(client_record), SECOND)
    body = http.get(page(client_record)).content.decode()
    assert "the breathing exercise</textarea>" in body
    assert (
        f"{print_page(client_record)}?version=1" in body and f"{print_page(client_record)}?version=2" in body
    )
    assert [p.version for p in plans.plan_versions(client_record)] == [2, 1]


def test_reading_the_page_is_audited(alice: User, client_record: Client, episode: Episode) -> None:
    signed_in(alice).get(page(client_record))
    assert AuditEvent.objects.filter(
        action=Action.READ, entity_type="Client", entity_id=str(client_record.pk), actor_id=alice.pk
    ).exists()
    plan = save(alice, client_record, FIRST)
    signed_in(alice).get(page(client_record))
    assert plan_events(action=Action.READ, entity_id=str(plan.pk), purpose=Purpose.TREATMENT)


def test_a_refused_save_shows_the_problem_and_writes_nothing(
    alice: User, client_record: Client, episode: Episode
) -> None:
    response = signed_in(alice).post(page(client_record), {"warning_signs": "   "})
    assert response.status_code == 400
    assert plans.ALL_EMPTY in response.content.decode()
    too_long = signed_in(alice).post(page(client_record), {"reasons_for_living": "y" * 4001})
    assert too_long.status_code == 400
    assert f"What keeps me going: {plans.TOO_LONG}" in too_long.content.decode()
    assert not SafetyPlan.objects.exists()


def test_a_supervisor_reads_a_shared_plan_but_cannot_change_it(
    alice: User, sam: User, client_record: Client, shared_episode: Episode
) -> None:
    save(alice, client_record, FIRST)
    http = signed_in(sam)
    body = http.get(page(client_record)).content.decode()
    assert "You can read this plan but not change it" in body
    assert "My sister Ann" in body and "<textarea" not in body
    assert http.post(page(client_record), SECOND).status_code == 403
    assert SafetyPlan.objects.count() == 1


@pytest.mark.parametrize("who", ["bob", "oscar"])
def test_another_therapist_gets_404_on_every_plan_page(
    who: str, alice: User, client_record: Client, episode: Episode, request: pytest.FixtureRequest
) -> None:
    save(alice, client_record, FIRST)
    http = signed_in(request.getfixturevalue(who))
    for url in (page(client_record), print_page(client_record), f"{print_page(client_record)}?version=1"):
        response = http.get(url)
        assert response.status_code == 404
        assert "My sister Ann" not in response.content.decode()
    assert http.post(page(client_record), SECOND).status_code == 404
    assert SafetyPlan.objects.count() == 1


def test_the_printable_copy_shows_the_latest_or_the_asked_version(
    alice: User, client_record: Client, episode: Episode
) -> None:
    save(alice, client_record, FIRST)
    save(alice, client_record, SECOND)
    http = signed_in(alice)
    latest = http.get(print_page(client_record)).content.decode()
    assert "the breathing exercise" in latest and "Version 2" in latest
    assert "@media print" not in latest  # the print rules live in the stylesheet (the CSP forbids inline)
    assert 'src="/static/spacebetween/print.js"' in latest and "data-print hidden" in latest
    earlier = http.get(f"{print_page(client_record)}?version=1").content.decode()
    assert "Version 1" in earlier and "the breathing exercise" not in earlier
    for wrong in ("3", "abc", "-1"):
        assert http.get(f"{print_page(client_record)}?version={wrong}").status_code == 404


def test_the_client_sees_the_latest_version_in_the_portal(
    alice: User, carol_user: User, client_record: Client, episode: Episode
) -> None:
    http = signed_in(carol_user)
    assert reverse("portal_safety_plan") not in http.get(reverse("portal")).content.decode()
    assert "You do not have a safety plan here yet." in http.get(PORTAL_PLAN).content.decode()

    save(alice, client_record, {**FIRST, "coping_strategies": "Old idea"})
    plan = save(alice, client_record, SECOND)
    assert reverse("portal_safety_plan") in http.get(reverse("portal")).content.decode()
    body = http.get(PORTAL_PLAN).content.decode()
    assert "<h1>Your safety plan</h1>" in body
    assert "the breathing exercise" in body and "Old idea" not in body
    assert "<textarea" not in body
    assert plan_events(
        action=Action.READ, entity_id=str(plan.pk), actor_id=carol_user.pk, purpose=Purpose.PATIENT_REQUEST
    )


def test_another_client_sees_only_their_own_plan(
    alice: User, practice: object, client_record: Client, episode: Episode
) -> None:
    save(alice, client_record, FIRST)
    dan_user = user_create(
        practice=practice,  # type: ignore[arg-type]
        email="dan@example.org",
        full_name="Dan Reed",
        role=Role.CLIENT,
        password=PASSWORD,
    )
    dan = clinical.client_create(actor=alice, given_name="Dan", family_name="Reed")
    clinical.client_portal_link(actor=alice, client=dan, portal_user=dan_user)
    http = signed_in(dan_user)
    body = http.get(PORTAL_PLAN).content.decode()
    assert "You do not have a safety plan here yet." in body and "My sister Ann" not in body
    # Staff pages are not a client's, whoever's record they name.
    assert http.get(page(client_record)).status_code == 403
    assert http.get(print_page(client_record)).status_code == 403


# ------------------------------------------------------------------------------------ crisis page


@pytest.fixture
def assignment(alice: User, episode: Episode) -> Assignment:
    return assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=clock.now())


def crisis_page(http: HttpClient, answer: str, review: str, done: str) -> str:
    answer_all(http, answer, {**CALM, "phq9_9": 1})
    assert http.post(review)["Location"] == done
    body = http.get(done).content.decode()
    assert "If you need help now" in body
    return body


@pytest.mark.parametrize("via", ["portal", "link"])
def test_the_crisis_page_shows_the_clients_plan_below_the_crisis_lines(
    via: str, alice: User, carol_user: User, client_record: Client, assignment: Assignment
) -> None:
    plan = save(alice, client_record, FIRST)
    if via == "portal":
        http = signed_in(carol_user)
        kw = {"assignment_id": assignment.pk}
        urls = [reverse(n, kwargs=kw) for n in ("portal_answer", "portal_review", "portal_done")]
    else:
        http = start_link(delivery.link_issue(actor=alice, assignment=assignment))
        urls = [reverse(n) for n in ("link_answer", "link_review", "link_done")]
    body = crisis_page(http, *urls)
    assert "Your safety plan" in body
    # Below the crisis lines, never instead of them.
    assert (
        body.index('class="crisis-resources"') < body.index("Your safety plan") < body.index("My sister Ann")
    )
    assert "A walk along the river" in body and "My niece" in body
    # Only the sections written: a crisis is no time for empty boxes.
    assert "People and places that take my mind off things" not in body
    assert plan_events(action=Action.READ, entity_id=str(plan.pk), purpose=Purpose.PATIENT_REQUEST)


def test_the_crisis_page_without_a_plan_says_nothing_of_one(carol_user: User, assignment: Assignment) -> None:
    kw = {"assignment_id": assignment.pk}
    urls = [reverse(n, kwargs=kw) for n in ("portal_answer", "portal_review", "portal_done")]
    body = crisis_page(signed_in(carol_user), *urls)
    assert "Your safety plan" not in body


def test_the_client_record_links_the_plan(alice: User, client_record: Client, episode: Episode) -> None:
    body = signed_in(alice).get(reverse("client_detail", kwargs={"client_id": client_record.pk})).content
    assert f'href="{page(client_record)}"'.encode() in body
