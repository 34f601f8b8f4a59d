"""`{% episode_transcripts episode as rows %}`: which of an episode's shown sessions have a transcript."""

from __future__ import annotations

from typing import Any

from django import template

from spacebetween import clock
from spacebetween.transcripts.selectors import SessionTranscript
from spacebetween.transcripts.selectors import episode_transcripts as transcripts_of

register = template.Library()


@register.simple_tag(takes_context=True)
def episode_transcripts(context: dict[str, Any], episode: Any) -> list[SessionTranscript]:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return []
    return transcripts_of(user, episode, now=clock.now())
