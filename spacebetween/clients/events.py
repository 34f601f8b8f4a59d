"""What the clients package tells the packages above it, without knowing who listens.

`course_changed` is sent inside the writer's transaction when an episode's course changes in a way
that moves its scores to other sessions or ends it: a session scheduled, moved or marked attended,
or the episode edited (ended, reopened, its dates changed). Insights listens (`insights.apps`): it
marks the episode's stored signals stale, as it does for new answers (`measures.events`).
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `episode_id` (int); the sender is the module that changed the course.
course_changed = Signal()
