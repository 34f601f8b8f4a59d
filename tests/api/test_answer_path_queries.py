"""The answer's path, pinned: the statements one API submission makes, with and without a risk answer
(issue "A house a newcomer can live in": a submission costs what it costs on purpose). A change that
adds a statement fails here and says which; docs/performance.md explains each one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.clients.models import Episode
from spacebetween.measures.models import Assignment
from tests.api.conftest import phq9

# The key; the assignment with its episode and client; the practice's imported definitions; the
# savepoint; the claim; the response; the assignment's risk flags (one read, whatever the rules); the
# episode's stale mark; the key's count for the minute; the audit chain's head, the event and the
# head's move; the release. (The key's last use is written once a minute, not in steady state.)
CALM = 13
# ... and with item 9 endorsed: the practice's severity bands and escalation policy, the flag, the
# therapist, the notice, the e-mail in the outbox, and two more audit rows (the flag, the notice)
# with their head reads and moves.
RISK = CALM + 12


def _steady_state_queries(
    api: HttpClient, alice: User, episode: Episode, answers: dict[str, object]
) -> list[str]:
    """The statements of one submission once the key's minute has begun (a first call opens it)."""
    now = dt.datetime.now(dt.UTC)
    first, second = (
        answering.assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now)
        for _ in range(2)
    )
    assert _post(api, first, phq9()).status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        assert _post(api, second, answers).status_code == 201
    return [q["sql"] for q in ctx.captured_queries]


def _post(api: HttpClient, assignment: Assignment, answers: dict[str, object]) -> Any:
    url = f"/api/v1/assignments/{assignment.pk}/responses"
    return api.post(url, {"answers": answers}, content_type="application/json")


def test_a_submission_makes_the_statements_it_needs_and_no_more(
    api: HttpClient, alice: User, episode: Episode
) -> None:
    queries = _steady_state_queries(api, alice, episode, phq9())
    assert len(queries) == CALM, "\n".join(queries)
    assert sum("measures_response" in q and q.startswith("INSERT") for q in queries) == 1


def test_a_risk_answer_adds_the_flag_the_notice_and_their_audit_rows(
    api: HttpClient, alice: User, episode: Episode
) -> None:
    queries = _steady_state_queries(api, alice, episode, phq9(item9=2))
    assert len(queries) == RISK, "\n".join(queries)
    assert sum(q.startswith("INSERT") and "measures_riskflag" in q for q in queries) == 1
    assert sum(q.startswith("INSERT") and "notifications_outboxmessage" in q for q in queries) == 1
