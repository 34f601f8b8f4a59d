"""What the client page and the portal include: the between-sessions summary, read here so that the
pages that include it need no change but one include line (ids and counts only on the client page;
each entry's content is on the episode's own page, which audits reading it)."""

from __future__ import annotations

from typing import Any

from django import template

from spacebetween.exercises import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def between_sessions_summary(context: dict[str, Any], episodes: Any) -> dict[int, selectors.BetweenSessions]:
    return selectors.between_sessions_for(context["request"].user, episodes)


@register.simple_tag(takes_context=True)
def between_sessions_portal(context: dict[str, Any]) -> selectors.BetweenSessions:
    return selectors.portal_between_sessions(context["request"].user)


@register.filter
def for_episode(
    found: dict[int, selectors.BetweenSessions], episode_id: int
) -> selectors.BetweenSessions | None:
    return found.get(episode_id)
