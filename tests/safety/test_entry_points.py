"""Every path that carries a client's answer reads its risk answers first (docs/safety.md).

Modelled on the authorization matrix: ENTRY_POINTS names each way answers arrive, and one test per
entry sends a risk answer that way and asserts the flag. Two guards keep the list whole:
- every URL route whose view (or a function of its module that it calls) writes answers, through
  `response_submit` or `draft_save`, must be in ENTRY_POINTS;
- in the package, answers are written (Response inserts, Draft writes) only inside functions that are
  known to call `safety.risk` first: a new writer fails `test_answers_are_written_only_after_the_risk_module`.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from spacebetween import clock as product_clock
from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.api import services as api_services
from spacebetween.clients.models import Episode
from spacebetween.delivery import services as delivery
from spacebetween.measures.models import Assignment, Response
from spacebetween.safety.models import RiskFlag, RiskNotification
from tests.conftest import FakeClock, signed_in
from tests.delivery.helpers import CALM, start_link

PACKAGE = Path(__file__).resolve().parents[2] / "spacebetween"
RISK = {**CALM, "phq9_9": 2}

# url name -> what the entry point is; each has its test below (test_<key>).
ENTRY_POINTS = {
    "portal_answer": "a portal client saves an answer (draft)",
    "portal_review": "a portal client sends their answers",
    "link_answer": "a link client saves an answer (draft)",
    "link_review": "a link client sends their answers",
    "api_response_submit": "an API client submits answers",
}

# The functions that write answers, each calling the risk module before it writes.
ANSWER_WRITERS = {
    ("answering/services.py", "response_submit"),
    ("delivery/services.py", "draft_save"),
}
RISK_CALLS = {"screen", "raise_flags"}


def _flag(assignment: Assignment) -> RiskFlag:
    [flag] = RiskFlag.objects.filter(assignment=assignment)
    assert (flag.rule_id, flag.answer_value) == ("phq9_9", 2.0)
    assert RiskNotification.objects.filter(flag=flag, step=0).exists()  # the therapist was told
    return flag


@pytest.fixture
def assignment(alice: User, episode: Episode) -> Assignment:
    now = product_clock.now()
    return answering.assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=now)


def _portal(assignment: Assignment) -> tuple[str, str]:
    kwargs = {"assignment_id": assignment.pk}
    return reverse("portal_answer", kwargs=kwargs), reverse("portal_review", kwargs=kwargs)


def _answer(http: HttpClient, url: str, answers: dict[str, int], upto: int = 10) -> None:
    for number in range(1, upto + 1):
        response = http.post(url, {"q": number, "answer": str(answers[f"phq9_{number}"])})
        assert response.status_code == 302, (number, response.status_code)


# ------------------------------------------------------------------------------ the pages


def test_portal_answer(assignment: Assignment, carol_user: User) -> None:
    """Saved, never sent: flagged at save time, and crisis help is on the next page at once."""
    answer, _ = _portal(assignment)
    http = signed_in(carol_user)
    _answer(http, answer, RISK, upto=9)
    assert not Response.objects.exists()
    assert _flag(assignment).source == "draft"
    page = http.get(f"{answer}?q=10")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Question 10 of 10" in body and "If you need help now" in body and "116 123" in body


def test_link_answer(assignment: Assignment, alice: User) -> None:
    http = start_link(delivery.link_issue(actor=alice, assignment=assignment))
    _answer(http, reverse("link_answer"), RISK, upto=9)
    assert _flag(assignment).source == "draft"


def test_a_changed_draft_answer_updates_the_one_flag(assignment: Assignment, carol_user: User) -> None:
    answer, _ = _portal(assignment)
    http = signed_in(carol_user)
    _answer(http, answer, {**CALM, "phq9_9": 3}, upto=9)
    http.post(answer, {"q": 9, "answer": "1"})
    [flag] = RiskFlag.objects.filter(assignment=assignment)
    assert (flag.answer_value, flag.last_value, flag.severity) == (3.0, 1.0, "urgent")
    assert RiskNotification.objects.filter(flag=flag).count() == 1  # told once per questionnaire


def test_a_risk_answer_taken_back_keeps_the_flag_and_says_so(
    assignment: Assignment, carol_user: User
) -> None:
    """A saved "2" changed to "0" before sending: the flag stays (it was endorsed), its latest answer
    says 0, and the stored response is attached to it."""
    answer, review = _portal(assignment)
    http = signed_in(carol_user)
    _answer(http, answer, RISK, upto=9)
    http.post(answer, {"q": 9, "answer": "0"})
    [flag] = RiskFlag.objects.filter(assignment=assignment)
    assert (flag.answer_value, flag.last_value, flag.response_id) == (2.0, 0.0, None)
    _answer(http, answer, CALM)
    assert http.post(review).status_code == 302
    flag.refresh_from_db()
    response = Response.objects.get(assignment=assignment)
    assert (flag.response_id, flag.last_value, response.any_risk) == (response.pk, 0.0, False)
    assert (
        "If you need help now"
        in http.get(reverse("portal_done", kwargs={"assignment_id": assignment.pk})).content.decode()
    )


def test_portal_review(assignment: Assignment, carol_user: User) -> None:
    answer, review = _portal(assignment)
    http = signed_in(carol_user)
    _answer(http, answer, RISK)
    done = http.post(review)
    assert done.status_code == 302
    flag = _flag(assignment)
    assert flag.response == Response.objects.get(assignment=assignment)


def test_link_review(assignment: Assignment, alice: User) -> None:
    http = start_link(delivery.link_issue(actor=alice, assignment=assignment))
    _answer(http, reverse("link_answer"), RISK)
    assert http.post(reverse("link_review")).status_code == 302
    assert _flag(assignment).response is not None


@pytest.mark.parametrize("close", ["withdrawn", "expired"])
def test_sending_to_a_closed_questionnaire_is_refused_but_flagged(
    assignment: Assignment, alice: User, carol_user: User, close: str, clock: FakeClock
) -> None:
    """The refusal comes after the risk check: crisis help on the closed page, and the flag."""
    answer, review = _portal(assignment)
    # Answered in the minute before it expires (the portal's session, on the same clock, is still live).
    clock.set(assignment.expires_at - dt.timedelta(minutes=1))
    http = signed_in(carol_user)
    _answer(http, answer, CALM, upto=8)
    # The risk answer is in the page's form when the questionnaire closes under it.
    if close == "withdrawn":
        answering.assignment_revoke(actor=alice, assignment=assignment)
    else:
        clock.set(assignment.expires_at)
    response = http.post(answer, {"q": 9, "answer": "2"})
    assert response.status_code == 410
    body = response.content.decode()
    assert "This questionnaire is closed" in body and "If you need help now" in body and "116 123" in body
    assert _flag(assignment).source == "closed"
    assert not Response.objects.exists()
    # Sending what was saved says the same, and raises nothing twice.
    again = http.post(review)
    assert again.status_code == 410 and "If you need help now" in again.content.decode()
    assert RiskFlag.objects.filter(assignment=assignment).count() == 1


# ------------------------------------------------------------------------------ the API


def _api(admin: User) -> HttpClient:
    _, plaintext = api_services.api_key_create(actor=admin, name="Tablet")
    return HttpClient(headers={"Authorization": f"Bearer {plaintext}"})


def _submit(http: HttpClient, assignment: Assignment, answers: dict[str, Any]) -> Any:
    url = f"/api/v1/assignments/{assignment.pk}/responses"
    return http.post(url, {"answers": answers}, content_type="application/json")


def test_api_response_submit(assignment: Assignment, admin: User) -> None:
    response = _submit(_api(admin), assignment, RISK)
    assert response.status_code == 201
    assert response.json()["risk_flag_raised"] is True
    assert _flag(assignment).source == "submitted"


def test_the_api_flags_a_risk_answer_over_the_rate_limit(
    assignment: Assignment, admin: User, settings: Any
) -> None:
    """Risk first, then the limit: the 429 stores nothing but the flag, and says so."""
    settings.API_KEY_RATE_PER_MINUTE = 1
    http = _api(admin)
    assert http.get("/api/v1/assignments").status_code == 200  # the minute's one call
    response = _submit(http, assignment, RISK)
    assert response.status_code == 429
    assert response.json()["risk_flag_raised"] is True
    assert not Response.objects.exists()
    assert _flag(assignment).source == "refused"


def test_an_unscorable_api_submission_over_the_rate_limit_is_flagged_alike(
    assignment: Assignment, admin: User, settings: Any
) -> None:
    settings.API_KEY_RATE_PER_MINUTE = 1
    http = _api(admin)
    assert http.get("/api/v1/assignments").status_code == 200
    response = _submit(http, assignment, {**RISK, "phq9_4": 7})
    assert response.status_code == 429
    assert response.json()["risk_flag_raised"] is True
    assert _flag(assignment).source == "refused"


def test_the_api_flags_a_risk_answer_to_a_withdrawn_questionnaire(
    assignment: Assignment, admin: User, alice: User
) -> None:
    answering.assignment_revoke(actor=alice, assignment=assignment)
    response = _submit(_api(admin), assignment, RISK)
    assert response.status_code == 410
    assert response.json() == {"detail": answering.REVOKED, "errors": [], "risk_flag_raised": True}
    assert _flag(assignment).source == "closed"


def test_core10_never_prorates_a_missing_risk_item(alice: User, episode: Episode, admin: User) -> None:
    """One missing item may be prorated (CORE System Trust), but not item 6, the risk item."""
    core10 = answering.assignment_create(
        actor=alice, episode=episode, instrument_id="core10", due_at=product_clock.now()
    )
    answers: dict[str, Any] = {f"core10_{i}": 2 for i in range(1, 11)}
    del answers["core10_6"]
    response = _submit(_api(admin), core10, answers)
    assert response.status_code == 422
    body = response.json()
    assert body["risk_flag_raised"] is False
    [error] = body["errors"]
    assert error["field"] == "core10_6"
    assert not Response.objects.exists()
    # Another missing item is still prorated, as the instrument allows.
    del answers["core10_1"]
    answers["core10_6"] = 0
    stored = _submit(_api(admin), core10, answers)
    assert stored.status_code == 201
    assert stored.json()["scores"]["total"]["prorated"] is True


# ------------------------------------------------------------------------------ the guards


def _routes(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> list[tuple[str, Callable[..., Any]]]:
    found: list[tuple[str, Callable[..., Any]]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            space = f"{p.namespace}:" if p.namespace else prefix
            found += _routes(p.url_patterns, space)
        elif p.name:
            found.append((p.name, p.callback))
    return found


def _view_functions(callback: Callable[..., Any]) -> list[Callable[..., Any]]:
    """The project's functions behind a route: a plain (decorated) view, or each operation of a
    django-ninja path (its callback is ninja's dispatcher, holding the operations)."""
    while isinstance(callback, functools.partial):
        callback = callback.func
    path_view = inspect.getclosurevars(callback).nonlocals.get("self")
    if path_view is not None and hasattr(path_view, "operations"):
        return [op.view_func for op in path_view.operations]
    return [callback]


def _reaches_a_writer(callback: Callable[..., Any]) -> bool:
    return any(_function_reaches_a_writer(view) for view in _view_functions(callback))


def _function_reaches_a_writer(view: Callable[..., Any]) -> bool:
    """Whether the view's function, or a function of its own module that it calls (transitively),
    names `response_submit` or `draft_save`."""
    while isinstance(view, functools.partial) or hasattr(view, "__wrapped__"):
        view = view.func if isinstance(view, functools.partial) else view.__wrapped__
    module = inspect.getmodule(view)
    assert module is not None
    tree = ast.parse(inspect.getsource(module))
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    seen: set[str] = set()
    todo = [view.__name__]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        for node in ast.walk(functions[name]):
            ref = (
                node.attr
                if isinstance(node, ast.Attribute)
                else node.id
                if isinstance(node, ast.Name)
                else None
            )
            if ref in ("response_submit", "draft_save"):
                return True
            if ref is not None:
                todo.append(ref)
    return False


def test_every_route_that_writes_answers_is_an_entry_point() -> None:
    routes = _routes(get_resolver().url_patterns)
    assert len(routes) > 40  # the walk found the site, not an empty list
    writers = {name.split(":")[-1] for name, view in routes if _reaches_a_writer(view)}
    assert writers == set(ENTRY_POINTS)


def test_every_entry_point_has_its_test() -> None:
    names = {name for name, obj in globals().items() if name.startswith("test_") and callable(obj)}
    assert {f"test_{key}" for key in ENTRY_POINTS} <= names


WRITE = re.compile(
    r"^(Response|Draft)\.objects\..*\.?(create|get_or_create|update_or_create|update|bulk_create)\("
)


def _answer_writes(tree: ast.AST) -> list[tuple[str, int]]:
    """(enclosing function, line) of each write of answers: a Response or Draft created or updated
    through its manager, or a Response inserted by hand-written SQL."""
    found = []
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            text = ast.unparse(node)
            if WRITE.match(text) or text.startswith("statements.insert(Response"):
                found.append((fn.name, node.lineno))
    return found


def test_answers_are_written_only_after_the_risk_module() -> None:
    writers: set[tuple[str, str]] = set()
    for source in PACKAGE.rglob("*.py"):
        if "migrations" in source.parts:
            continue
        relative = str(source.relative_to(PACKAGE))
        for function, _line in _answer_writes(ast.parse(source.read_text())):
            writers.add((relative, function))
    assert ("answering/services.py", "store") in writers or (
        "answering/services.py",
        "response_submit",
    ) in writers
    # A nested function (response_submit's `store`) counts as its enclosing writer.
    outer = {(path, "response_submit" if fn == "store" else fn) for path, fn in writers}
    assert outer == ANSWER_WRITERS, outer ^ ANSWER_WRITERS
    for path, name in ANSWER_WRITERS:
        tree = ast.parse((PACKAGE / path).read_text())
        [fn] = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
        calls = {
            n.func.attr for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        assert calls & RISK_CALLS, f"{path}:{name} writes answers without calling safety.risk"


def test_the_guard_finds_a_new_writer() -> None:
    """The static guard can fail: a function that writes a Response or a Draft is found."""
    tree = ast.parse(
        "def sneaky():\n    Response.objects.create(answers={})\n"
        "def sly(a):\n    Draft.objects.filter(assignment=a).update(answers={})\n"
    )
    assert _answer_writes(tree) == [("sneaky", 2), ("sly", 4)]
