"""Who may reach which exercise or shared page, built on `clients.access`: the treating therapist
changes (a supervisor reads what is shared for supervision); a client reaches only their own, through
their portal login. Outside that, 404 and an audited denial; a read-only viewer's write is 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Entity
from spacebetween.audit.services import record_denied
from spacebetween.clients.access import NOT_FOUND, READ_ONLY, episodes_for
from spacebetween.exercises.models import ExerciseAssignment, PracticeExercise, ReadingShare


def _deny(request: HttpRequest | None, user: User, entity: Entity, pk: int, *, forbidden: bool) -> None:
    detail = "read-only" if forbidden else "not-in-scope"
    record_denied(actor=user, entity_type=entity, entity_id=pk, request=request, detail=detail)
    raise PermissionDenied(READ_ONLY) if forbidden else Http404(NOT_FOUND)


def assignments_for(user: User, *, write: bool = False) -> QuerySet[ExerciseAssignment]:
    return ExerciseAssignment.objects.filter(episode__in=episodes_for(user, write=write))


def readings_for(user: User, *, write: bool = False) -> QuerySet[ReadingShare]:
    return ReadingShare.objects.filter(episode__in=episodes_for(user, write=write))


def get_assignment_for(
    request: HttpRequest | None, user: User, pk: int, *, write: bool = False
) -> ExerciseAssignment:
    found = (
        assignments_for(user, write=write)
        .select_related("episode__client__practice", "practice_exercise")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        forbidden = write and assignments_for(user).filter(pk=pk).exists()
        _deny(request, user, Entity.EXERCISE_ASSIGNMENT, pk, forbidden=forbidden)
    assert found is not None
    return found


def get_own_assignment(request: HttpRequest, user: User, pk: int) -> ExerciseAssignment:
    """A client's own exercise (the portal): any other is 404."""
    if user.role != Role.CLIENT:
        _deny(request, user, Entity.EXERCISE_ASSIGNMENT, pk, forbidden=False)
    return get_assignment_for(request, user, pk)


def get_own_reading(request: HttpRequest, user: User, pk: int) -> ReadingShare:
    found = None
    if user.role == Role.CLIENT:
        found = readings_for(user).select_related("episode").filter(pk=pk).first()
    if found is None:
        _deny(request, user, Entity.READING_SHARE, pk, forbidden=False)
    assert found is not None
    return found


def get_practice_exercise_for(request: HttpRequest, user: User, pk: int) -> PracticeExercise:
    """One of the user's own practice's exercises; another practice's is 404."""
    found = PracticeExercise.objects.filter(practice_id=user.practice_id, pk=pk).first()
    if found is None:
        _deny(request, user, Entity.PRACTICE_EXERCISE, pk, forbidden=False)
    assert found is not None
    return found
