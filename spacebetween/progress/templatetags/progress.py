"""What the portal page and the client page include from the progress package, read here so that
those pages (in `web`, a layer below) need one include line and no import: whether the client sees
their progress view, and practice per week beside an episode's measures."""

from __future__ import annotations

from typing import Any

from django import template

from spacebetween.clients.models import Client, Episode
from spacebetween.progress import selectors

register = template.Library()


@register.simple_tag
def progress_shown(client: Client | None) -> bool:
    return selectors.progress_shown(client)


@register.simple_tag(takes_context=True)
def practice_per_week(context: dict[str, Any], episode: Episode) -> selectors.PracticeWeeks | None:
    return selectors.practice_per_week(context["request"].user, episode)
