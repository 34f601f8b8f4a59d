"""Every URL route, every method, every kind of user: the expected answer is written down here.

A route that is not in MATRIX fails the test, so a new page cannot ship without its row. The cast
(tests/conftest.py): alice is the treating therapist of Carol (the record under test); bob a
colleague in the same practice; sam alice's supervisor (the episode is *not* shared with him);
admin the practice admin; carol_user Carol's own portal login; oscar a therapist of another practice.
Records are 404 to anyone outside their scope; a page outside a user's role is 403; anonymous users
are sent to sign in (302) unless the method is refused first (405).

Besides the status code, no answer to anyone but alice may contain Carol's clinical content.
The API routes take only API keys: a browser session, whoever's, gets 401.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from spacebetween.accounts import welcome
from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.api.services import api_key_create
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.core import instruments as catalogue
from spacebetween.delivery.services import link_issue
from spacebetween.exercises.own import practice_exercise_write
from spacebetween.exercises.services import entry_record, exercise_assign, page_share
from spacebetween.formulation.services import reconsolidation_start
from spacebetween.safety.crisis import crisis_resource_add
from spacebetween.safety.models import RiskFlag
from tests.conftest import signed_in

ROLES = ("anonymous", "alice", "bob", "sam", "admin", "carol_user", "oscar")

# route              method  anonymous alice bob sam admin carol_user oscar
MATRIX_TABLE = """
home                   GET    302 302 302 302 302 302 302
healthz                GET    200 200 200 200 200 200 200
healthz                POST   405 405 405 405 405 405 405
home                   POST   405 405 405 405 405 405 405
login                  GET    200 302 302 302 302 302 302
login                  POST   200 302 302 302 302 302 302
logout                 GET    405 405 405 405 405 405 405
logout                 POST   302 302 302 302 302 302 302
mfa_enrol              GET    302 302 302 302 302 302 302
mfa_enrol              POST   302 302 302 302 302 302 302
mfa_verify             GET    302 302 302 302 302 302 302
mfa_verify             POST   302 302 302 302 302 302 302
password_change        GET    302 200 200 200 200 200 200
password_change        POST   302 200 200 200 200 200 200
welcome                GET    200 200 200 200 200 200 200
welcome                POST   302 302 302 302 302 302 302
welcome_password       GET    403 403 403 403 403 403 403
welcome_password       POST   403 403 403 403 403 403 403
password_reset         GET    200 200 200 200 200 200 200
password_reset         POST   200 200 200 200 200 200 200
supervision            GET    302 200 200 403 403 403 200
supervision            POST   302 302 302 403 403 403 302
caseload               GET    302 200 200 200 403 403 200
caseload               POST   405 405 405 405 405 405 405
client_new             GET    302 200 200 200 403 403 200
client_new             POST   302 200 200 200 403 403 200
client_detail          GET    302 200 404 404 403 403 404
client_detail          POST   405 405 405 405 405 405 405
client_answers         GET    302 200 404 404 403 403 404
client_answers         POST   405 405 405 405 405 405 405
client_portal_invite   GET    405 405 405 405 405 405 405
client_portal_invite   POST   302 302 404 404 403 403 404
client_edit            GET    302 200 404 404 403 403 404
client_edit            POST   302 200 404 404 403 403 404
episode_new            GET    302 200 404 404 403 403 404
episode_new            POST   302 200 404 404 403 403 404
episode_edit           GET    302 200 404 404 403 403 404
episode_edit           POST   302 200 404 404 403 403 404
episode_history        GET    302 200 404 404 403 403 404
episode_history        POST   405 405 405 405 405 405 405
session_new            GET    302 200 404 404 403 403 404
session_new            POST   302 200 404 404 403 403 404
session_edit           GET    302 200 404 404 403 403 404
session_edit           POST   302 200 404 404 403 403 404
portal                 GET    302 403 403 403 403 200 403
portal                 POST   405 405 405 405 405 405 405
practice_overview      GET    302 403 403 403 200 403 403
practice_overview      POST   405 405 405 405 405 405 405
practice_outcomes      GET    302 403 403 403 200 403 403
practice_outcomes      POST   405 405 405 405 405 405 405
insight_settings       GET    302 403 403 403 200 403 403
insight_settings       POST   302 403 403 403 200 403 403
client_report          GET    302 200 404 404 403 403 404
client_report          POST   405 405 405 405 405 405 405
client_rights          GET    302 200 404 404 200 403 404
client_rights          POST   405 405 405 405 405 405 405
client_consent         GET    405 405 405 405 405 405 405
client_consent         POST   302 400 404 404 403 403 404
client_export          GET    405 405 405 405 405 405 405
client_export          POST   302 200 404 404 200 403 404
client_erasure         GET    405 405 405 405 405 405 405
client_erasure         POST   302 400 404 404 400 403 404
retention_settings     GET    302 403 403 403 200 403 403
retention_settings     POST   302 403 403 403 400 403 403
staff_list             GET    302 403 403 403 200 403 403
staff_list             POST   302 403 403 403 405 403 403
staff_add              GET    302 403 403 403 200 403 403
staff_add              POST   302 403 403 403 200 403 403
staff_edit             GET    302 403 403 403 200 403 403
staff_edit             POST   302 403 403 403 200 403 403
staff_deactivate       GET    302 403 403 403 405 403 403
staff_deactivate       POST   302 403 403 403 302 403 403
staff_reactivate       GET    302 403 403 403 405 403 403
staff_reactivate       POST   302 403 403 403 302 403 403
staff_invite           GET    302 403 403 403 405 403 403
staff_invite           POST   302 403 403 403 302 403 403
staff_mfa_reset        GET    302 403 403 403 405 403 403
staff_mfa_reset        POST   302 403 403 403 200 403 403
instrument_settings    GET    302 403 403 403 200 403 403
instrument_settings    POST   302 403 403 403 405 403 403
instrument_terms_accept   GET    302 403 403 403 405 403 403
instrument_terms_accept   POST   302 403 403 403 404 403 403
instrument_terms_withdraw GET    302 403 403 403 405 403 403
instrument_terms_withdraw POST   302 403 403 403 404 403 403
practice_settings      GET    302 403 403 403 200 403 403
practice_settings      POST   302 403 403 403 400 403 403
audit_log              GET    302 403 403 403 200 403 403
audit_log              POST   302 403 403 403 405 403 403
audit_log_export       GET    302 403 403 403 200 403 403
audit_log_export       POST   302 403 403 403 405 403 403
outbox                 GET    302 403 403 403 200 403 403
outbox                 POST   302 403 403 403 405 403 403
instrument_import      GET    302 403 403 403 405 403 403
instrument_import      POST   302 403 403 403 400 403 403
episode_plan           GET    302 200 404 404 403 403 404
episode_plan           POST   302 400 404 404 403 403 404
practice_plan          GET    302 403 403 403 200 403 403
practice_plan          POST   302 403 403 403 400 403 403
session_reflection     GET    302 200 404 404 403 403 404
session_reflection     POST   302 200 404 404 403 403 404
rupture_note           GET    302 200 404 404 403 403 404
rupture_note           POST   302 400 404 404 403 403 404
session_themes         GET    302 200 404 404 403 403 404
session_themes         POST   302 400 404 404 403 403 404
session_theme_remove   GET    405 405 405 405 405 405 405
session_theme_remove   POST   302 400 404 404 403 403 404
progress_note          GET    302 200 404 404 403 403 404
progress_note          POST   302 400 404 404 403 403 404
process_note           GET    302 200 404 404 403 403 404
process_note           POST   302 400 404 404 403 403 404
session_transcript     GET    302 200 404 404 403 403 404
session_transcript     POST   302 400 404 404 403 403 404
transcript_speakers    GET    302 302 404 404 403 403 404
transcript_speakers    POST   302 302 404 404 403 403 404
transcript_delete      GET    405 405 405 405 405 405 405
transcript_delete      POST   302 302 404 404 403 403 404
episode_transcripts    GET    302 200 404 404 403 403 404
episode_transcripts    POST   405 405 405 405 405 405 405
note_templates         GET    302 403 403 403 200 403 403
note_templates         POST   302 403 403 403 400 403 403
socratic_questions     GET    302 403 403 403 200 403 403
socratic_questions     POST   302 403 403 403 400 403 403
theme_labels           GET    302 403 403 403 200 403 403
theme_labels           POST   302 403 403 403 400 403 403
session_questions      GET    302 200 404 404 403 403 404
session_questions      POST   302 400 404 404 403 403 404
supervision_notes      GET    302 200 404 404 403 403 404
supervision_notes      POST   302 403 404 404 403 403 404
search                 GET    302 200 200 200 403 403 200
search                 POST   302 400 400 400 403 403 400
formulation_workspace  GET    302 200 404 404 403 403 404
formulation_workspace  POST   405 405 405 405 405 405 405
formulation_revise     GET    302 200 404 404 403 403 404
formulation_revise     POST   302 400 404 404 403 403 404
formulation_compare    GET    302 200 404 404 403 403 404
formulation_compare    POST   405 405 405 405 405 405 405
goal_add               GET    405 405 405 405 405 405 405
goal_add               POST   302 400 404 404 403 403 404
goal_rate              GET    405 405 405 405 405 405 405
goal_rate              POST   302 400 404 404 403 403 404
goal_close             GET    405 405 405 405 405 405 405
goal_close             POST   302 400 404 404 403 403 404
reconsolidation_start  GET    302 200 404 404 403 403 404
reconsolidation_start  POST   302 400 404 404 403 403 404
reconsolidation_work   GET    302 200 404 404 403 403 404
reconsolidation_work   POST   405 405 405 405 405 405 405
reconsolidation_step   GET    405 405 405 405 405 405 405
reconsolidation_step   POST   302 400 404 404 403 403 404
marker_check           GET    405 405 405 405 405 405 405
marker_check           POST   302 400 404 404 403 403 404
risk_flag              GET    302 200 404 404 404 403 404
risk_flag              POST   405 405 405 405 405 405 405
risk_flag_acknowledge  GET    405 405 405 405 405 405 405
risk_flag_acknowledge  POST   302 200 404 404 404 403 404
risk_settings          GET    302 403 403 403 200 403 403
risk_settings          POST   302 403 403 403 400 403 403
safety_plan            GET    302 200 404 404 403 403 404
safety_plan            POST   302 400 404 404 403 403 404
safety_plan_print      GET    302 200 404 404 403 403 404
safety_plan_print      POST   405 405 405 405 405 405 405
portal_safety_plan     GET    302 403 403 403 403 200 403
portal_safety_plan     POST   405 405 405 405 405 405 405
exercise_assign        GET    302 200 404 404 403 403 404
exercise_assign        POST   302 400 404 404 403 403 404
episode_between_sessions GET  302 200 404 404 403 403 404
episode_between_sessions POST 405 405 405 405 405 405 405
reading_share          GET    405 405 405 405 405 405 405
reading_share          POST   302 302 404 404 403 403 404
exercise_withdraw      GET    405 405 405 405 405 405 405
exercise_withdraw      POST   302 302 404 404 403 403 404
library                GET    302 200 200 200 403 403 200
library                POST   405 405 405 405 405 405 405
practice_exercise_new  GET    302 200 200 403 403 403 200
practice_exercise_new  POST   302 400 400 403 403 403 400
practice_page_new      GET    302 200 200 403 403 403 200
practice_page_new      POST   302 400 400 403 403 403 400
practice_exercise_retire GET  405 405 405 405 405 405 405
practice_exercise_retire POST 302 302 403 403 403 403 404
portal_exercise        GET    302 403 403 403 403 200 403
portal_exercise        POST   302 403 403 403 403 400 403
portal_reading         GET    302 403 403 403 403 200 403
portal_reading         POST   405 405 405 405 405 405 405
portal_progress        GET    302 403 403 403 403 200 403
portal_progress        POST   405 405 405 405 405 405 405
progress_view_setting  GET    302 200 404 404 403 403 404
progress_view_setting  POST   302 400 404 404 403 403 404
link_start_page        GET    200 200 200 200 200 200 200
link_start_page        POST   405 405 405 405 405 405 405
link_start             GET    405 405 405 405 405 405 405
link_start             POST   302 302 302 302 302 302 302
link_answer            GET    403 403 403 403 403 403 403
link_answer            POST   403 403 403 403 403 403 403
link_review            GET    403 403 403 403 403 403 403
link_review            POST   403 403 403 403 403 403 403
link_done              GET    403 403 403 403 403 403 403
link_done              POST   405 405 405 405 405 405 405
assignment_withdraw    GET    405 405 405 405 405 405 405
assignment_withdraw    POST   302 302 404 404 403 403 404
link_next              GET    405 405 405 405 405 405 405
link_next              POST   403 403 403 403 403 403 403
questionnaire_send     GET    405 405 405 405 405 405 405
questionnaire_send     POST   302 302 404 404 403 403 404
assignment_send_again  GET    405 405 405 405 405 405 405
assignment_send_again  POST   302 302 404 404 403 403 404
portal_answer          GET    302 403 403 403 403 200 403
portal_answer          POST   302 403 403 403 403 400 403
portal_review          GET    302 403 403 403 403 200 403
portal_review          POST   302 403 403 403 403 400 403
portal_done            GET    302 403 403 403 403 302 403
portal_done            POST   405 405 405 405 405 405 405
crisis_resources       GET    302 403 403 403 200 403 403
crisis_resources       POST   302 403 403 403 400 403 403
crisis_country         GET    302 403 403 403 405 403 403
crisis_country         POST   302 403 403 403 400 403 403
crisis_resource_delete GET    302 403 403 403 405 403 403
crisis_resource_delete POST   302 403 403 403 302 403 403
api_keys               GET    302 403 403 403 200 403 403
api_keys               POST   302 403 403 403 400 403 403
api_key_revoke         GET    302 403 403 403 405 403 403
api_key_revoke         POST   302 403 403 403 302 403 403
api-v1:openapi-json    GET    200 200 200 200 200 200 200
api-v1:openapi-json    POST   405 405 405 405 405 405 405
api-v1:api-root        GET    404 404 404 404 404 404 404
api-v1:api-root        POST   404 404 404 404 404 404 404
api-v1:api_assignment_list   GET  401 401 401 401 401 401 401
api-v1:api_assignment_list   POST 405 405 405 405 405 405 405
api-v1:api_instrument_detail GET  401 401 401 401 401 401 401
api-v1:api_instrument_detail POST 405 405 405 405 405 405 405
api-v1:api_response_submit   GET  405 405 405 405 405 405 405
api-v1:api_response_submit   POST 401 401 401 401 401 401 401
"""


def _parse(table: str) -> dict[tuple[str, str], dict[str, int]]:
    matrix: dict[tuple[str, str], dict[str, int]] = {}
    for line in table.strip().splitlines():
        name, method, *codes = line.split()
        assert len(codes) == len(ROLES), f"row {name} {method} needs {len(ROLES)} codes"
        assert (name, method) not in matrix, f"row {name} {method} is listed twice"
        matrix[(name, method)] = dict(zip(ROLES, map(int, codes), strict=True))
    return matrix


MATRIX = _parse(MATRIX_TABLE)
METHODS = ("GET", "POST")
# Who may see Carol's clinical content at all (alice treats her; sam only if she were shared).
MAY_SEE_CAROL = {"alice"}
CAROL_CLINICAL = ("Low mood after bereavement",)
# What Carol wrote in an exercise entry she kept private: no answer to anyone but Carol herself holds it,
# not even alice's (her therapist sees that it was done, never what it says).
CAROL_PRIVATE = "Wrote to my brother and never sent it"


def _routes(
    patterns: list[URLPattern | URLResolver] | None = None, namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """(name as `reverse` takes it, pattern) for every route, namespaces included."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, inner)
        else:
            yield (f"{namespace}{pattern.name}" if pattern.name else ""), pattern


