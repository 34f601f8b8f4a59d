"""The practice's own library pages: a therapist writes a page in Markdown, and it is shared with a
client and read in the portal like the built-in pages (catalogue.pages()). The same people write them
as write the practice's own exercises (exercises.own: therapists, not the admin; docs/between-sessions.md).

What a page may contain: Markdown rendered by markdown-it-py with raw HTML off, so a <script>, an
onerror attribute or any other tag is shown as text; links only to http, https and mailto addresses
(markdown-it's own link check and ours); no images: a remote image would be a call to a third party
each time a client opened the page, so an image is shown as a link with its description instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.html import escape
from markdown_it import MarkdownIt
from markdown_it.common.normalize_url import validateLink as markdown_it_validate_link

from spacebetween import clock
from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.exercises import catalogue
from spacebetween.exercises.models import PracticePage, ReadingShare

PREFIX = "practice-page-"
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_TITLE = 120
MAX_SUMMARY = 300
MAX_BODY = 20_000
MAX_SOURCES = 12
MAX_SOURCE = 400

WRITERS_ONLY = "Only the practice's therapists can write its library pages."
TITLE_NEEDED = f"Give the page a title of at most {MAX_TITLE} characters."
TITLE_TAKEN = "The practice already has a page with this title; choose another."
SUMMARY_NEEDED = f"Say in one line what the page is about, in at most {MAX_SUMMARY} characters."
BODY_NEEDED = f"Write the page, in at most {MAX_BODY} characters."
SOURCES_RANGE = f"List at most {MAX_SOURCES} sources, one per line, each at most {MAX_SOURCE} characters."


def link_allowed(url: str) -> bool:
    """Only an absolute http, https or mailto address: no javascript:, data:, vbscript:, file: or a
    relative link that would lead into the practice's own site from a client's page."""
    if not markdown_it_validate_link(url):
        return False
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return False
    return scheme in ALLOWED_SCHEMES


def _image_as_link(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    alt = escape(renderer.renderInlineAsText(token.children or [], options, env) or "image")
    src = str(token.attrGet("src") or "")
    if link_allowed(src):
        return f'<a href="{escape(src)}" rel="noopener noreferrer">Image: {alt}</a>'
    return f"Image: {alt}"


def _heading_below_title(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """A heading in the page one level down (# is an h2): the page's title is its only h1."""
    token = tokens[idx]
    token.tag = f"h{min(6, int(token.tag[1]) + 1)}"
    return str(renderer.renderToken(tokens, idx, options, env))


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = link_allowed  # type: ignore[method-assign]
    md.add_render_rule("image", _image_as_link)
    md.add_render_rule("heading_open", _heading_below_title)
    md.add_render_rule("heading_close", _heading_below_title)
    return md


MARKDOWN = _markdown()


def render(body: str) -> str:
    """The page's Markdown as safe HTML (raw HTML shown as text; see the module's docstring)."""
    return MARKDOWN.render(body)


def as_page(written: PracticePage) -> catalogue.Page:
    return catalogue.Page(
        f"{PREFIX}{written.pk}",
        written.title,
        written.summary,
        (),
        tuple(written.sources),
        html=render(written.body),
        practice_written=True,
    )


def written_for(practice_id: int) -> list[PracticePage]:
    return list(PracticePage.objects.filter(practice_id=practice_id).select_related("written_by"))


def shareable(practice_id: int) -> dict[str, catalogue.Page]:
    """What a therapist of the practice can share: the built-in pages, then the practice's own."""
    return {**catalogue.pages(), **{p.id: p for p in map(as_page, written_for(practice_id))}}


def page_of(share: ReadingShare) -> catalogue.Page:
    if share.practice_page_id is not None:
        return as_page(share.practice_page)  # type: ignore[arg-type]
    return catalogue.pages()[share.page]


def _lines(value: object) -> list[str]:
    text = value if isinstance(value, str) else "\n".join(map(str, value or ()))  # type: ignore[call-overload]
    return [line.strip() for line in text.splitlines() if line.strip()]


def clean_page(*, practice_id: int, title: str, summary: str, body: str, sources: object) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title, summary, body = (title or "").strip(), (summary or "").strip(), (body or "").strip()
    source_list = _lines(sources)
    if not title or len(title) > MAX_TITLE:
        errors["title"] = TITLE_NEEDED
    elif PracticePage.objects.filter(practice_id=practice_id, title__iexact=title).exists():
        errors["title"] = TITLE_TAKEN
    if not summary or len(summary) > MAX_SUMMARY:
        errors["summary"] = SUMMARY_NEEDED
    if not body or len(body) > MAX_BODY:
        errors["body"] = BODY_NEEDED
    if len(source_list) > MAX_SOURCES or any(len(s) > MAX_SOURCE for s in source_list):
        errors["sources"] = SOURCES_RANGE
    if errors:
        raise ValidationError(errors)
    return {"title": title, "summary": summary, "body": body, "sources": source_list}


def practice_page_write(
    *,
    actor: User,
    title: str,
    summary: str,
    body: str,
    sources: Sequence[str] | str = (),
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> PracticePage:
    """A therapist writes a library page for their practice; nothing is written when a field is wrong."""
    now = now or clock.now()
    if actor.role != Role.THERAPIST:
        record_denied(
            actor=actor,
            entity_type=Entity.PRACTICE_PAGE,
            entity_id="",
            detail="practice-page-write",
            action=Action.CREATE,
        )
        raise PermissionDenied(WRITERS_ONLY)
    clean = clean_page(
        practice_id=actor.practice_id, title=title, summary=summary, body=body, sources=sources
    )
    with transaction.atomic(durable=True):
        written = PracticePage.objects.create(
            practice_id=actor.practice_id, written_by=actor, written_at=now, **clean
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.PRACTICE_PAGE,
            entity_id=written.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
        )
    return written
