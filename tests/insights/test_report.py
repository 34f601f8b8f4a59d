"""The progress report (PDF) for the session, supervision or the client, and the practice's insight
rules: who may have which, what each contains, and that bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pypdfium2
import pytest

from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.core import mechanisms
from spacebetween.insights.models import InsightSettings
from spacebetween.insights.selectors import practice_mechanisms
from spacebetween.measures import services as measures
from spacebetween.measures.selectors import licensed_pack, pack_terms_digest
from spacebetween.relationship import services as relationship
from spacebetween.relationship.models import SessionReflection
from tests.conftest import share_for_supervision, signed_in


def report_url(episode, audience: str) -> str:
    return f"/clients/{episode.client_id}/report.pdf?audience={audience}"


def pdf_text(content: bytes) -> str:
    """The text of every page, with each run of white space (line breaks included) as one space."""
    pdf = pypdfium2.PdfDocument(content)
    return " ".join(" ".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf)))


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


def test_the_session_copy_has_the_charts_the_signals_and_the_therapist_ratings(alice, reflected) -> None:
    response = signed_in(alice).get(report_url(reflected, "session"))
    assert response["Content-Type"] == "application/pdf"
    assert f"progress-report-{reflected.client_id}-session.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "Robin" in text
    assert "(PHQ-9)" in text
    assert "Signals" in text
    assert "Therapist: Session rating" in text  # the therapist's view of the relationship, in the legend
    # The check-ins are the therapist's private notes: in a report only where they chose so.
    assert "overinvolved" not in text
    assert "Contains no psychotherapy notes" in text
    assert "Secret process note" not in text  # never a psychotherapy note
    assert AuditEvent.objects.filter(event_type="export", entity_id=str(reflected.client_id)).exists()


def test_the_therapist_may_include_their_check_ins_in_the_session_copy_and_it_says_so(
    alice, reflected
) -> None:
    text = pdf_text(signed_in(alice).get(report_url(reflected, "session") + "&checkins=include").content)
    assert "Robin" in text and "(PHQ-9)" in text
    assert "overinvolved" in text  # "Special, overinvolved"
    assert "Includes your counter-transference check-ins" in text
    assert "Contains no psychotherapy notes" not in text  # it does contain the therapist's private notes
    assert "Secret process note" not in text  # the note itself never
    event = AuditEvent.objects.filter(event_type="export").latest("pk")
    assert event.detail == "progress report session with check-ins"


def test_the_clients_copy_leaves_out_the_therapist_side_and_the_signals(alice, reflected) -> None:
    text = pdf_text(signed_in(alice).get(report_url(reflected, "client") + "&checkins=include").content)
    assert "(PHQ-9)" in text
    assert "overinvolved" not in text
    assert "Signals" not in text
    assert "Secret process note" not in text


@pytest.fixture
def flagged(alice, admin, course):
    """A course with signals, caseness lines and a possible rupture: a reliable deterioration on the
    PHQ-9 (10 to 17), the GAD-7 above its caseness line, the WAI-SR falling 11 points at session 4."""
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    return course("Robin", phq9=[10, 12, 14, 17], gad7=[12, 13, 14, 15], wai_sr=[50, 52, 51, 40])


INTERNAL_WORDS = (
    "Not on track",
    "not on track",
    "Needs attention",
    "Reliable deterioration",
    "Signals",
    "Possible rupture",
    "probable",
    "caseness",
    "Caseness",
    "clinical range",
    "Cut-off",
)


def test_the_clients_copy_has_no_internal_signal_and_no_diagnostic_label(alice, flagged) -> None:
    http = signed_in(alice)
    session_text = pdf_text(http.get(report_url(flagged, "session")).content)
    # The same course, for the session: the words are there to leave out.
    for words in ("Needs attention", "Reliable deterioration", "probable generalized anxiety disorder"):
        assert words in session_text
    assert "Possible rupture" in session_text
    client_text = pdf_text(http.get(report_url(flagged, "client")).content)
    assert "Progress report for the client" in client_text and "Robin" in client_text
    assert "(PHQ-9)" in client_text and "(GAD-7)" in client_text
    assert "How our work together felt to you" in client_text
    for words in INTERNAL_WORDS:
        assert words not in client_text, words


@pytest.fixture
def shared_checkin(alice, admin, course):
    """Check-ins on four sessions; the therapist shared only the one of session 2 with the supervisor."""
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    episode = course("Robin", phq9=[16, 17, 18, 19], wai_sr=[50, 52, 51, 40])
    for number, session in enumerate(episode.sessions.order_by("starts_at"), start=1):
        relationship.reflection_record(
            actor=alice,
            session=session,
            answers={"bond": 6, "goals": 6, "tasks": 6, "overall": 6},
            feelings=["protective"] if number == 2 else ["irritated"],
            intensity=3,
            note="Secret process note about my own reaction",
            share_with_supervisor=number == 2,
        )
    return episode


def test_the_supervision_copy_is_pseudonymised_and_has_only_the_shared_check_ins(
    alice, sam, shared_checkin
) -> None:
    client = shared_checkin.client
    client.date_of_birth = dt.date(1990, 5, 17)
    client.email = "robin@example.org"
    client.save()
    share_for_supervision(alice, shared_checkin)
    for who in (sam, alice):  # the same copy, whoever downloads it
        text = pdf_text(signed_in(who).get(report_url(shared_checkin, "supervision")).content)
        assert "Progress report for supervision" in text
        assert f"Record {client.pk}" in text
        assert "(PHQ-9)" in text
        assert "Therapist: Session rating" in text  # the relationship from both sides
        assert "Protective" in text  # the check-in the therapist shared
        assert "Irritated" not in text  # the ones they did not
        assert "chose to share" in text and "Contains no psychotherapy notes" not in text
        for private in ("Robin", "17 May 1990", "1990", "robin@example.org", "Secret process note"):
            assert private not in text, private


def test_the_supervision_copy_holds_only_the_episodes_shared_for_supervision(alice, sam, course) -> None:
    shared = course("Robin", phq9=[16, 17, 18])
    clinical.episode_open(  # a second episode, not shared
        actor=alice, client=shared.client, referral_reason="Grief", started_on=dt.date(2025, 1, 6)
    )
    share_for_supervision(alice, shared)
    for who in (alice, sam):  # the treating therapist's copy shows no more than the supervisor's
        text = pdf_text(signed_in(who).get(report_url(shared, "supervision")).content)
        assert "Progress report for supervision" in text and "(PHQ-9)" in text
        assert f"Episode from {shared.started_on.day} " in text
        assert "6 Jan 2025" not in text, "an episode not shared for supervision"
    session_copy = pdf_text(signed_in(alice).get(report_url(shared, "session")).content)
    assert "6 Jan 2025" in session_copy  # the therapist's own copy has it: the date is the right one


def test_a_supervision_copy_without_shared_check_ins_says_it_has_no_notes(alice, sam, reflected) -> None:
    share_for_supervision(alice, reflected)
    supervisor = signed_in(sam)
    text = pdf_text(supervisor.get(report_url(reflected, "supervision")).content)
    assert "(PHQ-9)" in text and f"Record {reflected.client_id}" in text
    assert "overinvolved" not in text  # not shared: the therapist's feelings are theirs to bring
    assert "Contains no psychotherapy notes" in text
    # The session copy's per-report choice is the treating therapist's and does not reach this one.
    text = pdf_text(supervisor.get(report_url(reflected, "supervision") + "&checkins=include").content)
    assert "overinvolved" not in text
    assert supervisor.get(report_url(reflected, "client")).status_code == 403
    assert supervisor.get(report_url(reflected, "session")).status_code == 403


def test_the_reflection_form_says_who_sees_what_and_stores_the_choice(alice, sam, session) -> None:
    http = signed_in(alice)
    body = http.get(f"/sessions/{session.pk}/reflection/").content.decode()
    assert "After the session" in body
    assert "Share this check-in with my supervisor" in body
    assert "seen only by you" in body and "never the note" in body
    assert "your supervisor only if you share this episode" not in body  # the old, untrue promise
    posted = {"bond": "6", "goals": "6", "tasks": "6", "overall": "6", "feelings": ["protective"]}
    http.post(
        f"/sessions/{session.pk}/reflection/", {**posted, "intensity": "2", "share_with_supervisor": "on"}
    )
    assert SessionReflection.objects.get(session=session).shared_with_supervisor
    http.post(f"/sessions/{session.pk}/reflection/", {**posted, "intensity": "2"})
    assert not SessionReflection.objects.get(session=session).shared_with_supervisor


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
    """Clients over 10 sessions (9 pairs each) whose PHQ-9 falls by a point a session, plus half their
    WAI-SR's distance from their own mean by the next session, plus a ±1 wobble that differs between
    clients (an exact fit would leave no residual)."""
    base = [4, -4, 2, -2, 0, 0, 3, -3, 1, -1]
    for c in range(clients):
        wobble = [1, -1, 0, 1, -1, 0, 1, 0, -1] if c % 2 else [-1, 0, 1, -1, 1, 0, 0, 1, -1]
        turn = c % 5
        d = base[turn:] + base[:turn]
        phq = [24]
        for t in range(9):
            phq.append(phq[-1] - 1 - d[t] // 2 - wobble[t])
        course(f"M{c}", phq9=phq, wai_sr=[48 + x for x in d])


def test_the_outcomes_page_pools_the_alliance_association_across_clients(admin, course, monkeypatch) -> None:
    # The page's minimum is 30 clients; 3 keep the test small. The selector passes the module's minimum.
    monkeypatch.setattr(mechanisms, "MIN_CLIENTS", 3)
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    _alliance_led_courses(course, 3)
    (found,) = [m for m in practice_mechanisms(admin.practice) if "WAI" in m.process and "PHQ-9" in m.outcome]
    assert (found.n_clients, found.n_episodes, found.n_pairs) == (3, 3, 27)
    assert found.raw_estimate is not None and found.raw_ci_low is not None and found.raw_ci_high is not None
    # Improvement is half the WAI-SR's distance from its mean (integer halves: 0.5 with rounding).
    assert found.raw_ci_low < 0.5 < found.raw_ci_high
    body = signed_in(admin).get("/practice/outcomes/").content.decode()
    assert "What moves with change" in body
    assert "95% CI" in body
    assert "not a cause" in body
    assert "held fixed" in body
    assert f"an association of {mechanisms.PLANNED_EFFECT} SD per SD" in body
    assert "It is shown from 3 clients with 8 or more" in body


def test_no_claim_with_too_few_clients(admin, course) -> None:
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    _alliance_led_courses(course, 3)
    body = signed_in(admin).get("/practice/outcomes/").content.decode()
    assert "No claim:" in body


@pytest.fixture
def long_course(alice, admin, course):
    """Twelve sessions going the wrong way: four signals above the first chart, twelve rows a table."""
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    return course(
        "Robin",
        phq9=[10, 11, 12, 13, 14, 15, 16, 17, 17, 18, 18, 19],
        gad7=[12, 12, 13, 13, 14, 14, 15, 15, 15, 16, 16, 17],
        wai_sr=[50, 52, 51, 40, 41, 42, 43, 44, 45, 46, 47, 48],
    )


def test_page_one_is_not_left_blank_and_each_chart_keeps_its_title_and_legend(alice, long_course) -> None:
    content = signed_in(alice).get(report_url(long_course, "session")).content
    document = pypdfium2.PdfDocument(content)
    pages = [" ".join(document[i].get_textpage().get_text_range().split()) for i in range(len(document))]
    assert "Progress report for the session" in pages[0] and "Signals" in pages[0]  # the right report
    # Page 1 carries the first chart, whole, under the header and the signals ...
    assert "Score (Generalized Anxiety Disorder-7 (GAD-7))" in pages[0]
    image = document[0].render(scale=1).to_pil().convert("L")
    footer = image.height - round(image.height * 22 / 297)  # the bottom margin, where the footer is
    rows = [y for y in range(footer) if min(image.crop((0, y, image.width, y + 1)).tobytes()) < 128]
    assert rows and rows[-1] > image.height * 0.6, "most of page 1 is blank"
    # ... and every chart's visible title, its drawing and its legend share a page.
    gad7, phq9 = "Generalized Anxiety Disorder-7 (GAD-7)", "Patient Health Questionnaire-9 (PHQ-9)"
    charts = {  # a chart's summary (in its figure, after the drawing): its legend's entries
        f"{gad7}: 12 scores": (f"Score ({gad7})", "Session"),
        f"{phq9}: 12 scores": (f"Score ({phq9})", "Session"),
        "The space between": ("Client: WAI-SR", "Possible rupture"),
    }
    for title, legend in charts.items():
        on = [i for i, text in enumerate(pages) if title in text]
        assert len(on) == 1, (title, on)
        for words in legend:
            assert words in pages[on[0]], (title, words, on[0])
    assert "…" not in " ".join(pages)  # no legend entry cut short
