"""A therapist's search of their own caseload: progress notes on the sessions they may read, their own
process notes (only as the author: psychotherapy notes, docs/notes.md), the current version of each
formulation in their reach, and the transference and counter-transference themes tagged on sessions.
What is in reach is `clients.access`'s answer and nothing wider: a colleague's clients, another
practice and an unshared episode are never searched; a supervisor finds the progress notes,
formulations and themes of the episodes shared with them, never a process note.

Nothing is indexed: each search reads the notes in reach and matches in memory (a process note is
decrypted one at a time, in `notes.selectors.notes_matching`), so no plaintext of an encrypted note is
ever written to disk. The query is never logged, put in a URL or audited; the notes shown are audited
as reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from spacebetween.accounts.models import CLINICAL_ROLES, User
from spacebetween.audit.models import Entity, Purpose
from spacebetween.audit.services import record_reads
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Episode
from spacebetween.formulation import selectors as formulation
from spacebetween.notes import selectors as notes
from spacebetween.relationship import selectors as relationship

EXCERPT_WIDTH = 80  # characters of context either side of the first match
MAX_RESULTS = 50


@dataclass(frozen=True)
class Hit:
    kind: str  # what was found: "Progress note", "Process note", "Formulation"
    client_name: str
    when: dt.datetime | None  # the session's start, or the formulation version's date
    url: str
    before: str  # the excerpt: text before the match, the match, the text after
    match: str
    after: str


def excerpt(text: str, query: str, width: int = EXCERPT_WIDTH) -> tuple[str, str, str]:
    """The first match of `query` in `text` (case-insensitive) with up to `width` characters either side,
    whitespace folded; ellipses where the text was cut."""
    flat = " ".join(text.split())
    at = flat.casefold().find(query.casefold())
    if at < 0:
        return flat[: 2 * width], "", ""
    start, end = max(0, at - width), min(len(flat), at + len(query) + width)
    before = ("…" if start else "") + flat[start:at]
    after = flat[at + len(query) : end] + ("…" if end < len(flat) else "")
    return before, flat[at : at + len(query)], after


def _themes(user: User, episodes: list[Episode], query: str) -> list[tuple[Hit, tuple[Entity, object]]]:
    """Sessions whose tagged themes (`relationship.timelines`, the chart's timeline: three queries
    whatever the caseload) hold `query`."""
    found: list[tuple[Hit, tuple[Entity, object]]] = []
    timelines = relationship.timelines(user, episodes, {})
    for episode in episodes:
        timeline = timelines.get(episode.pk)
        for row in timeline.rows if timeline else []:
            text = "; ".join(row.theme_words)
            if row.theme_words and query.casefold() in text.casefold():
                url = reverse("session_themes", args=[row.session.pk])
                name = episode.client.display_name
                hit = Hit("Session themes", name, row.session.starts_at, url, *excerpt(text, query))
                found.append((hit, (Entity.SESSION, row.session.pk)))
    return found


def caseload_search(request: HttpRequest | None, user: User, query: str) -> list[Hit]:
    """What in `user`'s own reach holds `query`, newest first; the reads of what is shown audited."""
    query = " ".join(query.split())
    if not query or user.role not in CLINICAL_ROLES:
        return []
    found: list[tuple[Hit, tuple[Entity, object]]] = []
    for note in notes.notes_matching(user, query):
        client = note.session.episode.client
        label = "Process note" if note.kind == "process" else "Progress note"
        url = reverse(f"{note.kind}_note", args=[note.session.pk])
        hit = Hit(label, client.display_name, note.session.starts_at, url, *excerpt(note.text, query))
        found.append((hit, (note.entity, note.entity_id)))
    episodes = list(episodes_for(user).select_related("client"))
    found += _themes(user, episodes, query)
    latest_of = formulation.latest_versions(episodes)  # one query, not one per episode
    for episode in episodes:
        latest = latest_of.get(episode.pk)
        if latest is None:
            continue
        text = "\n".join(part.text for group in formulation.grouped(latest) for part in group.parts)
        if query.casefold() in text.casefold():
            url = reverse("formulation_workspace", args=[episode.pk])
            hit = Hit(
                "Formulation", episode.client.display_name, latest.recorded_at, url, *excerpt(text, query)
            )
            found.append((hit, (Entity.FORMULATION_VERSION, latest.pk)))
    found.sort(key=lambda pair: pair[0].when or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    found = found[:MAX_RESULTS]
    with transaction.atomic():
        record_reads(
            actor=user,
            entities=[(Entity.SEARCH, user.pk), *(entity for _, entity in found)],
            purpose=Purpose.TREATMENT,
            request=request,
        )
    return [hit for hit, _ in found]
