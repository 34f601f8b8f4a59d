"""POST /search/: a therapist searches their own caseload's progress notes, their own process notes and
the current formulations; never across a wall that `clients.access` draws; the query in no URL, log
line or audit row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode, Session
from spacebetween.formulation.services import formulation_revise
from spacebetween.notes import services as notes
from spacebetween.notes.models import NoteKind
from spacebetween.relationship import services as relationship
from spacebetween.search.selectors import caseload_search, excerpt
from tests.conftest import share_for_supervision, signed_in

pytestmark = pytest.mark.django_db

PROGRESS = "Explored grief about her father; agreed a weekly walk"
PROCESS = "Felt pulled to rescue her; the father again, in the room"
FORMULATION = "Wishes to be looked after; expects to be left"


@pytest.fixture
def written(alice: User, episode: Episode, session: Session) -> Session:
    notes.note_save(actor=alice, session=session, kind=NoteKind.PROGRESS, body=PROGRESS)
    notes.note_save(actor=alice, session=session, kind=NoteKind.PROCESS, body=PROCESS)
    formulation_revise(actor=alice, episode=episode, fields={"ccrt_wish": FORMULATION})
    return session


def _results(user: User, query: str) -> str:
    response = signed_in(user).post(reverse("search"), {"query": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Search your caseload" in body and "data-search-results" in body  # the results page
    return body


def test_the_therapist_finds_her_progress_note_process_note_and_formulation(
    alice: User, written: Session
) -> None:
    body = _results(alice, "FATHER")
    assert "2 results" in body
    assert reverse("progress_note", args=[written.pk]) in body
    assert reverse("process_note", args=[written.pk]) in body
    assert "<mark>father</mark>" in body
    formulation = _results(alice, "looked after")
    assert reverse("formulation_workspace", args=[written.episode_id]) in formulation


def test_a_colleague_another_practice_and_an_unshared_supervisor_find_nothing(
    bob: User, oscar: User, sam: User, written: Session
) -> None:
    for user in (bob, oscar, sam):
        body = _results(user, "father")
        assert "0 results" in body and "Nothing in your caseload holds that" in body
        assert PROGRESS not in body and "rescue" not in body


def test_a_supervisor_finds_the_shared_progress_note_never_a_process_note(
    alice: User, sam: User, episode: Episode, written: Session
) -> None:
    share_for_supervision(alice, episode)
    notes.process_note_share(actor=alice, session=written, shared=True)
    body = _results(sam, "father")
    assert "1 result" in body and reverse("progress_note", args=[written.pk]) in body
    assert reverse("process_note", args=[written.pk]) not in body and "rescue" not in body


def test_the_query_is_posted_and_kept_nowhere(alice: User, written: Session) -> None:
    http = signed_in(alice)
    assert http.get(reverse("search"), {"query": "father"}).content.decode().count("data-search-hit") == 0
    http.post(reverse("search"), {"query": "grief"})
    events = AuditEvent.objects.filter(actor_id=alice.pk, action="R")
    assert events.filter(entity_type="Search").exists()
    assert events.filter(entity_type="ProgressNote").exists()
    assert not any("grief" in (e.detail + e.entity_id) for e in AuditEvent.objects.all())


def test_a_too_short_query_gets_a_clear_error(alice: User) -> None:
    response = signed_in(alice).post(reverse("search"), {"query": "a"})
    assert response.status_code == 400 and "Type at least 2 characters" in response.content.decode()
    assert "data-search-results" not in response.content.decode()


def test_a_client_and_an_admin_cannot_search(admin: User, carol_user: User, written: Session) -> None:
    for user in (admin, carol_user):
        assert caseload_search(None, user, "father") == []
        assert signed_in(user).post(reverse("search"), {"query": "father"}).status_code == 403


def test_the_excerpt_shows_the_match_in_its_context() -> None:
    before, match, after = excerpt("x" * 200 + " Her Father  came " + "y" * 200, "father", width=10)
    assert (before, match, after) == ("…xxxxx Her ", "Father", " came yyyy…")


def test_a_tagged_theme_is_found_and_links_to_the_sessions_themes(
    alice: User, bob: User, written: Session
) -> None:
    relationship.theme_tag(actor=alice, session=written, kind="counter_transference", label="wish to rescue")
    body = _results(alice, "rescue")
    assert "Session themes: Carol" in body and reverse("session_themes", args=[written.pk]) in body
    assert "counter-transference: wish to <mark>rescue</mark>" in body
    assert "Session themes" not in _results(bob, "rescue")
