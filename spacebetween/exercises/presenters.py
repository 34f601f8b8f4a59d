"""What the portal's exercise page shows beside the form: whether the exercise is still open today
(in the practice's time zone), the question that gets the page's timer, and the crisis resources."""

from __future__ import annotations

from typing import Any

from spacebetween import clock
from spacebetween.exercises import catalogue, services
from spacebetween.exercises.models import ExerciseAssignment
from spacebetween.safety.crisis import resources_for


def portal_exercise(assignment: ExerciseAssignment, exercise: catalogue.Exercise) -> dict[str, Any]:
    client = assignment.episode.client
    return {
        "exercise": exercise,
        "open": services.is_open(assignment, services.practice_today(assignment.episode, clock.now())),
        # A timed exercise with a question for the minutes gets the page's timer (exercises/timer.js).
        "timer_field": next((f.name for f in exercise.fields if f.kind == "minutes"), None)
        if exercise.minutes
        else None,
        "resources": resources_for(client.practice, client),
    }
