"""The workspace's part of the subject access archive (spacebetween.rights.export calls it): each
episode's case formulation (every version), the client's goals with their ratings, and the
memory-reconsolidation work. They are part of the clinical record, not psychotherapy notes, so they go
to the client as the progress notes do (docs/formulation.md, "Privacy: encryption and the client's
archive")."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string

from spacebetween.clients.models import Client, Episode
from spacebetween.formulation import selectors
from spacebetween.formulation.models import FormulationVersion

FILENAME = "formulation-and-goals.html"


@dataclass(frozen=True)
class EpisodeRecord:
    episode: Episode
    versions: list[tuple[FormulationVersion, list[selectors.Group]]]
    goals: list[tuple[selectors.GoalProgress, list[tuple[str, int]]]]  # (session date, rating)
    works: list[selectors.WorkView]


def _episode(episode: Episode) -> EpisodeRecord | None:
    versions = [(v, selectors.grouped(v)) for v in selectors.versions(episode)]
    sessions = selectors.held_sessions(episode)
    dates = {i: f"{s.starts_at:%d %b %Y}" for i, s in enumerate(sessions, start=1)}
    goals = [
        (p, [(dates[n], score) for n, score in p.points]) for p in selectors.goal_progress(episode, sessions)
    ]
    works = selectors.reconsolidation_works(episode)
    if not (versions or goals or works):
        return None
    return EpisodeRecord(episode, versions, goals, works)


def workspace_html(client: Client) -> str | None:
    """One page with every episode's formulation, goals and reconsolidation work, or None when the
    client has none of them."""
    episodes = Episode.objects.filter(client=client).select_related("therapist").order_by("started_on", "pk")
    records = [r for r in (_episode(e) for e in episodes) if r is not None]
    if not records:
        return None
    return render_to_string("formulation/export.html", {"client": client, "records": records})
