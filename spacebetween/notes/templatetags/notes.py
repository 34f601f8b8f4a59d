"""`{% session_notes episode as rows %}`: which notes an episode's shown sessions have, for the user."""

from __future__ import annotations

from typing import Any

from django import template

from spacebetween.notes.selectors import SessionNotes
from spacebetween.notes.selectors import session_notes as notes_of

register = template.Library()


@register.simple_tag(takes_context=True)
def session_notes(context: dict[str, Any], episode: Any) -> list[SessionNotes]:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return []
    return notes_of(user, episode)
