"""Bulk fixtures for benchmarks: a large synthetic data set written with `bulk_create`.

For benchmark fixtures only: it bypasses the services, so it writes NO per-row audit events, and its
accounts have unusable passwords. Never use it for data a person will work with; the demo practice
(`spacebetween.demo.generator.generate_demo_practice`) goes through the services.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection, transaction

from spacebetween.accounts.models import Role, User
from spacebetween.clients.models import Attendance, Client, EndReason, Episode, Session
from spacebetween.demo import vocabulary
from spacebetween.demo.generator import DEMO_TIME_ZONE, P_CANCELLED, P_DID_NOT_ATTEND, SESSION_HOURS
from spacebetween.practice.models import Practice


@dataclass(frozen=True)
class BulkCounts:
    practices: int
    therapists: int
    clients: int
    episodes: int
    sessions: int
    participants: int


BULK_EMAIL_DOMAIN = "bench.spacebetween.test"
_END_REASONS = (EndReason.COMPLETED, EndReason.DROPPED_OUT, EndReason.REFERRED_ON)
_END_WEIGHTS = (0.6, 0.3, 0.1)
_P_ENDED = 0.6


def generate_bulk(
    *,
    seed: int,
    practices: int,
    therapists_per_practice: int,
    clients_per_therapist: int,
    sessions_per_episode: int,
    today: dt.date | None = None,
    batch_size: int = 2000,
) -> BulkCounts:
    """A large synthetic data set for benchmarks: one episode per client, `sessions_per_episode`
    weekly sessions each, e.g. 100 x 10 x 1000 for a million episodes.

    For benchmark fixtures only: rows are written with `bulk_create` in batches of `batch_size`
    clients, which bypasses the services and so writes NO per-row audit events, and the accounts
    have unusable passwords. Never use it for data a person will work with; the demo practice
    (`generate_demo_practice`) goes through the services.
    """
    if min(practices, therapists_per_practice, clients_per_therapist, sessions_per_episode) < 1:
        raise ValueError("every count must be at least 1")
    today = today or dt.date.today()
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    therapists = clients = sessions = participants = 0
    with transaction.atomic():
        made = Practice.objects.bulk_create(
            Practice(name=f"Benchmark practice {p + 1:05d}", time_zone=DEMO_TIME_ZONE, country="GB")
            for p in range(practices)
        )
    for p, practice in enumerate(made):
        with transaction.atomic():
            staff = User.objects.bulk_create(
                User(
                    practice=practice,
                    email=f"p{p + 1:05d}.t{t + 1:04d}@{BULK_EMAIL_DOMAIN}",
                    full_name=f"{rng.choice(vocabulary.GIVEN_NAMES)} {rng.choice(vocabulary.FAMILY_NAMES)}",
                    role=Role.THERAPIST,
                    password=UNUSABLE_PASSWORD_PREFIX,
                )
                for t in range(therapists_per_practice)
            )
        therapists += len(staff)
        owners = [t for t in staff for _ in range(clients_per_therapist)]
        for start in range(0, len(owners), batch_size):
            counts = _bulk_batch(
                rng, practice, owners[start : start + batch_size], sessions_per_episode, today
            )
            clients += counts[0]
            sessions += counts[1]
            participants += counts[1]
    return BulkCounts(practices, therapists, clients, clients, sessions, participants)


def _bulk_batch(
    rng: random.Random, practice: Practice, owners: list[User], per_episode: int, today: dt.date
) -> tuple[int, int]:
    span = per_episode * 7
    with transaction.atomic():
        clients = Client.objects.bulk_create(
            Client(
                practice=practice,
                given_name=rng.choice(vocabulary.GIVEN_NAMES),
                family_name=rng.choice(vocabulary.FAMILY_NAMES),
                primary_therapist=owner,
            )
            for owner in owners
        )
        episodes: list[Episode] = []
        for client, owner in zip(clients, owners, strict=True):
            started_on = today - dt.timedelta(days=span + rng.randint(7, 730))
            ended = rng.random() < _P_ENDED
            episodes.append(
                Episode(
                    client=client,
                    therapist=owner,
                    referral_reason=rng.choice(vocabulary.INDIVIDUAL_REASONS),
                    started_on=started_on,
                    ended_on=started_on + dt.timedelta(days=span - 7) if ended else None,
                    end_reason=str(rng.choices(_END_REASONS, _END_WEIGHTS)[0]) if ended else "",
                )
            )
        Episode.objects.bulk_create(episodes)
        rows: list[Session] = []
        for episode in episodes:
            first = dt.datetime.combine(episode.started_on, dt.time(rng.choice(SESSION_HOURS)), tzinfo=dt.UTC)
            for k in range(per_episode):
                draw = rng.random()
                attendance = (
                    Attendance.CANCELLED
                    if draw < P_CANCELLED
                    else Attendance.DID_NOT_ATTEND
                    if draw < P_CANCELLED + P_DID_NOT_ATTEND
                    else Attendance.ATTENDED
                )
                rows.append(
                    Session(episode=episode, starts_at=first + dt.timedelta(weeks=k), attendance=attendance)
                )
        Session.objects.bulk_create(rows, batch_size=5000)
        # One participant per session: plain rows, without building a model object for each.
        through = Session.participants.through._meta
        quote = connection.ops.quote_name
        sql = "INSERT INTO {} ({}, {}) VALUES (%s, %s)".format(  # noqa: S608 - names from the model
            quote(through.db_table),
            quote(through.get_field("session").column),
            quote(through.get_field("client").column),
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(s.pk, s.episode.client_id) for s in rows])
    return len(clients), len(rows)
