"""Writes for the insights: a practice's rules, refits of its expected-recovery curves, and the
stored current signals of its episodes.

Signals are refreshed after every answered questionnaire and therapist reflection (on commit, so a
failure here can never undo an acknowledged answer), and for a whole practice by
`spacebetween insights refresh` (after a refit or a change of rules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.models import Client, EndReason, Episode
from spacebetween.core import trajectories
from spacebetween.core.instruments import Instrument
from spacebetween.insights import selectors
from spacebetween.insights.analysis import OUTCOME_CONSTRUCTS, EpisodeInsight
from spacebetween.insights.models import EpisodeSignal, ExpectedRecoveryFit, InsightSettings, StaleEpisode
from spacebetween.insights.series import load_episode_scores, primary_scale
from spacebetween.measures.selectors import instruments_for
from spacebetween.practice.models import Practice

SETTINGS_FIELDS = (
    "no_improvement_by_session",
    "overdue_after_days",
    "alliance_drop_points",
    "alliance_floor",
    "alliance_gap_points",
    "alliance_gap_sessions",
)


def settings_save(*, actor: User, request: object = None, **values: object) -> InsightSettings:
    """Change the practice's signal and rupture rules (admins only), then refresh its signals."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only a practice admin can change the insight rules.")
    with transaction.atomic():
        settings, _ = InsightSettings.objects.select_for_update().get_or_create(practice_id=actor.practice_id)
        changed = [name for name in SETTINGS_FIELDS if getattr(settings, name) != values.get(name)]
        for name in SETTINGS_FIELDS:
            setattr(settings, name, values.get(name))
        settings.updated_by = actor
        settings.full_clean()
        settings.save()
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.INSIGHT_SETTINGS,
            entity_id=settings.pk,
            purpose=Purpose.OPERATIONS,
            request=request,  # type: ignore[arg-type]
            detail="changed: " + (", ".join(changed) or "nothing"),
        )
    refresh_practice(settings.practice)
    return settings


def report_made(
    *, actor: User, client: Client, audience: str, checkins: bool, request: HttpRequest | None = None
) -> None:
    """Audit a progress report made (a read of the client's record, exported as a PDF): the audience
    and whether the therapist's check-ins were included, never the report's content."""
    with transaction.atomic():
        record(
            action=Action.READ,
            event_type="export",
            actor=actor,
            entity_type=Entity.CLIENT,
            entity_id=client.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail=f"progress report {audience}" + (" with check-ins" if checkins else ""),
        )


@dataclass
class FitReport:
    fitted: dict[str, int] = field(default_factory=dict)  # instrument id -> episodes fitted on
    not_enough: dict[str, tuple[int, int]] = field(default_factory=dict)  # instrument id -> (have, need)


def fit_practice(
    practice: Practice, *, actor: User | None = None, now: dt.datetime | None = None
) -> FitReport:
    """Refit each outcome measure's expected-recovery curve on the practice's own completed episodes
    (end reason "completed"), where there are enough; curves of measures without enough stay as they
    were. Never fitted on anything but this practice's data."""
    now = now or clock.now()
    instruments = instruments_for(practice)
    completed = list(
        Episode.objects.filter(
            client__practice=practice, end_reason=EndReason.COMPLETED, ended_on__isnull=False
        )
    )
    scores = load_episode_scores(completed, instruments, time_zone=practice.time_zone)
    report = FitReport()
    outcome_ids = sorted(
        {
            i
            for entry in scores.values()
            for i in entry.series
            if instruments[i].construct in OUTCOME_CONSTRUCTS
        }
    )
    for instrument_id in outcome_ids:
        instrument = instruments[instrument_id]
        keys, sessions, values = [], [], []
        for pk, entry in scores.items():
            for point in entry.series.get(instrument_id, []):
                keys.append(pk)
                sessions.append(point.session_number)
                values.append(point.score)
        panel = trajectories.Panel.from_long(
            np.array(keys, dtype=np.int64), np.array(sessions, dtype=np.int64), np.array(values)
        )
        try:
            fit = trajectories.fit_expected_recovery(
                panel,
                instrument_id=instrument_id,
                higher_is_better=primary_scale(instrument).direction == "higher_is_better",
            )
        except trajectories.NotEnoughData as exc:
            report.not_enough[instrument_id] = (exc.have, exc.needed)
            continue
        with transaction.atomic():
            row = ExpectedRecoveryFit.objects.create(
                practice=practice,
                instrument_id=instrument_id,
                parameters=fit.to_json(),
                n_episodes=fit.n_episodes,
                n_scores=fit.n_scores,
                fitted_at=now,
                fitted_by=actor,
            )
            record(
                action=Action.EXECUTE,
                actor=actor,
                entity_type=Entity.EXPECTED_RECOVERY_FIT,
                entity_id=row.pk,
                practice_id=practice.pk,
                purpose=Purpose.OPERATIONS,
                detail=f"{instrument_id} fitted on {fit.n_episodes} completed episodes",
            )
        report.fitted[instrument_id] = fit.n_episodes
    return report


