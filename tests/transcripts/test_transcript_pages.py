"""The transcript pages: upload, who is who, the coded session, the episode's chart; who sees what,
every read audited, every bad input answered with its error and nothing changed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Client, Episode, Session
from spacebetween.insights.series import load_episode_scores
from spacebetween.measures import services as measures
from spacebetween.measures.selectors import instruments_for, licensed_pack, pack_terms_digest
from spacebetween.transcripts import services
from spacebetween.transcripts.models import Transcript
from spacebetween.transcripts.presenters import CODE_LABELS, PAD, WIDTH
from tests.conftest import signed_in
from tests.transcripts.conftest import CLIENT, OTHER, ROLES, SECRET, THERAPIST, VTT

pytestmark = pytest.mark.django_db


def _page(http: HttpClient, session: Session) -> str:
    response = http.get(reverse("session_transcript", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _reads() -> int:
    return AuditEvent.objects.filter(entity_type="Transcript", action="R").count()


def test_upload_map_speakers_and_see_the_coded_session(alice: User, session: Session) -> None:
    http = signed_in(alice)
    assert 'enctype="multipart/form-data"' in _page(http, session)
    upload = SimpleUploadedFile("session.vtt", VTT, content_type="text/vtt")
    response = http.post(reverse("session_transcript", args=[session.pk]), {"file": upload})
    assert response.status_code == 302 and response["Location"] == reverse(
        "transcript_speakers", args=[session.pk]
    )
    form = http.get(response["Location"]).content.decode()
    for name in ("Dr Ames", "Carol", "Interpreter"):
        assert f"<legend>{name}" in form
    roles = {f"speaker_{THERAPIST}": "therapist", f"speaker_{CLIENT}": "client", f"speaker_{OTHER}": "ignore"}
    response = http.post(reverse("transcript_speakers", args=[session.pk]), roles)
    assert response.status_code == 302
    page = _page(http, session)
    transcript = Transcript.objects.get()
    codes = [c for c in transcript.turns.order_by("number").values_list("code", flat=True) if c]
    shown = re.findall(r'data-code="([a-z_]+)">([^<]+)<', page)
    assert [c for c, _ in shown] == codes  # each code with its written label, not colour alone
    assert all(label == CODE_LABELS[c] for c, label in shown)
    assert SECRET in page and "left out of the coding" in page
    assert "A model&#x27;s estimate" in page and "never on its own to judge a therapist" in page
    for key in ("reflection_to_question", "percent_open_questions", "change_vs_sustain", "lsm"):
        assert f'data-figure="{key}"' in page
    # questions and reflections are coded with their subtype, so the two shares are given
    assert "question" not in codes and "reflection" not in codes
    assert "open_question" in codes  # "How have things been since we last met?"
    share = re.search(r'data-figure="percent_open_questions"><dt>[^<]*</dt><dd><strong>([^<]+)<', page)
    assert share and share.group(1).endswith(" %")
    assert re.search(r'data-emotion="client">Client: [^<]*anxious', page)
    assert "Language style matching across the session" in page
    assert _reads() >= 2  # the speakers page and the session page each audited their read


def test_a_bad_file_comes_back_with_its_line_and_nothing_is_stored(alice: User, session: Session) -> None:
    bad = SimpleUploadedFile("s.srt", b"1\nsoon\nA: hi\n")
    response = signed_in(alice).post(reverse("session_transcript", args=[session.pk]), {"file": bad})
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body and "Line 2: expected a cue timing" in body
    assert not Transcript.objects.exists()


def test_a_speaker_left_without_a_role_is_named(alice: User, session: Session) -> None:
    http = signed_in(alice)
    http.post(reverse("session_transcript", args=[session.pk]), {"file": SimpleUploadedFile("s.vtt", VTT)})
    response = http.post(
        reverse("transcript_speakers", args=[session.pk]),
        {f"speaker_{THERAPIST}": "therapist", f"speaker_{CLIENT}": "client"},
    )
    assert response.status_code == 400 and "Say who “Interpreter” is" in response.content.decode()
    assert Transcript.objects.get().coded_at is None


def test_the_supervisor_reads_a_shared_episodes_transcript_but_cannot_change_it(
    sam: User, session: Session, shared_episode: Episode, coded: Transcript
) -> None:
    http = signed_in(sam)
    page = _page(http, session)
    assert SECRET in page and "transcript_delete" not in page and "Delete the transcript" not in page
    assert http.post(reverse("transcript_delete", args=[session.pk])).status_code == 403
    assert http.get(reverse("transcript_speakers", args=[session.pk])).status_code == 403
    assert Transcript.objects.exists()
    assert AuditEvent.objects.filter(entity_type="Transcript", action="R", actor_id=sam.pk).count() == 1


def test_no_one_else_reaches_it(
    bob: User, sam: User, admin: User, session: Session, coded: Transcript
) -> None:
    url = reverse("session_transcript", args=[session.pk])
    assert signed_in(sam).get(url).status_code == 404  # not shared for supervision
    assert signed_in(bob).get(url).status_code == 404
    assert signed_in(admin).get(url).status_code == 403
    assert _reads() == 0


def test_the_therapist_deletes_it(alice: User, session: Session, coded: Transcript) -> None:
    http = signed_in(alice)
    response = http.post(reverse("transcript_delete", args=[session.pk]), follow=True)
    assert response.status_code == 200 and "are deleted" in response.content.decode()
    assert not Transcript.objects.exists()


def test_the_episode_chart_shows_stored_figures(
    alice: User, client_record: Client, episode: Episode, session: Session, coded: Transcript
) -> None:
    Session.objects.filter(pk=session.pk).update(attendance=Attendance.ATTENDED)  # session 1 of the charts
    response = signed_in(alice).get(reverse("episode_transcripts", args=[episode.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "Session transcripts across the episode" in page
    assert "Reflection-to-question ratio" in page and "Language style matching" in page
    assert f"{reverse('client_detail', args=[client_record.pk])}#episode-{episode.pk}" in page
    assert SECRET not in page  # numbers only
    assert f"<td>{coded.summary['lsm']:g}</td>" in page
    assert "Open questions, % of questions" in page
    assert f"<td>{coded.summary['percent_open_questions']:g}</td>" in page
    assert AuditEvent.objects.filter(entity_type="Transcript", action="R", entity_id=str(coded.pk)).exists()
    assert AuditEvent.objects.filter(entity_type="Episode", action="R", entity_id=str(episode.pk)).exists()


def test_the_episode_figures_are_drawn_beside_its_outcome_and_alliance_charts_by_session_number(
    alice: User, admin: User, course: Callable[..., Episode]
) -> None:
    """Three attended sessions with PHQ-9 and WAI-SR scores; transcripts of sessions 1 and 3, and of a
    later session not marked attended. The transcript charts count sessions as the outcome charts do
    (`insights.series`), so session 3 sits at the right edge of both, and the unnumbered one is listed
    but left off the charts."""
    measures.licensed_pack_accept(  # the WAI-SR is in the licensed pack
        actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True
    )
    episode = course("Numbered", phq9=[16, 14, 11], wai_sr=[40, 44, 48])
    first, _, third = episode.sessions.order_by("starts_at")
    unmarked = clinical.session_create(
        actor=alice, episode=episode, starts_at=third.starts_at + dt.timedelta(days=1)
    )
    for held in (first, third, unmarked):
        services.transcript_upload(actor=alice, session=held, data=VTT, filename="session.vtt")
        services.transcript_code(actor=alice, session=held, roles=ROLES)

    response = signed_in(alice).get(reverse("episode_transcripts", args=[episode.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "Session transcripts across the episode" in page
    assert '<h2 id="insights-' in page and "Progress and the relationship</h2>" in page
    instruments = instruments_for(episode.client.practice)
    assert f"Data of “{instruments['phq9'].title}” as a table" in page  # the outcome chart
    assert "The space between: the client&#x27;s view of the relationship (WAI-SR points)" in page  # alliance
    scores = load_episode_scores([episode], instruments, time_zone="UTC")[episode.pk]
    assert [p.session_number for p in scores.series["phq9"]] == [1, 2, 3]
    lsm = re.search(r"Language style matching</figcaption>.*?</figure>", page, re.S)
    assert lsm is not None
    assert [float(x) for x in re.findall(r"<circle cx=\"([\d.]+)\"", lsm.group())] == [PAD, WIDTH - PAD]
    assert re.findall(r'<th scope="row">(session \d+)</th>', lsm.group()) == ["session 1", "session 3"]
    rows = re.findall(r'<tr data-session-number="(\d*)">', page)
    assert rows == ["1", "3", ""] and "Not on the charts until it is marked attended" in page
    assert reverse("session_edit", args=[unmarked.pk]) in page


def test_the_client_page_links_each_held_session_to_its_transcript(
    alice: User, client_record: Client, session: Session, coded: Transcript
) -> None:
    page = signed_in(alice).get(reverse("client_detail", args=[client_record.pk])).content.decode()
    assert reverse("session_transcript", args=[session.pk]) in page and "(coded)" in page
    assert SECRET not in page
