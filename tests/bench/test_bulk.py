"""The bulk benchmark fixtures."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.bulk import generate_bulk
from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.practice.models import Practice

TODAY = dt.date(2026, 11, 23)


@pytest.mark.django_db
def test_bulk_makes_the_requested_counts() -> None:
    counts = generate_bulk(
        seed=1,
        practices=2,
        therapists_per_practice=3,
        clients_per_therapist=4,
        sessions_per_episode=5,
        batch_size=5,
    )
    assert (counts.practices, counts.therapists, counts.clients, counts.episodes) == (2, 6, 24, 24)
    assert counts.sessions == counts.participants == 120
    assert (Practice.objects.count(), User.objects.count(), Client.objects.count()) == (2, 6, 24)
    assert (Episode.objects.count(), Session.objects.count()) == (24, 120)
    assert Session.participants.through.objects.count() == 120


@pytest.mark.django_db
def test_bulk_sessions_fall_within_their_episodes_and_ended_ones_have_reasons() -> None:
    generate_bulk(
        seed=2,
        practices=1,
        therapists_per_practice=2,
        clients_per_therapist=25,
        sessions_per_episode=6,
        today=TODAY,
    )
    for episode in Episode.objects.prefetch_related("sessions"):
        days = [s.starts_at.date() for s in episode.sessions.all()]
        assert len(days) == 6 and min(days) == episode.started_on and max(days) < TODAY
        assert episode.ended_on is None or (episode.ended_on == max(days) and episode.end_reason)
    assert Episode.objects.filter(ended_on__isnull=False).exists()
    assert Episode.objects.filter(ended_on__isnull=True).exists()


@pytest.mark.django_db
def test_bulk_accounts_cannot_sign_in_and_write_no_audit_events() -> None:
    generate_bulk(
        seed=3, practices=1, therapists_per_practice=2, clients_per_therapist=2, sessions_per_episode=2
    )
    assert not any(u.has_usable_password() or u.is_demo_account for u in User.objects.all())
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_bulk_refuses_a_count_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_bulk(
            seed=1, practices=1, therapists_per_practice=0, clients_per_therapist=1, sessions_per_episode=1
        )
