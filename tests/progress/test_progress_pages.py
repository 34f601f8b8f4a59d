"""The pages: the client's "Your progress" in the portal (own record only, plain words, nothing
internal, reads audited), the link from the portal page, the therapist's switch (treating therapist
only) and practice per week on the client page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Client, Episode
from spacebetween.exercises import services as exercises
from spacebetween.progress import services
from spacebetween.progress.models import ProgressViewSetting
from spacebetween.progress.wording import INTERNAL_WORDS
from tests.conftest import FakeClock, share_for_supervision, signed_in
from tests.exercises.conftest import THOUGHT_RECORD, assign
from tests.progress.conftest import phq9

pytestmark = pytest.mark.django_db

OCT = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
PROGRESS = "/me/progress/"


def _text(html: str) -> str:
    """What a reader sees: the page's main content without tags."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).lower()


def test_the_client_reads_their_phq9_over_time_in_plain_words_and_nothing_internal(
    alice: User, carol_user: User, episode: Episode
) -> None:
    first = phq9(alice, episode, 18, OCT)
    later = phq9(alice, episode, 9, OCT + dt.timedelta(weeks=6))
    response = signed_in(carol_user).get(PROGRESS)
    assert response.status_code == 200
    page = _text(response.content.decode())
    assert "your progress" in page  # the right page
    assert "your mood questionnaire (phq-9)" in page
    assert "lower scores mean fewer difficulties" in page
    assert "your score went from 18 on 5 oct 2026 to 9 on 16 nov 2026" in page
    found = [word for word in INTERNAL_WORDS if word in page]
    assert found == []
    reads = AuditEvent.objects.filter(actor_id=carol_user.pk, action="R", purpose="PATRQT")
    assert {(e.entity_type, e.entity_id) for e in reads} >= {
        ("Client", str(episode.client_id)),
        ("Response", str(first.pk)),
        ("Response", str(later.pk)),
    }


def test_the_check_for_internal_words_can_fail(alice: User, client_record: Client, episode: Episode) -> None:
    """The same check on the therapist's client page, which does show severity bands, finds them."""
    phq9(alice, episode, 18, OCT)
    page = _text(signed_in(alice).get(f"/clients/{client_record.pk}/").content.decode())
    assert [word for word in INTERNAL_WORDS if word in page] != []


def test_the_portal_links_the_view_and_says_a_plain_sentence_when_it_is_off(
    alice: User, carol_user: User, client_record: Client, episode: Episode
) -> None:
    phq9(alice, episode, 18, OCT)
    http = signed_in(carol_user)
    portal = http.get("/me/").content.decode()
    assert "Hello, Carol" in portal and f'href="{PROGRESS}"' in portal
    services.progress_view_set(actor=alice, client=client_record, shown=False)
    portal = http.get("/me/").content.decode()
    assert "Hello, Carol" in portal
    assert f'href="{PROGRESS}"' not in portal
    assert "Your therapist will go through your progress with you" in portal
    page = http.get(PROGRESS).content.decode()
    assert "Your therapist will go through your progress with you" in page
    assert "PHQ-9" not in page and "18" not in _text(page).replace("2026", "")


def test_clinicians_cannot_open_the_clients_view(alice: User, episode: Episode) -> None:
    assert signed_in(alice).get(PROGRESS).status_code == 403


def test_the_treating_therapist_turns_it_off_from_the_client_page(
    alice: User, client_record: Client, episode: Episode
) -> None:
    http = signed_in(alice)
    detail = http.get(f"/clients/{client_record.pk}/").content.decode()
    assert (
        "Progress in the client&#x27;s portal: shown" in detail
        or "Progress in the client's portal: shown" in detail
    )
    assert f'href="/clients/{client_record.pk}/progress-view/"' in detail
    page = http.get(f"/clients/{client_record.pk}/progress-view/")
    assert page.status_code == 200 and "Progress in the portal: Carol Jones" in page.content.decode()
    refused = http.post(f"/clients/{client_record.pk}/progress-view/", {})
    assert refused.status_code == 400
    assert "Choose whether the client sees their progress in the portal." in refused.content.decode()
    assert not ProgressViewSetting.objects.exists()
    done = http.post(f"/clients/{client_record.pk}/progress-view/", {"shown": "no"})
    assert done.status_code == 302 and done["Location"] == f"/clients/{client_record.pk}/"
    assert ProgressViewSetting.objects.get(client=client_record).shown is False
    detail = http.get(f"/clients/{client_record.pk}/").content.decode()
    assert "portal: hidden" in detail


def test_a_colleague_gets_404_and_a_supervisor_403_both_audited(
    alice: User, bob: User, sam: User, client_record: Client, episode: Episode
) -> None:
    url = f"/clients/{client_record.pk}/progress-view/"
    assert signed_in(bob).get(url).status_code == 404
    assert signed_in(bob).post(url, {"shown": "no"}).status_code == 404
    share_for_supervision(alice, episode)
    supervisor = signed_in(sam)
    assert supervisor.get(url).status_code == 403
    assert supervisor.post(url, {"shown": "no"}).status_code == 403
    detail = supervisor.get(f"/clients/{client_record.pk}/").content.decode()
    assert "portal: shown" in detail and url not in detail  # the state, not the way to change it
    assert not ProgressViewSetting.objects.exists()
    denied = AuditEvent.objects.filter(event_type="access-denied", entity_id=str(client_record.pk))
    assert {e.actor_id for e in denied} == {bob.pk, sam.pk}


def test_practice_per_week_beside_the_measures_on_the_client_page(
    alice: User, carol_user: User, client_record: Client, episode: Episode, clock: FakeClock
) -> None:
    clock.set(OCT)
    http = signed_in(alice)
    assert "Practice per week" not in http.get(f"/clients/{client_record.pk}/").content.decode()
    assignment = assign(alice, episode, OCT.date())
    counts = []
    for n in (1, 6):
        while assignment.entries.count() < n:
            exercises.entry_record(actor=carol_user, assignment=assignment, answers=THOUGHT_RECORD)
        with CaptureQueriesContext(connection) as captured:
            body = http.get(f"/clients/{client_record.pk}/").content.decode()
        counts.append(len(captured))
    assert counts[0] == counts[1]  # the same queries however many entries
    line = body.split('class="practice-per-week"', 1)[1].split("</p>", 1)[0]
    assert "Practice per week" in line and "5 Oct 2026: 6" in line and "6 in all" in line
    # after the episode's measures, before the reflections: beside the charts
    assert body.index("practice-per-week") > body.index(f'id="insights-{episode.pk}"')
