"""What the measurement packages tell the packages above them, without knowing who listens.

`answers_stored` is sent inside the writer's transaction, right after an episode's new answers are
written (a questionnaire's response, the therapist's session rating or reflection). A receiver's
writes commit or roll back with the answers, and an exception in a receiver fails the write.
Insights listens (`insights.apps`): it marks the episode's signals stale for the next refresh.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `episode_id` (int); the sender is the module that stored the answers.
answers_stored = Signal()