ROUTES = {name: p for name, p in _routes() if name}


def test_every_route_and_method_has_a_row() -> None:
    unnamed = [str(p.pattern) for name, p in _routes() if not name]
    assert not unnamed, f"routes without a name cannot be listed: {unnamed}"
    missing = [(name, m) for name in ROUTES for m in METHODS if (name, m) not in MATRIX]
    stale = sorted({name for name, _ in MATRIX} - set(ROUTES))
    assert not missing, f"routes the authorization matrix does not list: {missing}"
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"


@pytest.fixture
def record_under_test(
    alice: User, admin: User, carol_user: User, client_record: Client, episode: Episode, session: Session
) -> dict[str, object]:
    """One of each protected object, all in Carol's episode (alice's caseload)."""
    now = timezone.now()
    due = answering.assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now)
    flagged = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now
    )
    # Every item 1, so item 9 ("thoughts that you would be better off dead...") raises a risk flag.
    answers = {item: 1 for item in catalogue.get("phq9").scored_item_ids}
    answering.response_submit(assignment=flagged, answers=answers, via="link", now=now)
    key, _ = api_key_create(actor=admin, name="matrix")
    crisis_line = crisis_resource_add(
        actor=admin, country="GB", name="Matrix duty line", phone="020 7946 0000", text="Weekdays."
    )
    exercise = exercise_assign(
        actor=alice,
        episode=episode,
        exercise="emotion-check-in",
        frequency="daily",
        starts_on=now.date(),
        ends_on=now.date() + dt.timedelta(days=7),
    )
    private_answers: dict[str, object] = {"feeling": "sad", "intensity": 60, "what_happened": CAROL_PRIVATE}
    entry_record(actor=carol_user, assignment=exercise, answers=private_answers, private=True, now=now)
    return {
        "client_id": client_record.pk,
        "episode_id": episode.pk,
        "session_id": session.pk,
        "pk": client_record.primary_therapist_id,
        "assignment_id": due.pk,
        "token": link_issue(actor=alice, assignment=due, now=now),
        "welcome_token": welcome.link_issue(user=admin)[0],
        "flag_id": RiskFlag.objects.get(assignment=flagged).pk,
        "key_id": key.pk,
        "resource_id": crisis_line.pk,
        "instrument_id": "phq9",
        "exercise_id": exercise.pk,
        "reading_id": page_share(actor=alice, episode=episode, page="emotions").pk,
        "work_id": reconsolidation_start(
            actor=alice, episode=episode, symptom="Freezes", emotional_truth="Anger means leaving"
        ).pk,
        "practice_exercise_id": practice_exercise_write(
            actor=alice,
            title="Matrix exercise",
            why="A reason.",
            steps="One step.",
            blocks=[{"label": "How was it?", "kind": "scale10"}],
        ).pk,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_the_answer_is_the_one_in_the_matrix(
    name: str, method: str, role: str, record_under_test: dict[str, object], request: pytest.FixtureRequest
) -> None:
    pattern = ROUTES[name]
    url = reverse(name, kwargs={k: record_under_test[k] for k in pattern.pattern.converters})
    # Past MFA: the matrix is about authorization, not signing in.
    http = HttpClient() if role == "anonymous" else signed_in(request.getfixturevalue(role))
    response = http.get(url) if method == "GET" else http.post(url)
    assert response.status_code == MATRIX[(name, method)][role], f"{method} {url} as {role}"
    if response.status_code == 302:
        assert "Carol" not in response["Location"], "no client data in redirect URLs"
    if role not in MAY_SEE_CAROL:
        body = response.content.decode(errors="replace")
        assert not any(text in body for text in CAROL_CLINICAL), (
            f"{method} {url} shows Carol's record to {role}"
        )
    if role != "carol_user":
        body = response.content.decode(errors="replace")
        assert CAROL_PRIVATE not in body, f"{method} {url} shows Carol's private entry to {role}"
