"""Acting on a flag and the trace it leaves: the flag page shows how to reach the client (phone,
emergency contact) and links to the record for who may read it; the client page keeps a risk history
(every flag, what was answered, who acknowledged it and what was done) and marks questionnaires whose
risk item was left unanswered; the trajectory chart rings the scores that came with a risk answer."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Client, Episode
from spacebetween.insights import charts
from spacebetween.insights.presenters import episode_views
from spacebetween.measures.models import Response
from spacebetween.safety import escalation
from spacebetween.safety.models import RiskFlag
from spacebetween.safety.risk import flag_acknowledge
from spacebetween.safety.selectors import risk_history_for, risk_item_unanswered
from tests.conftest import signed_in
from tests.safety.conftest import RAISED, phq9, raise_flag

pytestmark = pytest.mark.django_db

ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"
DONE = "Contacted the client: phoned her; no plan or intent; safety plan agreed."
SVG = "{http://www.w3.org/2000/svg}"


def client_page(client: Client) -> str:
    return f"/clients/{client.pk}/"


def flag_page(flag: RiskFlag) -> str:
    return f"/risk-flags/{flag.pk}/"


def _acknowledge(actor: User, flag: RiskFlag) -> RiskFlag:
    return flag_acknowledge(actor=actor, flag=flag, action_taken=DONE, now=RAISED + dt.timedelta(hours=1))


def _with_contacts(alice: User, client: Client) -> Client:
    return clinical.client_update(
        actor=alice,
        client=client,
        phone="07700 900123",
        emergency_contact_name="Mark Jones",
        emergency_contact_relationship="Brother",
        emergency_contact_phone="+44 7700 900456",
    )


# ------------------------------------------------------------------------------ the risk history


def test_the_history_keeps_the_flag_after_acknowledgement(
    alice: User, client_record: Client, flag: RiskFlag
) -> None:
    _acknowledge(alice, flag)
    body = signed_in(alice).get(client_page(client_record)).content.decode()
    assert "Risk history" in body
    assert f'href="{flag_page(flag)}"' in body
    for shown in (
        "PHQ-9",
        ITEM_9,
        "Several days (1)",
        flag.get_severity_display(),
        "Submitted answers",
        "Acknowledged by Alice",
        DONE,
    ):
        assert shown in body, shown


def test_an_open_flag_is_in_the_history_as_open(alice: User, client_record: Client, flag: RiskFlag) -> None:
    body = signed_in(alice).get(client_page(client_record)).content.decode()
    assert "<strong>Open</strong>: not yet acknowledged" in body
    assert "Nothing recorded yet" in body


def test_the_history_is_newest_first(alice: User, episode: Episode) -> None:
    older = raise_flag(alice, episode)
    newer = raise_flag(alice, episode, RAISED + dt.timedelta(days=7))
    assert [e.flag.pk for e in risk_history_for([episode])] == [newer.pk, older.pk]


def test_a_client_without_flags_has_an_empty_history(alice: User, client_record: Client, episode) -> None:
    body = signed_in(alice).get(client_page(client_record)).content.decode()
    assert "No risk answers in the episodes you can see." in body


def test_the_supervisor_sees_the_history_of_a_shared_episode(
    sam: User, client_record: Client, shared_episode: Episode, flag: RiskFlag
) -> None:
    body = signed_in(sam).get(client_page(client_record)).content.decode()
    assert ITEM_9 in body


@pytest.mark.parametrize("who", ["bob", "oscar", "sam", "admin"])
def test_who_may_not_read_the_record_never_sees_the_history(
    request: pytest.FixtureRequest, who: str, client_record: Client, flag: RiskFlag
) -> None:
    """A colleague, another practice, a supervisor of an unshared episode, an admin: no record."""
    user = request.getfixturevalue(who)
    response = signed_in(user).get(client_page(client_record))
    assert response.status_code in (403, 404)
    assert ITEM_9 not in response.content.decode()


def test_the_client_never_sees_the_history(carol_user: User, client_record: Client, flag: RiskFlag) -> None:
    _acknowledge(client_record.primary_therapist, flag)
    http = signed_in(carol_user)
    assert http.get(client_page(client_record)).status_code in (302, 403, 404)
    portal = http.get("/portal/").content.decode()
    assert "Risk history" not in portal and DONE not in portal


@pytest.mark.parametrize("flags", [1, 5])
def test_the_history_is_one_query_whatever_the_number_of_flags(
    alice: User, episode: Episode, flags: int
) -> None:
    for n in range(flags):
        raise_flag(alice, episode, RAISED + dt.timedelta(days=n))
    with CaptureQueriesContext(connection) as queries:
        history = risk_history_for([episode])
        [entry.flag.acknowledged_by for entry in history]  # nothing read lazily
    assert len(history) == flags
    assert len(queries.captured_queries) == 1


def test_an_unanswered_risk_item_is_marked(alice: User, client_record: Client, episode: Episode) -> None:
    """The shipped definitions refuse a response without its risk item (a risk item is never
    prorated); an imported one whose risk item feeds no scale stores it with the rule's result None.
    That stored result is what the page reads, so the test writes it directly."""
    assignment = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=RAISED, now=RAISED
    )
    answering.response_submit(assignment=assignment, answers=phq9(0), via="link", now=RAISED)
    Response.objects.filter(assignment=assignment).update(risk={"phq9_9": None})
    assert list(risk_item_unanswered([episode])) == [assignment.pk]
    body = signed_in(alice).get(client_page(client_record)).content.decode()
    assert body.count("Risk item not answered") >= 2  # in the risk history and on the questionnaire


def test_an_answered_risk_item_is_not_marked(alice: User, episode: Episode) -> None:
    assignment = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=RAISED, now=RAISED
    )
    answering.response_submit(assignment=assignment, answers=phq9(0), via="link", now=RAISED)
    assert risk_item_unanswered([episode]) == {}


# ------------------------------------------------------------------------------ the flag page


def test_the_flag_page_shows_how_to_reach_the_client(
    alice: User, client_record: Client, flag: RiskFlag
) -> None:
    _with_contacts(alice, client_record)
    body = signed_in(alice).get(flag_page(flag)).content.decode()
    assert 'href="tel:07700900123"' in body
    assert "Mark Jones (Brother)" in body
    assert 'href="tel:+447700900456"' in body
    assert f'href="{client_page(client_record)}"' in body
    assert "Step 0: <strong>Alice</strong>" in body  # the treating therapist, told when raised
    assert "Low mood after bereavement" not in body  # nothing else of the record


def test_the_flag_page_says_severity_source_and_a_changed_answer(alice: User, flag: RiskFlag) -> None:
    RiskFlag.objects.filter(pk=flag.pk).update(last_value=0.0)
    body = signed_in(alice).get(flag_page(flag)).content.decode()
    assert flag.get_severity_display() in body
    assert "Submitted answers" in body
    assert "Latest answer" in body and "Not at all (0)" in body


def test_without_contacts_the_page_says_so(alice: User, flag: RiskFlag) -> None:
    body = signed_in(alice).get(flag_page(flag)).content.decode()
    assert "None recorded: add one on the client record" in body


def test_an_admin_told_by_escalation_sees_contacts_but_no_record_link(admin: User, bob: User) -> None:
    """Bob has no supervisor: his open flag goes to the practice admin, then to nobody."""
    client = clinical.client_create(
        actor=bob,
        given_name="Dan",
        family_name="Reed",
        phone="01632 960001",
        emergency_contact_name="Eve Reed",
        emergency_contact_phone="01632 960002",
    )
    episode = clinical.episode_open(
        actor=bob, client=client, referral_reason="Anxiety", started_on=dt.date(2026, 9, 1)
    )
    flag = raise_flag(bob, episode)
    escalation.escalate_due(now=RAISED + dt.timedelta(hours=5))
    escalation.escalate_due(now=RAISED + dt.timedelta(hours=10))
    flag.refresh_from_db()
    assert flag.unreachable_at is not None
    body = signed_in(admin).get(flag_page(flag)).content.decode()
    assert 'href="tel:01632960001"' in body
    assert "Eve Reed" in body
    assert f'href="{client_page(client)}"' not in body
    assert "Step 1: <strong>Admin</strong>" in body
    assert "Nobody left to tell" in body


# ------------------------------------------------------------------------------ the client form

CONTACT = {
    "given_name": "Carol",
    "family_name": "Jones",
    "preferred_name": "",
    "date_of_birth": "",
    "email": "carol@example.org",
    "phone": "",
    "country": "",
    "emergency_contact_name": "Mark Jones",
    "emergency_contact_relationship": "Brother",
    "emergency_contact_phone": "+44 (0)7700 900-456",
}


def test_the_form_saves_the_emergency_contact_and_country(alice: User, client_record: Client) -> None:
    response = signed_in(alice).post(f"/clients/{client_record.pk}/edit/", {**CONTACT, "country": "ie"})
    assert response.status_code == 302
    client_record.refresh_from_db()
    assert client_record.emergency_contact_name == "Mark Jones"
    assert client_record.emergency_contact_phone == "+44 (0)7700 900-456"
    assert client_record.country == "IE"


def test_a_new_client_may_have_an_emergency_contact(alice: User) -> None:
    response = signed_in(alice).post("/clients/new/", {**CONTACT, "given_name": "Dora"})
    assert response.status_code == 302
    assert Client.objects.get(given_name="Dora").emergency_contact_relationship == "Brother"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"emergency_contact_phone": ""}, "emergency_contact_phone", clinical.CONTACT_PHONE_REQUIRED),
        ({"emergency_contact_name": ""}, "emergency_contact_name", clinical.CONTACT_NAME_REQUIRED),
        ({"emergency_contact_phone": "call Mark"}, "emergency_contact_phone", clinical.CONTACT_PHONE_INVALID),
        (
            {"emergency_contact_name": "", "emergency_contact_phone": ""},
            "emergency_contact_relationship",
            clinical.CONTACT_RELATIONSHIP_ALONE,
        ),
        ({"country": "1E"}, "country", clinical.COUNTRY_INVALID),
    ],
)
def test_an_incomplete_contact_is_refused_on_its_field(
    alice: User, client_record: Client, changes: dict[str, str], field: str, message: str
) -> None:
    response = signed_in(alice).post(f"/clients/{client_record.pk}/edit/", {**CONTACT, **changes})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    client_record.refresh_from_db()
    assert client_record.emergency_contact_name == ""


def test_the_form_explains_the_country(alice: User, client_record: Client) -> None:
    body = signed_in(alice).get(f"/clients/{client_record.pk}/edit/").content.decode()
    assert "picks the crisis lines the client" in body
    assert "Emergency contact: phone" in body


# ------------------------------------------------------------------------------ the chart


def _chart(**kw: object) -> charts.Chart:
    return charts.trajectory_chart(
        title="PHQ-9",
        scale_min=0,
        scale_max=27,
        higher_is_better=False,
        scores=[(1, 18.0), (2, 15.0), (3, 12.0)],
        **kw,  # type: ignore[arg-type]
    )


def test_the_chart_rings_a_risk_answer_with_its_name() -> None:
    chart = _chart(risk_sessions=[2])
    root = ET.fromstring(chart.svg)  # noqa: S314 (our own output, not untrusted input)
    rings = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "sb-risk"]
    titles = [r.findtext(f"{SVG}title") for r in rings]
    assert "Session 2: risk answer" in titles
    assert [t for t in titles if t] == ["Session 2: risk answer"]  # the legend's ring has no tooltip
    legend = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "sb-legend"]
    assert "Risk answer (ringed score)" in legend
    assert ("2", "15", "", "", "Risk answer") in chart.table_rows
    assert "risk answer at session 2" in chart.summary


def test_a_chart_without_risk_answers_has_no_ring() -> None:
    chart = _chart()
    assert "sb-risk" not in chart.svg and "Risk answer" not in chart.svg


def test_a_risk_mark_needs_a_score() -> None:
    with pytest.raises(ValueError, match="no score at session 4"):
        _chart(risk_sessions=[4])


def test_the_client_page_chart_marks_the_risk_answer(alice: User, episode: Episode, flag: RiskFlag) -> None:
    clinical.session_create(
        actor=alice,
        episode=episode,
        starts_at=RAISED + dt.timedelta(hours=2),
        attendance=Attendance.ATTENDED,
    )
    ((_, view),) = episode_views(alice, [episode], episode.client.practice)
    assert 'class="sb-risk"' in view.outcomes[0].chart.svg
    ((_, for_client),) = episode_views(alice, [episode], episode.client.practice, for_client=True)
    assert "sb-risk" not in for_client.outcomes[0].chart.svg
