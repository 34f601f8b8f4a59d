"""The practice's own library pages: written in Markdown by a therapist, rendered with raw HTML off
and only http, https and mailto links, shared and read like the built-in pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.exercises import own_pages, services
from spacebetween.exercises.models import PracticePage
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

HOSTILE = """# Breathing out

Some **kind** words and a [good link](https://example.org/help) and [write to us](mailto:hello@example.org).

<script>alert("x")</script>

<img src="x" onerror="alert(1)">

[click me](javascript:alert(1)) and [sneaky](JaVaScRiPt:alert(2))
and [data](data:text/html;base64,PHNjcmlwdD4=)
and [relative](/admin/) and <a href="https://evil.example" onclick="steal()">raw link</a>

![a photo](https://tracker.example/pixel.png)
"""


def test_hostile_markdown_renders_without_scripts_handlers_bad_links_or_remote_images() -> None:
    html = own_pages.render(HOSTILE)
    # What should survive does: so the checks below are on a real rendering.
    assert "<h2>Breathing out</h2>" in html and "<strong>kind</strong>" in html
    assert '<a href="https://example.org/help">good link</a>' in html
    assert '<a href="mailto:hello@example.org">write to us</a>' in html
    lowered = html.lower()
    assert "<script" not in lowered and "&lt;script&gt;" in lowered  # shown as text, never run
    assert "<img" not in lowered  # neither the raw tag nor the Markdown image: no call to a third party
    assert " onerror=" not in lowered.replace("&lt;img src=&quot;x&quot; onerror", "")
    assert " onclick=" not in lowered.replace("onclick=&quot;steal()&quot;", "")
    for scheme in ("javascript:", "data:"):
        assert f'href="{scheme}' not in lowered
    assert 'href="/admin/"' not in html  # relative links are not allowed either
    assert "tracker.example/pixel.png" in html and "Image: a photo" in html  # a link, not an <img>


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.org", True),
        ("http://example.org/a?b=c", True),
        ("mailto:someone@example.org", True),
        ("javascript:alert(1)", False),
        (" JAVASCRIPT:alert(1)", False),
        ("vbscript:msgbox", False),
        ("data:text/html,hi", False),
        ("file:///etc/passwd", False),
        ("/relative/path", False),
        ("//evil.example/x", False),
    ],
)
def test_only_http_https_and_mailto_links(url: str, allowed: bool) -> None:
    assert own_pages.link_allowed(url) is allowed


def _write(actor: User, **changes: object) -> PracticePage:
    kwargs: dict = {
        "actor": actor,
        "title": "Our breathing room",
        "summary": "Where to find a quiet space near the practice.",
        "body": "Take the *lift* to the second floor.\n\nAsk at the desk.",
        "sources": "Our own experience\n",
    }
    return own_pages.practice_page_write(**{**kwargs, **changes})


def test_a_therapist_writes_a_page_and_it_is_audited(alice: User) -> None:
    page = _write(alice)
    assert (page.title, page.sources, page.written_by) == (
        "Our breathing room",
        ["Our own experience"],
        alice,
    )
    event = AuditEvent.objects.filter(entity_type="PracticePage").get()
    assert (event.action, event.entity_id) == ("C", str(page.pk))
    assert "lift" not in (event.detail or "")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"summary": "  "}, "summary"),
        ({"body": ""}, "body"),
        ({"sources": "\n".join(f"source {n}" for n in range(13))}, "sources"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    alice: User, changes: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _write(alice, **changes)
    assert field in refused.value.error_dict
    assert not PracticePage.objects.exists()


def test_a_title_is_used_once_per_practice(alice: User) -> None:
    _write(alice)
    with pytest.raises(ValidationError) as refused:
        _write(alice, title="OUR breathing room")
    assert "title" in refused.value.error_dict
    assert PracticePage.objects.count() == 1


def test_a_supervisor_or_the_admin_cannot_write_one(sam: User, admin: User) -> None:
    for who in (sam, admin):
        with pytest.raises(PermissionDenied):
            _write(who)
    assert not PracticePage.objects.exists()
    assert (
        AuditEvent.objects.filter(entity_type="PracticePage", detail="practice-page-write")
        .exclude(outcome=0)
        .count()
        == 2
    )


def test_written_shared_read_and_listed_like_the_built_in_pages(
    alice: User, carol_user: User, episode: Episode, today: dt.date
) -> None:
    http = signed_in(alice)
    response = http.post(
        "/library/pages/new/",
        {"title": "Our breathing room", "summary": "A quiet space.", "body": HOSTILE, "sources": "Ours"},
    )
    assert response.status_code == 302
    page = PracticePage.objects.get()
    library = http.get("/library/").content.decode()
    assert "Pages written in this practice" in library and "Our breathing room" in library
    assert "<script>alert" not in library and "<img" not in library
    share_page = http.get(f"/episodes/{episode.pk}/between-sessions/").content.decode()
    assert f'value="{own_pages.PREFIX}{page.pk}"' in share_page
    share = services.page_share(actor=alice, episode=episode, page=f"{own_pages.PREFIX}{page.pk}")
    assert share.practice_page == page
    body = signed_in(carol_user).get(f"/me/reading/{share.pk}/").content.decode()
    assert "<h1>Our breathing room</h1>" in body and "<h2>Breathing out</h2>" in body  # one h1
    assert "<script>alert" not in body and "<img" not in body and 'href="javascript' not in body.lower()
    assert "Where this comes from" in body and "Ours" in body
    share.refresh_from_db()
    assert share.times_read == 1
    summary = http.get(f"/clients/{episode.client_id}/").content.decode()
    assert "Our breathing room" in summary and "read 1 time" in summary
