"""The real server (gunicorn, two workers) on a scratch database, and clients submitting PHQ-9s to it
through the public API, for the durability tests."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench import harness

if TYPE_CHECKING:
    from tests.durability.databases import ServerDb

REQUEST_TIMEOUT = 15  # a request that takes longer counts as a hang
# The API allows 120 requests a minute per key (spacebetween.api.services.DEFAULT_RATE_PER_MINUTE):
# the tests spread their requests over enough keys to stay well below it.
SUBMISSIONS_PER_KEY = 40

SETUP = """
import datetime as dt
from spacebetween.accounts.models import Role
from spacebetween.accounts.services import user_create
from spacebetween.api.services import api_key_create
from spacebetween.clients import services as clinical
from spacebetween.answering.services import assignment_create
from spacebetween.practice.services import practice_create

practice = practice_create(name="Riverside Therapy")
admin = user_create(practice=practice, email="admin@example.org", full_name="Admin", role=Role.ADMIN,
                    password=None)
alice = user_create(practice=practice, email="alice@example.org", full_name="Alice",
                    role=Role.THERAPIST, password=None)
client = clinical.client_create(actor=alice, given_name="Carol", family_name="Jones",
                                email="carol@example.org")
episode = clinical.episode_open(actor=alice, client=client, referral_reason="Low mood",
                                started_on=dt.date.today())
now = dt.datetime.now(dt.UTC)
ids = [assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=now, now=now).pk
       for _ in range({n})]
keys = [api_key_create(actor=admin, name=f"Durability test {{i}}")[1] for i in range({keys})]
result = {{"keys": keys, "assignments": ids}}
"""


@dataclass(frozen=True)
class Practice:
    keys: list[str]
    assignments: list[int]

    def key_for(self, assignment_id: int) -> str:
        return self.keys[assignment_id % len(self.keys)]


def practice_with_due_phq9s(db: ServerDb, n: int) -> Practice:
    """A practice with `n` PHQ-9s due for one client, and API keys enough to submit each a few times."""
    made = db.python(SETUP.format(n=n, keys=max(1, -(-3 * n // SUBMISSIONS_PER_KEY))))
    assert len(made["assignments"]) == n
    return Practice(made["keys"], made["assignments"])


def phq9_answers(rng: random.Random) -> dict[str, int]:
    answers = {f"phq9_{i}": rng.randint(0, 3) for i in range(1, 9)}
    answers["phq9_9"] = 0  # no risk item: a risk flag would add notifications the tests do not need
    return answers


@dataclass
class Server(harness.Server):
    """The benchmarks' gunicorn (bench/harness.py) with two workers, and a client for the API."""

    workers: int = 2

    def submit(self, key: str, assignment_id: int, answers: dict[str, int]) -> tuple[int, dict[str, Any]]:
        """POST one response: (status, body), or (0, {"error": ...}) when no HTTP answer came back."""
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            f"http://127.0.0.1:{self.port}/api/v1/assignments/{assignment_id}/responses",
            data=json.dumps({"answers": answers}).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, {"body": exc.read()[:2000].decode(errors="replace")}
        except (OSError, ValueError) as exc:  # refused, reset, timed out, or cut off mid-answer
            return 0, {"error": f"{type(exc).__name__}: {exc}"}


def stored_responses(db: ServerDb) -> dict[int, tuple[int, Any]]:
    """{assignment_id: (response_id, scores)} read straight from the database."""
    rows = db.sql("SELECT assignment_id, id, scores FROM measures_response")
    return {a: (r, json.loads(s) if isinstance(s, str) else s) for a, r, s in rows}


def lost_or_changed(db: ServerDb, acknowledged: dict[int, dict[str, Any]]) -> list[str]:
    """Every acknowledged (201) submission must be stored as acknowledged: what is not."""
    stored = stored_responses(db)
    problems = []
    for assignment_id, body in sorted(acknowledged.items()):
        if assignment_id not in stored:
            problems.append(f"assignment {assignment_id}: acknowledged, not stored")
            continue
        response_id, scores = stored[assignment_id]
        if response_id != body["response_id"] or not scores or scores != body["scores"]:
            problems.append(f"assignment {assignment_id}: stored {response_id} {scores}, acknowledged {body}")
    return problems
