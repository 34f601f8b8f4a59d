"""Benchmark: the therapist's caseload page and a client's page on two years of weekly data.

A scratch SQLite database (migrated) gets one practice with two therapists: one with 15 active clients,
one with 60. Every client has an open episode that started two years ago (half a year with --quick),
a session every week (attended) and one scheduled next week, and before each session an answered
PHQ-9 and GAD-7 whose scores `core.scoring` computed (seeded, slowly improving answers; the risk item
always answered 0). Rows are written with `bulk_create`, not through the services, so that building
15,600 responses takes seconds; the episodes' insights are then refreshed through their service, as
submissions would have.

Each page is fetched through Django's test client signed in as the therapist (the full middleware,
view, audit write and template; no network, development settings with DEBUG off): one untimed warm-up,
the query count of one request (CaptureQueriesContext), then the median latency of repeated requests.
Baseline: `GET /healthz` through the same signed-in client in the same run. Goal (issue #6): the
caseload page's query count is the same with 15 and with 60 clients. A third therapist has two
clients of the same kind whose courses differ only in length (5 weekly sessions, and as many as the
others): their client pages give the page's query count and latency by number of sessions. Goal
(issue "A house a newcomer can live in", item 8): the client page's query count is the same for
both, and its median latency at most 8 times `/healthz`'s (reported as `client_ratio_goal_met`,
never asserted by the tests: timings depend on the machine).

    python -m bench.caseload [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness, stats

CASELOAD_SIZES = (15, 60)
SHORT_COURSE = 5  # weekly sessions of the shorter of the two courses compared on the client page
CLIENT_MAX_RATIO = 8.0  # client page median latency / `/healthz` median latency (item 8)
# Two years of weekly sessions; --quick takes half a year, which is enough to compare query counts.
WEEKS = {"quick": 26, "full": 104}
INSTRUMENTS = ("phq9", "gad7")
RISK_ITEM = "phq9_9"
REPEATS = {"quick": 5, "full": 30}


def run(*, quick: bool, seed: int = 7) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sb-bench-caseload-") as tmp:
        data_dir = Path(tmp)
        with harness.scratch_database("sqlite", data_dir, "caseload") as (url, database):
            env = harness.bench_env(data_dir, url, production=False)
            args = ["measure", "--seed", str(seed), *(["--quick"] if quick else [])]
            result: dict[str, Any] = harness.run_child(env, "bench.caseload", *args)
    return {"database": database, **result}


# ------------------------------------------------------------------ the child, under Django (scratch DB)


def _answers(n_weeks: int, n_items: int, rng: Any, np: Any) -> Any:
    """n_weeks x n_items answers 0-3 for one client: a start between moderate and severe that eases
    week by week with noise; plausible-looking synthetic data, not a model of any published course."""
    start = rng.uniform(1.2, 2.4)  # mean item score in the first week
    floor = rng.uniform(0.3, 0.9)
    weekly = rng.uniform(0.02, 0.06)
    mean = floor + (start - floor) * np.exp(-weekly * np.arange(n_weeks))
    return rng.binomial(3, np.clip(mean / 3, 0, 1)[:, None], size=(n_weeks, n_items)).astype(float)


def build(*, seed: int, weeks: int, sizes: tuple[int, ...] = CASELOAD_SIZES) -> dict[str, Any]:
    """The practice described in the module docstring; returns each therapist's id and first client's,
    and under "courses" the third therapist's and its two clients' ids by number of sessions."""
    import datetime as dt
    import random

    import numpy as np
    from django.db import transaction

    from spacebetween.accounts.models import Role
    from spacebetween.accounts.services import user_create
    from spacebetween.answering.services import _scores_json  # the JSON the service itself stores
    from spacebetween.clients.models import Attendance, Client, Episode, Session
    from spacebetween.core import instruments as catalogue
    from spacebetween.core.scoring import score_table
    from spacebetween.demo import vocabulary
    from spacebetween.measures.models import Assignment, AssignmentStatus, Response, SubmittedVia
    from spacebetween.practice.services import practice_create

    names = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    rng = np.random.default_rng(seed)
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    practice = practice_create(name="Benchmark practice")
    instruments = {i: catalogue.get(i) for i in INSTRUMENTS}
    therapists: dict[str, dict[str, int]] = {}
    courses: dict[str, int] = {}
    rows = {"clients": 0, "sessions": 0, "assignments": 0, "responses": 0}
    # The caseloads, then the two clients whose courses differ in length only (a course per client).
    plans = [(str(size), [weeks] * size) for size in sizes] + [("courses", [SHORT_COURSE, weeks])]
    for name, lengths in plans:
        size = len(lengths)
        therapist = user_create(
            practice=practice,
            email=f"therapist-{name}@bench.test",
            full_name=f"Therapist with {size} clients",
            role=Role.THERAPIST,
            password=None,
        )
        with transaction.atomic():
            clients = Client.objects.bulk_create(
                Client(
                    practice=practice,
                    given_name=names.choice(vocabulary.GIVEN_NAMES),
                    family_name=names.choice(vocabulary.FAMILY_NAMES),
                    primary_therapist=therapist,
                )
                for _ in range(size)
            )
            starts = [now - dt.timedelta(weeks=n) for n in lengths]
            episodes = Episode.objects.bulk_create(
                Episode(
                    client=client,
                    therapist=therapist,
                    referral_reason=names.choice(vocabulary.INDIVIDUAL_REASONS),
                    started_on=start.date(),
                )
                for client, start in zip(clients, starts, strict=True)
            )
            sessions = Session.objects.bulk_create(
                [
                    Session(
                        episode=episode,
                        starts_at=start + dt.timedelta(weeks=week),
                        attendance=Attendance.ATTENDED if week < n else Attendance.SCHEDULED,
                    )
                    for episode, start, n in zip(episodes, starts, lengths, strict=True)
                    for week in range(n + 1)  # the last one is next week's
                ],
                batch_size=5000,
            )
            Session.participants.through.objects.bulk_create(
                [Session.participants.through(session=s, client_id=s.episode.client_id) for s in sessions],
                batch_size=5000,
            )
            assignments: list[Assignment] = []
            responses: list[Response] = []
            for instrument_id, instrument in instruments.items():
                answers = np.concatenate([_answers(n, len(instrument.item_ids), rng, np) for n in lengths])
                if RISK_ITEM in instrument.item_ids:
                    answers[:, instrument.item_ids.index(RISK_ITEM)] = 0
                table = score_table(instrument, answers)
                row = -1
                for episode, start, n in zip(episodes, starts, lengths, strict=True):
                    for week in range(n):
                        row += 1
                        due = start + dt.timedelta(weeks=week, days=-1)
                        answered = due + dt.timedelta(hours=20)
                        assignment = Assignment(
                            episode=episode,
                            instrument_id=instrument_id,
                            instrument_version=instrument.version,
                            due_at=due,
                            expires_at=due + dt.timedelta(days=7),
                            status=AssignmentStatus.ANSWERED,
                            created_by=therapist,
                            created_at=due,
                            answered_at=answered,
                        )
                        score = table.response(row)
                        assignments.append(assignment)
                        responses.append(
                            Response(
                                assignment=assignment,
                                instrument_id=instrument_id,
                                instrument_version=instrument.version,
                                instrument_language=instrument.language,
                                answers={
                                    item: int(v)
                                    for item, v in zip(instrument.item_ids, answers[row], strict=True)
                                },
                                submitted_at=answered,
                                submitted_via=SubmittedVia.PORTAL,
                                scores=_scores_json(score),
                                risk=dict(score.risk),
                                any_risk=False,
                            )
                        )
            Assignment.objects.bulk_create(assignments, batch_size=5000)
            Response.objects.bulk_create(responses, batch_size=5000)  # takes the assignments' new ids
        if name == "courses":
            courses = {
                "therapist": therapist.pk,
                **{str(n): c.pk for n, c in zip(lengths, clients, strict=True)},
            }
        else:
            therapists[name] = {"therapist": therapist.pk, "client": clients[0].pk}
        rows["clients"] += len(clients)
        rows["sessions"] += len(sessions)
        rows["assignments"] += len(assignments)
        rows["responses"] += len(responses)
    from spacebetween.insights.services import refresh_practice

    refresh_practice(practice)
    return {"therapists": therapists, "courses": courses, "rows": rows}


def _timed(http: Any, path: str, repeats: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get() -> None:
        response = http.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}, not 200")

    get()  # warm-up: template compilation, caches
    with CaptureQueriesContext(connection) as captured:
        get()
    queries = len(captured)  # now: the next request clears the connection's query log
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        get()
        seconds.append(time.perf_counter() - began)
    return {
        "median_ms": round(stats.median(seconds) * 1000, 2),
        "p95_ms": round(stats.percentile(seconds, 95) * 1000, 2),
        "queries": queries,
    }


def measure(*, quick: bool, seed: int) -> dict[str, Any]:
    import django
    from django.core.management import call_command

    django.setup()
    from django.test import Client as HttpClient

    from spacebetween.accounts import signin
    from spacebetween.accounts.models import User

    call_command("migrate", verbosity=0)
    mode = "quick" if quick else "full"
    began = time.perf_counter()
    built = build(seed=seed, weeks=WEEKS[mode])
    build_seconds = time.perf_counter() - began
    repeats = REPEATS[mode]
    pages: dict[str, dict[str, Any]] = {"caseload": {}, "client": {}}
    by_sessions: dict[str, Any] = {}
    baseline: dict[str, Any] = {}

    def signed_in(therapist_id: int) -> Any:
        http = HttpClient()
        http.force_login(User.objects.get(pk=therapist_id))
        session = http.session
        session[signin.SESSION_MFA_DONE] = True  # past the second factor, as after a real sign-in
        session.save()
        return http

    for size, ids in built["therapists"].items():
        http = signed_in(ids["therapist"])
        pages["caseload"][size] = _timed(http, "/caseload/", repeats)
        pages["client"][size] = _timed(http, f"/clients/{ids['client']}/", repeats)
        if size == str(max(CASELOAD_SIZES)):
            baseline = {
                "endpoint": "GET /healthz (the same signed-in client)",
                **_timed(http, "/healthz", repeats),
            }
    courses = dict(built["courses"])
    http = signed_in(courses.pop("therapist"))
    for n, client_id in courses.items():
        by_sessions[n] = _timed(http, f"/clients/{client_id}/", repeats)
    full, small = str(max(CASELOAD_SIZES)), str(min(CASELOAD_SIZES))
    short, long = str(SHORT_COURSE), str(WEEKS[mode])
    client_ratio = stats.ratio(by_sessions[long]["median_ms"], baseline["median_ms"])
    return {
        "settings": "development, DEBUG off (Django test client, in process)",
        "data": {
            "clients_per_therapist": list(CASELOAD_SIZES),
            "weeks": WEEKS[mode],
            "instruments": list(INSTRUMENTS),
            "rows": built["rows"],
            "build_s": round(build_seconds, 2),
        },
        "repeats": repeats,
        "pages": {
            "caseload": {"path": "/caseload/", "by_caseload_size": pages["caseload"]},
            "client": {
                "path": "/clients/<id>/",
                "by_caseload_size": pages["client"],
                "by_sessions": by_sessions,
                "ratio_by_sessions": {
                    n: stats.ratio(figures["median_ms"], baseline["median_ms"])
                    for n, figures in by_sessions.items()
                },
            },
        },
        "baseline": baseline,
        "ratio": {page: stats.ratio(pages[page][full]["median_ms"], baseline["median_ms"]) for page in pages},
        "ratio_of": f"median latency with {full} clients / baseline median latency",
        "goal": {
            "caseload_queries_equal_at_sizes": [int(small), int(full)],
            "client_queries_equal_at_sessions": [int(short), int(long)],
            "client_max_ratio": CLIENT_MAX_RATIO,
        },
        "goal_met": pages["caseload"][small]["queries"] == pages["caseload"][full]["queries"]
        and by_sessions[short]["queries"] == by_sessions[long]["queries"],
        "client_ratio": client_ratio,
        "client_ratio_of": f"client page median latency with {long} sessions / baseline median latency",
        "client_ratio_goal_met": client_ratio <= CLIENT_MAX_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("step", nargs="?", choices=["measure"], help="(child) needs DATABASE_URL")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.step == "measure":
        print(json.dumps(measure(quick=args.quick, seed=args.seed)))
    else:
        print(json.dumps(run(quick=args.quick, seed=args.seed), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
