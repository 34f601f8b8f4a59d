"""GET/POST /sessions/<id>/reflection/: the treating therapist only; one short page; a refused form
writes nothing; the client page says per session whether a reflection was recorded, never what."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client, Episode, Session
from spacebetween.relationship import services
from spacebetween.relationship.measures import NOT_VALIDATED
from spacebetween.relationship.models import SessionReflection
from spacebetween.relationship.views import REFLECTION_SAVED
from tests.conftest import signed_in
from tests.relationship.conftest import NOTE, RATING

pytestmark = pytest.mark.django_db

POSTED = {**RATING, "feelings": ["protective", "close"], "intensity": "4", "note": NOTE}


def url(session: Session) -> str:
    return f"/sessions/{session.pk}/reflection/"


def test_the_therapist_sees_a_session_rating_labelled_as_not_validated(alice: User, session: Session) -> None:
    response = signed_in(alice).get(url(session))
    assert response.status_code == 200
    body = response.content.decode()
    assert NOT_VALIDATED in body
    assert 'data-measure="session-rating"' in body
    assert "Counter-transference check-in" in body
    for name in ("bond", "goals", "tasks", "overall"):
        assert f'name="{name}"' in body


def test_the_page_shows_a_licensed_form_when_the_practice_has_one(
    alice: User, session: Session, therapist_alliance_form: str
) -> None:
    body = signed_in(alice).get(url(session)).content.decode()
    assert 'data-measure="practice-wai-t"' in body
    assert NOT_VALIDATED not in body


def test_the_get_is_audited(alice: User, session: Session) -> None:
    signed_in(alice).get(url(session))
    event = AuditEvent.objects.get(action="R", entity_type="Session")
    assert (event.actor_id, event.entity_id) == (alice.pk, str(session.pk))


def test_posting_records_it_and_returns_to_the_client(alice: User, session: Session) -> None:
    response = signed_in(alice).post(url(session), POSTED, follow=True)
    assert response.redirect_chain[-1][0] == f"/clients/{session.episode.client_id}/"
    assert REFLECTION_SAVED in response.content.decode()
    saved = SessionReflection.objects.get()
    assert (saved.answers, saved.feelings, saved.intensity) == (RATING, ["protective", "close"], 4)


def test_the_form_comes_back_filled_in_to_correct(alice: User, session: Session) -> None:
    signed_in(alice).post(url(session), POSTED)
    body = signed_in(alice).get(url(session)).content.decode()
    assert NOTE in body
    checked = set(re.findall(r'name="feelings" value="(\w+)"[^>]*checked', body))
    assert checked == {"protective", "close"}
    assert re.search(r'name="bond"[^>]*value="7"', body)


def test_a_refused_form_writes_nothing(alice: User, session: Session) -> None:
    before = AuditEvent.objects.count()
    response = signed_in(alice).post(url(session), {**POSTED, "bond": "12", "intensity": ""})
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert SessionReflection.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_feelings_without_intensity_are_shown_next_to_the_field(alice: User, session: Session) -> None:
    response = signed_in(alice).post(url(session), {**POSTED, "intensity": ""})
    assert response.context["form"].errors["intensity"] == [services.INTENSITY_REQUIRED]
    assert SessionReflection.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client: HttpClient, session: Session) -> None:
    response = client.get(url(session))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_colleague_gets_404(bob: User, session: Session) -> None:
    assert signed_in(bob).get(url(session)).status_code == 404


def test_a_colleagues_post_gets_404_and_writes_nothing(bob: User, session: Session) -> None:
    assert signed_in(bob).post(url(session), POSTED).status_code == 404
    assert SessionReflection.objects.count() == 0


def test_the_supervisor_gets_404_on_an_unshared_episode(sam: User, session: Session) -> None:
    assert signed_in(sam).get(url(session)).status_code == 404


def test_the_supervisor_gets_403_on_a_shared_episode(
    sam: User, shared_episode: Episode, session: Session
) -> None:
    assert signed_in(sam).post(url(session), POSTED).status_code == 403
    assert SessionReflection.objects.count() == 0


def test_an_admin_gets_403(admin: User, session: Session) -> None:
    assert signed_in(admin).get(url(session)).status_code == 403


def test_the_client_gets_403(carol_user: User, session: Session) -> None:
    assert signed_in(carol_user).get(url(session)).status_code == 403


def test_another_practice_gets_404(oscar: User, session: Session) -> None:
    assert signed_in(oscar).get(url(session)).status_code == 404


# ------------------------------------------------------------------------------ the client page


def test_the_client_page_says_whether_a_reflection_was_recorded(
    alice: User, client_record: Client, session: Session
) -> None:
    http = signed_in(alice)
    page = f"/clients/{client_record.pk}/"
    body = http.get(page).content.decode()
    assert "No reflection yet" in body
    assert f'href="{url(session)}"' in body
    http.post(url(session), POSTED)
    body = http.get(page).content.decode()
    assert "Reflection recorded" in body
    assert NOTE not in body
    assert "Protective" not in body


def test_the_supervisor_sees_only_that_it_was_recorded(
    alice: User, sam: User, client_record: Client, shared_episode: Episode, session: Session
) -> None:
    signed_in(alice).post(url(session), POSTED)
    body = signed_in(sam).get(f"/clients/{client_record.pk}/").content.decode()
    assert "Reflection recorded" in body
    assert url(session) not in body
    assert NOTE not in body
