"""Reads: the practice's retention rule, when a client's record may be erased, and erasures done."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max

from spacebetween import clock
from spacebetween.clients.models import Client
from spacebetween.practice.models import Practice
from spacebetween.rights.models import DEFAULT_RETENTION_YEARS, Erasure, ErasureMode, RetentionPolicy


def retention_years(practice: Practice | int) -> int:
    practice_id = practice if isinstance(practice, int) else practice.pk
    policy = RetentionPolicy.objects.filter(practice_id=practice_id).first()
    return policy.years_after_last_episode if policy is not None else DEFAULT_RETENTION_YEARS


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Retention:
    years: int
    open_episodes: int
    kept_from: dt.date  # the last episode's end (or the record's creation, with no episode)
    kept_until: dt.date  # the first day erasure is allowed
    today: dt.date

    @property
    def may_erase(self) -> bool:
        return self.open_episodes == 0 and self.today >= self.kept_until


def retention_for(client: Client, *, now: dt.datetime | None = None) -> Retention:
    """How long the client's clinical record must be kept: `years` after the last episode ends."""
    when = now or clock.now()
    episodes = client.episodes.all()
    last_end = episodes.aggregate(last=Max("ended_on"))["last"]
    # Imported history counts from its own end; a record without episodes, from its creation.
    kept_from = last_end if last_end is not None else client.created_at.date()
    years = retention_years(client.practice_id)
    return Retention(
        years=years,
        open_episodes=episodes.filter(ended_on__isnull=True).count(),
        kept_from=kept_from,
        kept_until=add_years(kept_from, years),
        today=when.date(),
    )


def anonymised(client: Client | int) -> bool:
    client_id = client if isinstance(client, int) else client.pk
    return Erasure.objects.filter(client_id=client_id, mode=ErasureMode.ANONYMISE).exists()