def _signal_rows(insight: EpisodeInsight, now: dt.datetime) -> list[EpisodeSignal]:
    return [
        EpisodeSignal(
            episode=insight.scores.episode,
            instrument_id=alert.instrument_id,
            kind=alert.kind,
            level=alert.level,
            session_number=alert.session_number,
            value=alert.value,
            threshold=alert.threshold,
            explanation=alert.explanation,
            computed_at=now,
        )
        for alert in insight.alerts
    ]


def refresh_episodes(
    episodes: list[Episode],
    practice: Practice,
    *,
    instruments: Mapping[str, Instrument] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Recompute and store the current signals of these episodes (replacing their old ones in one
    delete and one insert, however many episodes), computed at `now` (the clock's time if None);
    returns how many signals hold."""
    now = now or clock.now()
    insights = selectors.episode_insights(episodes, practice, instruments)
    rows = [row for insight in insights.values() for row in _signal_rows(insight, now)]
    with transaction.atomic():
        EpisodeSignal.objects.filter(episode_id__in=[e.pk for e in episodes]).delete()
        EpisodeSignal.objects.bulk_create(rows)
    return len(rows)


def refresh_episode_ids(ids: list[int], *, now: dt.datetime | None = None) -> int:
    """Refresh the signals of these episodes, whichever practices they belong to. Ended episodes keep
    no current signals: nothing is left to act on."""
    EpisodeSignal.objects.filter(episode_id__in=ids, episode__ended_on__isnull=False).delete()
    by_practice: dict[int, list[Episode]] = {}
    for episode in Episode.objects.filter(pk__in=ids, ended_on__isnull=True).select_related(
        "client__practice"
    ):
        by_practice.setdefault(episode.client.practice_id, []).append(episode)
    return sum(refresh_episodes(group, group[0].client.practice, now=now) for group in by_practice.values())


MARKS_PER_DELETE = 200  # two parameters each, well inside every SQLite build's limit


def refresh_stale(episode_ids: Iterable[int] | None = None, *, now: dt.datetime | None = None) -> int:
    """Refresh episodes marked stale (all, or those among `episode_ids`), their signals computed at
    `now`; returns how many. A mark made while the refresh ran (a newer answer) is kept for the next
    round, so no answer goes unseen."""
    marks = StaleEpisode.objects.all()
    if episode_ids is not None:
        marks = marks.filter(episode_id__in=list(episode_ids))
    seen = dict(marks.values_list("episode_id", "marked_at"))
    if not seen:
        return 0
    refresh_episode_ids(sorted(seen), now=now)
    # Only the marks as they were read: one moved on by a newer answer stays for the next round.
    marks_read = list(seen.items())
    for start in range(0, len(marks_read), MARKS_PER_DELETE):
        StaleEpisode.objects.filter(
            reduce(
                or_, (Q(episode_id=e, marked_at=t) for e, t in marks_read[start : start + MARKS_PER_DELETE])
            )
        ).delete()
    return len(seen)


def refresh_stale_due(*, now: dt.datetime) -> int:
    """The worker's minute job: refresh every episode marked stale, its signals computed at `now`."""
    return refresh_stale(now=now)


@dataclass(frozen=True)
class RefreshReport:
    fit: FitReport
    episodes: int
    signals: int


def refresh_practice(practice: Practice, *, refit: bool = False, actor: User | None = None) -> RefreshReport:
    """Optionally refit the practice's curves, then recompute the signals of all its open episodes."""
    fit = fit_practice(practice, actor=actor) if refit else FitReport()
    episodes = list(
        Episode.objects.filter(client__practice=practice, ended_on__isnull=True).select_related("client")
    )
    # Closed episodes keep no current signals: nothing is left to act on.
    EpisodeSignal.objects.filter(episode__client__practice=practice, episode__ended_on__isnull=False).delete()
    started = clock.now()
    signals = refresh_episodes(episodes, practice)
    StaleEpisode.objects.filter(episode__client__practice=practice, marked_at__lte=started).delete()
    return RefreshReport(fit=fit, episodes=len(episodes), signals=signals)
