"""The rupture note and theme pages, and the timeline under the space-between chart: a detected rupture
gets a "Write a rupture note" link, the note and the themes appear on the timeline with the patterns,
a supervisor reads them only on a shared episode, and no export or other package reads the notes."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode, Session
from spacebetween.insights import services as insights
from spacebetween.measures import services as measures_catalogue
from spacebetween.measures.selectors import licensed_pack, pack_terms_digest
from spacebetween.relationship import services
from spacebetween.relationship.models import RuptureNote, SessionTheme
from tests.conftest import share_for_supervision, signed_in
from tests.insights.conftest import course  # noqa: F401  (the fixture)
from tests.rights.test_erasure import carol  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db
PACKAGE = Path(__file__).resolve().parent.parent.parent / "spacebetween"
WHAT = "Went quiet and agreed with everything after I mentioned the break"
NOTE_FORM = {
    "what_happened": WHAT,
    "therapist_part": "I rushed on",
    "repair": "",
    "kind": "withdrawal",
    "repaired": "no",
}


@pytest.fixture
def ruptured(alice: User, admin: User, course) -> Episode:  # noqa: F811
    """Baseline mean(50, 52, 51) = 51; 40 at session 4 is more than 4.8 points below it: a possible
    rupture; 52 at session 6 repairs it (as in tests/insights/test_pages.py)."""
    measures_catalogue.licensed_pack_accept(
        actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True
    )
    episode = course("Ruptured", phq9=[12, 11, 10, 10, 9, 8], wai_sr=[50, 52, 51, 40, 45, 52])
    insights.refresh_practice(alice.practice)
    return episode


def _sessions(episode: Episode) -> list[Session]:
    return list(episode.sessions.order_by("starts_at"))


def _client_page(user: User, episode: Episode) -> str:
    response = signed_in(user).get(reverse("client_detail", args=[episode.client_id]))
    assert response.status_code == 200
    return response.content.decode()


def _timeline(body: str, episode: Episode) -> str:
    found = re.search(
        rf'<section class="relationship-timeline" id="timeline-{episode.pk}".*?</section>', body, re.S
    )
    assert found, "the timeline is under the chart"
    return found.group(0)


def test_a_detected_rupture_gets_a_note_and_themes_show_their_pattern(alice: User, ruptured: Episode) -> None:
    sessions = _sessions(ruptured)
    rupture_session = sessions[3]
    timeline = _timeline(_client_page(alice, ruptured), ruptured)
    assert "Possible rupture (detected)" in timeline and "Repair (detected)" in timeline
    write = reverse("rupture_note", args=[rupture_session.pk])
    assert f'<a href="{write}">Write a rupture note' in timeline

    http = signed_in(alice)
    assert http.get(write).status_code == 200
    assert AuditEvent.objects.filter(
        action="R", entity_type="Session", entity_id=str(rupture_session.pk)
    ).exists()
    response = http.post(write, NOTE_FORM)
    assert response.status_code == 302 and response["Location"].endswith(f"#timeline-{ruptured.pk}")
    http.post(
        reverse("session_themes", args=[sessions[2].pk]),
        {"kind": "counter_transference", "label": "wish to rescue"},
    )
    # Marked by the therapist at session 5 (the chart found none there), with the same theme before it.
    http.post(
        reverse("session_themes", args=[sessions[4].pk]),
        {"kind": "counter_transference", "label": "Wish to rescue"},
    )
    http.post(
        reverse("rupture_note", args=[sessions[5].pk]),
        {**NOTE_FORM, "kind": "confrontation", "repaired": "yes"},
    )

    body = _client_page(alice, ruptured)
    timeline = _timeline(body, ruptured)
    assert "Withdrawal (moving away); not yet repaired." in timeline
    assert "Marked by the therapist" in timeline and "Confrontation (moving against); repaired." in timeline
    assert "Change the rupture note" in timeline and WHAT not in body
    patterns = re.search(r'<table class="theme-patterns responsive">.*?</table>', timeline, re.S)
    assert patterns and "wish to rescue" in patterns.group(0) and "2 of 2" in patterns.group(0)
    # The chart's own table has the same, in words (not colour alone), and its strip draws the notes.
    assert "counter-transference: wish to rescue" in body and "sb-rupture-note" in body

    page = http.get(write).content.decode()
    assert WHAT in page  # the treating therapist reads and corrects it
    assert AuditEvent.objects.filter(action="R", entity_type="RuptureNote").exists()


def test_a_supervisor_reads_the_timeline_and_notes_only_when_shared(
    alice: User, sam: User, ruptured: Episode
) -> None:
    rupture_session = _sessions(ruptured)[3]
    services.rupture_note_save(
        actor=alice, session=rupture_session, kind="both", repaired="partly", what_happened=WHAT
    )
    note_url = reverse("rupture_note", args=[rupture_session.pk])
    assert signed_in(sam).get(note_url).status_code == 404
    share_for_supervision(alice, ruptured)
    page = signed_in(sam).get(note_url)
    assert (
        page.status_code == 200
        and WHAT in page.content.decode()
        and "<form" not in page.content.decode().split("<main")[-1]
    )
    assert signed_in(sam).post(note_url, NOTE_FORM).status_code == 403
    timeline = _timeline(_client_page(sam, ruptured), ruptured)
    assert "Read the rupture note" in timeline and "Write a rupture note" not in timeline
    assert RuptureNote.objects.get().repaired == "partly"


def test_bad_input_on_the_pages_says_which_field(alice: User, session: Session) -> None:
    http = signed_in(alice)
    response = http.post(reverse("rupture_note", args=[session.pk]), {**NOTE_FORM, "what_happened": ""})
    assert response.status_code == 400 and "What happened" in response.content.decode()
    response = http.post(reverse("session_themes", args=[session.pk]), {"kind": "transference", "label": ""})
    assert response.status_code == 400 and "Theme" in response.content.decode()
    response = http.post(reverse("session_theme_remove", args=[session.pk]), {"tag": "999"})
    assert response.status_code == 400 and "nothing was changed" in response.content.decode()
    assert RuptureNote.objects.count() == 0 and SessionTheme.objects.count() == 0


def test_themes_are_added_and_removed_from_the_page(alice: User, bob: User, session: Session) -> None:
    http = signed_in(alice)
    url = reverse("session_themes", args=[session.pk])
    assert http.post(url, {"kind": "transference", "label": "feeling pushed away"}).status_code == 302
    page = http.get(url).content.decode()
    assert "feeling pushed away" in page and "Remove" in page
    assert "feeling" not in url
    assert signed_in(bob).get(url).status_code == 404
    tag = SessionTheme.objects.get()
    assert (
        http.post(reverse("session_theme_remove", args=[session.pk]), {"tag": str(tag.pk)}).status_code == 302
    )
    assert SessionTheme.objects.count() == 0


def test_the_client_export_holds_no_rupture_note(alice: User, client_record, session: Session) -> None:
    services.rupture_note_save(
        actor=alice, session=session, kind="withdrawal", repaired="no", what_happened=WHAT
    )
    services.theme_tag(actor=alice, session=session, kind="transference", label="feeling pushed away")
    response = signed_in(alice).post(reverse("client_export", args=[client_record.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert "summary.html" in archive.namelist()
    for name in archive.namelist():
        data = archive.read(name)
        assert WHAT.encode() not in data and b"pushed away" not in data, name


def test_no_module_outside_relationship_reads_rupture_notes_or_themes() -> None:
    """The export, a report or the API would have to name the models (or their tables); only
    spacebetween/relationship does, besides the audit vocabulary, the backup's key rotation and the
    erasure that blanks the notes' texts."""
    pattern = re.compile(
        r"RuptureNote|SessionTheme|ThemeLabel|relationship_rupturenote|relationship_sessiontheme"
    )
    outside = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "relationship"
        and pattern.search(path.read_text(encoding="utf-8"))
    )
    assert outside == ["audit/models.py", "backup/services.py", "rights/erasure.py"], outside
    assert any(
        pattern.search(p.read_text(encoding="utf-8")) for p in (PACKAGE / "relationship").rglob("*.py")
    )


