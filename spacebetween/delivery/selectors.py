"""Reads: a link by its token, the questionnaires it walks through, and a draft's answers. (The
crisis resources a client is shown are `safety.crisis.resources_for`.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from spacebetween import clock
from spacebetween.clients.models import Attendance, Client, Episode, Session
from spacebetween.core.instruments import Instrument
from spacebetween.crypto import token_hash
from spacebetween.delivery.models import Draft, QuestionnaireLink
from spacebetween.measures.models import Assignment
from spacebetween.measures.selectors import instruments_for


def link_for_token(token: str) -> QuestionnaireLink | None:
    """The link whatever its state, or None; the caller decides whether it still works."""
    if not token or len(token) > 128:
        return None
    return (
        QuestionnaireLink.objects.filter(token_hash=token_hash(token))
        .select_related("assignment__episode__client__practice")
        .first()
    )


def link_assignments(link: QuestionnaireLink) -> list[Assignment]:
    """The assignments a link walks the client through, in turn (a link issued before links had
    steps has its one assignment)."""
    steps = [
        step.assignment
        for step in link.steps.select_related("assignment__episode__client__practice").order_by("position")
    ]
    return steps or [link.assignment]


def draft_answers(assignment: Assignment) -> dict[str, int | float | None]:
    draft = Draft.objects.filter(assignment=assignment).first()
    return dict(draft.answers) if draft is not None else {}


# The sessions offered: those of the last two weeks and all to come (any of the episode's is accepted).
RECENT_SESSIONS = dt.timedelta(days=14)


@dataclass(frozen=True)
class SendChoices:
    """What the therapist may send one episode's client now (the client page's form)."""

    episode_id: int
    instruments: list[tuple[str, str]]  # (id, title), by title
    sessions: list[Session]  # not cancelled, recent or to come, in time order
    ways: list[str]  # "email" when the client has an address, "portal" when they have a login


def send_choices(
    client: Client,
    episodes: Sequence[Episode],
    editable_ids: Collection[int],
    available: Mapping[str, Instrument] | None = None,
) -> list[SendChoices]:
    """What the therapist may send now, for each open episode of `client` they may change (the client
    page), in a fixed number of queries however many episodes. The caller has fetched the client and
    the episodes through `clients.access`; `available`: the practice's instruments when it has them."""
    open_ = [e for e in episodes if e.pk in editable_ids and e.ended_on is None]
    return _choices(client, open_, available) if open_ else []


def _choices(
    client: Client, open_: list[Episode], available: Mapping[str, Instrument] | None = None
) -> list[SendChoices]:
    if available is None:
        available = instruments_for(client.practice)
    instruments = sorted(((i.id, i.title) for i in available.values()), key=lambda c: c[1].lower())
    ways = [w for w, ok in (("email", bool(client.email)), ("portal", bool(client.portal_user_id))) if ok]
    sessions: dict[int, list[Session]] = {e.pk: [] for e in open_}
    recent = Session.objects.filter(episode__in=open_, starts_at__gte=clock.now() - RECENT_SESSIONS)
    for session in recent.exclude(attendance=Attendance.CANCELLED).order_by("starts_at", "pk"):
        sessions[session.episode_id].append(session)
    return [SendChoices(e.pk, instruments, sessions[e.pk], ways) for e in open_]


def send_choices_for_episode(episode: Episode) -> SendChoices:
    """`send_choices` for one episode the caller may change (its form's choices)."""
    return _choices(episode.client, [episode])[0]
