"""Creating and changing user accounts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Purpose
from spacebetween.audit.services import record
from spacebetween.practice.models import Practice

EMAIL_TAKEN = "An account with this email address already exists."
SUPERVISOR_ROLE = "A supervisor must have the supervisor role in the same practice."
ADMIN_ONLY = "Only a practice admin can manage staff."


def user_create(
    *,
    practice: Practice,
    email: str,
    full_name: str,
    role: Role | str,
    password: str | None,
    actor: User | None = None,
    supervisor: User | None = None,
    is_demo_account: bool = False,
    request: Any = None,
) -> User:
    """Create a staff or client account. `password=None` leaves it unusable until set."""
    if actor is not None and (actor.role != Role.ADMIN or actor.practice_id != practice.pk):
        raise ValidationError(ADMIN_ONLY)
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": EMAIL_TAKEN})
    if supervisor is not None and (supervisor.practice_id != practice.pk or supervisor.role != Role.SUPERVISOR):
        raise ValidationError({"supervisor": SUPERVISOR_ROLE})
    user = User(
        practice=practice,
        email=email,
        full_name=full_name,
        role=role,
        supervisor=supervisor,
        is_demo_account=is_demo_account,
    )
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type="User",
            entity_id=user.pk,
            practice_id=practice.pk,
            purpose=Purpose.SYSTEM_ADMIN,
            request=request,
            actor_role="" if actor else "system",
        )
    return user