def test_anonymising_and_erasing_the_client_take_the_rupture_notes_with_them(
    alice: User,
    carol,  # noqa: F811
    clock,
) -> None:
    import datetime as dt

    from spacebetween.rights.erasure import client_erase

    clock.set(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))  # after the session; the episode ended
    session = Session.objects.filter(episode__client=carol).get()
    services.rupture_note_save(
        actor=alice,
        session=session,
        kind="withdrawal",
        repaired="no",
        what_happened=WHAT,
        therapist_part="Mine",
        repair="Later",
    )
    services.theme_tag(actor=alice, session=session, kind="transference", label="feeling pushed away")
    client_erase(actor=alice, client=carol, mode="anonymise", confirm=str(carol.pk))
    note = RuptureNote.objects.get()
    assert (note.what_happened, note.therapist_part, note.repair) == ("", "", "")
    assert note.kind == "withdrawal"  # the de-identified record is kept

    clock.set(dt.datetime(2034, 10, 30, 9, 0, tzinfo=dt.UTC))
    client_erase(actor=alice, client=carol, mode="erase", confirm=str(carol.pk))
    assert not RuptureNote.objects.exists() and not SessionTheme.objects.exists()


def test_no_report_copy_carries_the_timeline(alice: User, ruptured: Episode) -> None:
    from spacebetween.insights.presenters import episode_views

    rupture_session = _sessions(ruptured)[3]
    services.rupture_note_save(
        actor=alice, session=rupture_session, kind="both", repaired="no", what_happened=WHAT
    )
    services.theme_tag(actor=alice, session=rupture_session, kind="transference", label="feeling pushed away")
    [(_, page)] = episode_views(alice, [ruptured], alice.practice)
    assert page.timeline is not None and page.space_between is not None
    assert "Themes" in page.space_between.table_headers  # the page's chart has it: the test can fail
    for report in ("session", "supervision", "client"):
        [(_, view)] = episode_views(alice, [ruptured], alice.practice, report=report)
        assert view.timeline is None, report
        assert view.space_between is not None and "Themes" not in view.space_between.table_headers, report
        assert "pushed away" not in view.space_between.svg, report
