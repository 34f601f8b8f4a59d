"""Creating and changing user accounts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from spacebetween.accounts import signin
from spacebetween.accounts.models import STAFF_ROLES, RecoveryCode, Role, TotpDevice, User, normalise_email
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import record
from spacebetween.practice.models import Practice

EMAIL_TAKEN = "Someone on your staff list already has this email address."
# An address with an account the admin may not know of (another practice's, or one of their own
# practice's clients): the same answer whatever the account, and the account is not named.
EMAIL_UNUSABLE = "This email address cannot be used for a new account. Ask the person for another address."
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
    email = normalise_email(email)
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        _refuse_email(existing, practice=practice, actor=actor, request=request)
    if supervisor is not None and (
        supervisor.practice_id != practice.pk or supervisor.role != Role.SUPERVISOR
    ):
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
            entity_type=Entity.USER,
            entity_id=user.pk,
            practice_id=practice.pk,
            purpose=Purpose.SYSTEM_ADMIN,
            request=request,
            actor_role="" if actor else "system",
        )
    return user


def _refuse_email(existing: User, *, practice: Practice, actor: User | None, request: Any) -> None:
    """Refuse an address that has an account. An admin is told so only for their own staff list,
    which they see anyway; for any other account (another practice's, or a client's) the answer is
    the generic EMAIL_UNUSABLE, audited without the address or the account."""
    if actor is None or (existing.practice_id == practice.pk and existing.role in STAFF_ROLES):
        raise ValidationError({"email": EMAIL_TAKEN})
    with transaction.atomic():
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.USER,
            outcome=Outcome.MINOR_FAILURE,
            practice_id=practice.pk,
            purpose=Purpose.SYSTEM_ADMIN,
            request=request,
            detail="email address unusable",
        )
    raise ValidationError({"email": EMAIL_UNUSABLE})


NOT_A_STAFF_ROLE = "Choose admin, therapist or supervisor."
SUPERVISOR_ONLY_FOR_THERAPISTS = "Only therapists have a supervisor."
SUPERVISOR_INACTIVE = "That supervisor's account is deactivated."
OWN_SUPERVISOR = "Nobody can be their own supervisor."
STILL_SUPERVISING = "This person supervises therapists: give them another supervisor first."
LAST_ADMIN = "The practice needs at least one active admin."
DEACTIVATE_SELF = "You cannot deactivate your own account."
RESET_OWN_MFA = "Another admin must reset your own authenticator."
NOT_STAFF = "That account is not a staff member of this practice."


def _check_admin_of(actor: User, member: User) -> None:
    if actor.role != Role.ADMIN or not actor.is_active or actor.practice_id != member.practice_id:
        raise ValidationError(ADMIN_ONLY)
    if member.role not in STAFF_ROLES:
        raise ValidationError(NOT_STAFF)


def _check_role_and_supervisor(
    *, practice_id: int, role: str, supervisor: User | None, member: User | None = None
) -> None:
    if role not in STAFF_ROLES:
        raise ValidationError({"role": NOT_A_STAFF_ROLE})
    if supervisor is None:
        return
    if role != Role.THERAPIST:
        raise ValidationError({"supervisor": SUPERVISOR_ONLY_FOR_THERAPISTS})
    if member is not None and supervisor.pk == member.pk:
        raise ValidationError({"supervisor": OWN_SUPERVISOR})
    if supervisor.practice_id != practice_id or supervisor.role != Role.SUPERVISOR:
        raise ValidationError({"supervisor": SUPERVISOR_ROLE})
    if not supervisor.is_active:
        raise ValidationError({"supervisor": SUPERVISOR_INACTIVE})


def _audit_staff(
    actor: User, member: User, action: Action, detail: str, request: Any, event_type: str = "rest"
) -> None:
    record(
        action=action,
        event_type=event_type,
        actor=actor,
        entity_type=Entity.USER,
        entity_id=member.pk,
        practice_id=member.practice_id,
        purpose=Purpose.SYSTEM_ADMIN,
        request=request,
        detail=detail,
    )


def staff_create(
    *,
    actor: User,
    email: str,
    full_name: str,
    role: Role | str,
    supervisor: User | None = None,
    password: str | None = None,
    request: Any = None,
) -> User:
    """Add a staff member to the actor's practice. Without a password the account cannot sign in
    until one is set."""
    if actor.role != Role.ADMIN or not actor.is_active:
        raise ValidationError(ADMIN_ONLY)
    _check_role_and_supervisor(practice_id=actor.practice_id, role=role, supervisor=supervisor)
    if password:
        try:
            validate_password(password, User(email=email, full_name=full_name))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
    return user_create(
        practice=actor.practice,
        email=email,
        full_name=full_name,
        role=role,
        password=password or None,
        actor=actor,
        supervisor=supervisor,
        request=request,
    )


def staff_update(
    *, actor: User, member: User, role: Role | str, supervisor: User | None, request: Any = None
) -> User:
    """Change a staff member's role and supervisor (a change of privileges, so it is audited)."""
    _check_admin_of(actor, member)
    _check_role_and_supervisor(
        practice_id=member.practice_id, role=role, supervisor=supervisor, member=member
    )
    if member.role == Role.SUPERVISOR and role != Role.SUPERVISOR and member.supervisees.exists():
        raise ValidationError({"role": STILL_SUPERVISING})
    if member.role == Role.ADMIN and role != Role.ADMIN and not _other_active_admins(member).exists():
        raise ValidationError({"role": LAST_ADMIN})
    changed = []
    if member.role != role:
        changed.append(f"role={role}")
    if member.supervisor_id != (supervisor.pk if supervisor else None):
        changed.append(f"supervisor={supervisor.pk if supervisor else '-'}")
    if not changed:
        return member
    member.role = role
    member.supervisor = supervisor
    with transaction.atomic(durable=True):
        member.save(update_fields=["role", "supervisor"])
        _audit_staff(actor, member, Action.UPDATE, " ".join(changed), request)
    return member


