"""Who may read a reflection: the treating therapist; the supervisor that one was recorded, on a shared
episode, but never its note; never an admin, a colleague, another practice or the client."""

from __future__ import annotations

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode, Session
from spacebetween.clients.selectors import client_record
from spacebetween.relationship import selectors, services
from tests.relationship.conftest import NOTE, RATING

pytestmark = pytest.mark.django_db


@pytest.fixture
def reflected(alice: User, session: Session) -> Session:
    services.reflection_record(
        actor=alice, session=session, answers=RATING, feelings=["bored"], intensity=2, note=NOTE
    )
    return session


def test_the_treating_therapist_reads_the_note(alice: User, reflected: Session) -> None:
    view = selectors.reflection_for(alice, reflected.pk)
    assert view is not None
    assert (view.note, view.reflection.feelings) == (NOTE, ["bored"])


def test_the_supervisor_never_reads_the_note_even_on_a_shared_episode(
    sam: User, shared_episode: Episode, reflected: Session
) -> None:
    # The form tells the therapist the note is theirs alone; the supervisor sees only the check-ins
    # the therapist shares, in the supervision report (tests/insights/test_report.py).
    assert selectors.reflection_for(sam, reflected.pk) is None
    assert selectors.reflections_for(sam).filter(session=reflected).exists()  # it is in their scope


def test_the_supervisor_does_not_read_it_on_an_unshared_episode(sam: User, reflected: Session) -> None:
    assert selectors.reflection_for(sam, reflected.pk) is None


def test_an_admin_never_reads_it(admin: User, reflected: Session) -> None:
    assert selectors.reflection_for(admin, reflected.pk) is None


def test_the_client_never_reads_it(carol_user: User, shared_episode: Episode, reflected: Session) -> None:
    assert selectors.reflection_for(carol_user, reflected.pk) is None
    assert not selectors.reflections_for(carol_user).exists()


def test_a_colleague_does_not_read_it(bob: User, reflected: Session) -> None:
    assert selectors.reflection_for(bob, reflected.pk) is None


def test_another_practice_does_not_read_it(oscar: User, reflected: Session) -> None:
    assert selectors.reflection_for(oscar, reflected.pk) is None


def test_the_status_is_one_query_and_says_which_sessions_have_one(
    alice: User, reflected: Session, django_assert_num_queries
) -> None:
    record = client_record(alice, reflected.episode.client)
    with django_assert_num_queries(1):
        groups = selectors.reflection_status(alice, record.episodes)
    assert [(g.episode_id, [(r.session.pk, r.recorded) for r in g.sessions]) for g in groups] == [
        (reflected.episode_id, [(reflected.pk, True)])
    ]
