"""The progress report (PDF) for the session, supervision or the client, and the practice's insight
rules: who may have which, what each contains, and that bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pypdfium2
import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.insights.models import InsightSettings
from spacebetween.insights.selectors import practice_mechanisms
from spacebetween.measures import services as measures
from spacebetween.measures.selectors import licensed_pack, pack_terms_digest
from spacebetween.relationship import services as relationship
from tests.conftest import share_for_supervision, signed_in


def report_url(episode, audience: str) -> str:
    return f"/clients/{episode.client_id}/report.pdf?audience={audience}"


def pdf_text(content: bytes) -> str:
    pdf = pypdfium2.PdfDocument(content)
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


@pytest.fixture
def reflected(alice, admin, course):
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    episode = course("Robin", phq9=[16, 17, 18, 19], wai_sr=[50, 52, 51, 40])
    for session in episode.sessions.all():
        relationship.reflection_record(
            actor=alice,
            session=session,
            answers={"bond": 6, "goals": 6, "tasks": 6, "overall": 6},
            feelings=["overinvolved"],
            intensity=4,
            note="Secret process note about my own reaction",
        )
    return episode


def test_the_session_copy_has_the_charts_the_signals_and_the_therapist_side(alice, reflected) -> None:
    response = signed_in(alice).get(report_url(reflected, "session"))
    assert response["Content-Type"] == "application/pdf"
    assert f"progress-report-{reflected.client_id}-session.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "Robin" in text
    assert "(PHQ-9)" in text
    assert "Signals" in text
    assert "overinvolved" in text  # the counter-transference check-in ("Special, overinvolved")
    assert "Secret process note" not in text  # never a psychotherapy note
    assert AuditEvent.objects.filter(event_type="export", entity_id=str(reflected.client_id)).exists()


def test_the_clients_copy_leaves_out_the_therapist_side_and_the_signals(alice, reflected) -> None:
    text = pdf_text(signed_in(alice).get(report_url(reflected, "client")).content)
    assert "(PHQ-9)" in text
    assert "overinvolved" not in text
    assert "Signals" not in text
    assert "Secret process note" not in text


def test_a_supervisor_may_print_the_supervision_copy_of_a_shared_episode_only(alice, sam, reflected) -> None:
    share_for_supervision(alice, reflected)
    supervisor = signed_in(sam)
    text = pdf_text(supervisor.get(report_url(reflected, "supervision")).content)
    assert "(PHQ-9)" in text
    assert "overinvolved" not in text  # the therapist's feelings are theirs to bring
    assert supervisor.get(report_url(reflected, "client")).status_code == 403
    assert supervisor.get(report_url(reflected, "session")).status_code == 403


def test_an_unknown_audience_is_refused_by_name(alice, reflected) -> None:
    before = AuditEvent.objects.filter(event_type="export").count()
    response = signed_in(alice).get(report_url(reflected, "everyone"))
    assert response.status_code == 400
    assert "session, supervision, client" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="export").count() == before


# ------------------------------------------------------------------------------ the practice's rules

RULES = "/practice/insights/"
VALID = {
    "no_improvement_by_session": "8",
    "overdue_after_days": "21",
    "alliance_drop_points": "6",
    "alliance_floor": "",
    "alliance_gap_points": "20",
    "alliance_gap_sessions": "3",
}


def test_the_admin_changes_the_rules_and_it_is_audited(admin) -> None:
    response = signed_in(admin).post(RULES, VALID)
    assert response.status_code == 302
    saved = InsightSettings.objects.get(practice=admin.practice)
    assert (saved.no_improvement_by_session, saved.overdue_after_days, saved.alliance_drop_points) == (
        8,
        21,
        6.0,
    )
    assert saved.alliance_floor is None
    event = AuditEvent.objects.get(entity_type="InsightSettings")
    assert "no_improvement_by_session" in event.detail


@pytest.mark.parametrize(
    ("field", "value"),
    [("no_improvement_by_session", "1"), ("overdue_after_days", "0"), ("alliance_drop_points", "-2")],
)
def test_impossible_rules_are_refused_naming_the_field_and_nothing_changes(admin, field, value) -> None:
    response = signed_in(admin).post(RULES, {**VALID, field: value})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="#id_{field}"' in body
    assert not InsightSettings.objects.exists()
    assert not AuditEvent.objects.filter(entity_type="InsightSettings").exists()


def test_the_refit_button_says_what_could_not_be_fitted_yet(admin, alice, course) -> None:
    http = signed_in(admin)
    response = http.post(RULES, {"refit": "1"}, follow=True)
    assert "No outcome measures with completed episodes yet" in response.content.decode()
    done = course("Done", phq9=[15, 12, 10, 8])
    clinical.episode_close(actor=alice, episode=done, ended_on=dt.date.today(), end_reason="completed")
    response = http.post(RULES, {"refit": "1"}, follow=True)
    assert "Not enough data yet for: phq9 (1 of 40 completed episodes)" in response.content.decode()


# ------------------------------------------------------------------------------ what moves with change


def _alliance_led_courses(course, clients: int) -> None:
    """Clients whose next-session PHQ-9 improvement is half their WAI-SR's distance from their own
    mean, plus a ±1 wobble that differs between clients (an exact fit would leave no residual)."""
    base = [4, -4, 2, -2, 0, 0]
    for c in range(clients):
        wobble = [1, -1, 0, 1, -1] if c % 2 else [-1, 0, 1, -1, 1]
        turn = c % 5
        d = base[turn:] + base[:turn]
        phq = [16]
        for t in range(5):
            phq.append(phq[-1] - d[t] // 2 - wobble[t])
        course(f"M{c}", phq9=phq, wai_sr=[48 + x for x in d])


def test_the_outcomes_page_pools_the_alliance_association_across_clients(admin, course) -> None:
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    _alliance_led_courses(course, 10)
    (found,) = [m for m in practice_mechanisms(admin.practice) if "WAI" in m.process and "PHQ-9" in m.outcome]
    assert found.n_clients == 10
    assert found.estimate is not None and found.ci_low is not None and found.ci_high is not None
    assert found.ci_low < 0.5 < found.ci_high
    body = signed_in(admin).get("/practice/outcomes/").content.decode()
    assert "What moves with change" in body
    assert "95% CI" in body


def test_no_claim_with_too_few_clients(admin, course) -> None:
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    _alliance_led_courses(course, 3)
    body = signed_in(admin).get("/practice/outcomes/").content.decode()
    assert "No claim:" in body