def _other_active_admins(member: User) -> Any:
    return User.objects.filter(practice_id=member.practice_id, role=Role.ADMIN, is_active=True).exclude(
        pk=member.pk
    )


def staff_deactivate(*, actor: User, member: User, request: Any = None) -> User:
    """Deactivate a staff member: they cannot sign in, and their sessions end now (ASVS 5.0 7.4.2)."""
    _check_admin_of(actor, member)
    if member.pk == actor.pk:
        raise ValidationError(DEACTIVATE_SELF)
    if not member.is_active:
        return member
    member.is_active = False
    with transaction.atomic(durable=True):
        member.save(update_fields=["is_active"])
        ended = signin.sessions_end(user=member)
        _audit_staff(actor, member, Action.UPDATE, f"deactivated; {ended} sessions ended", request)
    return member


def staff_reactivate(*, actor: User, member: User, request: Any = None) -> User:
    _check_admin_of(actor, member)
    if member.is_active:
        return member
    member.is_active = True
    with transaction.atomic(durable=True):
        member.save(update_fields=["is_active"])
        _audit_staff(actor, member, Action.UPDATE, "reactivated", request)
    return member


def mfa_reset(*, actor: User, member: User, request: Any = None) -> User:
    """Remove a staff member's authenticator and recovery codes after the admin has checked who is
    asking (ASVS 5.0 6.4.4); they set up a new one at their next sign-in. Their sessions end."""
    _check_admin_of(actor, member)
    if member.pk == actor.pk:
        raise ValidationError(RESET_OWN_MFA)
    with transaction.atomic(durable=True):
        TotpDevice.objects.filter(user=member).delete()
        RecoveryCode.objects.filter(user=member).delete()
        ended = signin.sessions_end(user=member)
        _audit_staff(
            actor, member, Action.DELETE, f"identity checked; {ended} sessions ended", request, "mfa-reset"
        )
    return member


def password_change(*, request: Any, user: User, new_password: str) -> None:
    """Set a new password (validated), keep this session under a new key, end every other one."""
    validate_password(new_password, user)
    user.set_password(new_password)
    with transaction.atomic(durable=True):
        user.save(update_fields=["password"])
        record(
            action=Action.UPDATE,
            event_type="password-change",
            actor=user,
            entity_type=Entity.USER,
            entity_id=user.pk,
            request=request,
        )
    signin.session_rotate(request=request, user=user, password_changed=True)
    signin.sessions_end(user=user, keep=request.session.session_key)
