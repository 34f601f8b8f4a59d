"""Creating and changing user accounts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from spacebetween.accounts import invitations, signin
from spacebetween.accounts.models import (
    CLINICAL_ROLES,
    STAFF_ROLES,
    RecoveryCode,
    Role,
    TotpDevice,
    User,
    normalise_email,
)
from spacebetween.audit.models import Action, Entity, Outcome, Purpose
from spacebetween.audit.services import record
from spacebetween.notifications.services import outbox_enqueue
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
    """Create a staff or client account. `password=None` leaves it unusable until set (by an
    invitation link). An admin may create any account of their practice; a clinician only a client's
    portal login."""
    if actor is not None and (
        actor.practice_id != practice.pk
        or (actor.role != Role.ADMIN and not (role == Role.CLIENT and actor.role in CLINICAL_ROLES))
    ):
        raise ValidationError(ADMIN_ONLY)
    email = normalise_email(email)
    email_check(practice=practice, email=email, actor=actor, request=request)
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


def email_check(*, practice: Practice, email: str, actor: User | None, request: Any = None) -> None:
    """Refuse (ValidationError) an address that already has an account; see `_refuse_email`."""
    existing = User.objects.filter(email=normalise_email(email)).first()
    if existing is not None:
        _refuse_email(existing, practice=practice, actor=actor, request=request)


def _refuse_email(existing: User, *, practice: Practice, actor: User | None, request: Any) -> None:
    """Refuse an address that has an account. An admin is told so only for their own staff list,
    which they see anyway; for any other account (another practice's, or a client's) the answer is
    the generic EMAIL_UNUSABLE, audited without the address or the account."""
    if actor is None or (
        actor.role == Role.ADMIN and existing.practice_id == practice.pk and existing.role in STAFF_ROLES
    ):
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
    request: Any = None,
) -> User:
    """Invite a staff member to the actor's practice: the account has no password (nobody but the
    invitee ever knows one) until they set it from the invitation e-mailed to them, then enrol MFA.
    A supervisor chosen here is only proposed: the therapist accepts it after signing in."""
    if actor.role != Role.ADMIN or not actor.is_active:
        raise ValidationError(ADMIN_ONLY)
    _check_role_and_supervisor(practice_id=actor.practice_id, role=role, supervisor=supervisor)
    # Before the transaction: a refusal's audit row must not be undone with it.
    email_check(practice=actor.practice, email=email, actor=actor, request=request)
    with transaction.atomic(durable=True):
        member = user_create(
            practice=actor.practice,
            email=email,
            full_name=full_name,
            role=role,
            password=None,
            actor=actor,
            request=request,
        )
        if supervisor is not None:
            member.proposed_supervisor = supervisor
            member.save(update_fields=["proposed_supervisor"])
            _audit_staff(actor, member, Action.UPDATE, f"supervisor proposed={supervisor.pk}", request)
        invitations.invitation_send(user=member, actor=actor, request=request)
    return member


INVITED_ALREADY_IN = (
    "They have already chosen a password. If they have forgotten it, they can reset it from the sign-in page."
)
INVITE_INACTIVE = "This account is deactivated: reactivate it first."


def staff_invite_resend(*, actor: User, member: User, request: Any = None) -> User:
    """A new invitation for a staff member who has not chosen a password yet (the old link stops working)."""
    _check_admin_of(actor, member)
    if not member.is_active:
        raise ValidationError(INVITE_INACTIVE)
    if member.has_usable_password():
        raise ValidationError(INVITED_ALREADY_IN)
    with transaction.atomic(durable=True):
        invitations.invitation_send(user=member, actor=actor, request=request)
    return member


SUPERVISION_SUBJECT = "Your clinical supervisor in Space Between"
SUPERVISION_PROPOSED_BODY = """Hello {name},

Your practice admin has proposed {supervisor} as your clinical supervisor in Space Between. They will
see the episodes you share for supervision only after you accept.

Sign in to accept or decline:
{url}
"""
SUPERVISION_ENDED_BODY = """Hello {name},

Your practice admin has removed {supervisor} as your clinical supervisor in Space Between. They no
longer see the episodes you share for supervision.

To see your supervision, sign in:
{url}
"""
NO_PROPOSAL = "There is no proposed supervisor waiting for your answer."


def staff_update(
    *, actor: User, member: User, role: Role | str, supervisor: User | None, request: Any = None
) -> User:
    """Change a staff member's role and supervisor (a change of privileges, so it is audited).

    A new supervisor is only proposed: the current one stops seeing the therapist's shared episodes at
    once, the proposed one sees them only after the therapist accepts (`supervision_respond`), and the
    therapist is told by e-mail and on their pages. Removing a supervisor takes effect at once."""
    _check_admin_of(actor, member)
    _check_role_and_supervisor(
        practice_id=member.practice_id, role=role, supervisor=supervisor, member=member
    )
    if (
        member.role == Role.SUPERVISOR
        and role != Role.SUPERVISOR
        and (member.supervisees.exists() or member.supervision_proposals.exists())
    ):
        raise ValidationError({"role": STILL_SUPERVISING})
    if member.role == Role.ADMIN and role != Role.ADMIN and not _other_active_admins(member).exists():
        raise ValidationError({"role": LAST_ADMIN})
    wanted = supervisor.pk if supervisor else None
    if wanted == member.supervisor_id:  # the accepted supervisor stays; any proposal is withdrawn
        new_supervisor, proposed = member.supervisor, None
    else:
        new_supervisor, proposed = None, supervisor
    previous = member.supervisor
    changed = []
    if member.role != role:
        changed.append(f"role={role}")
    if (member.supervisor_id, member.proposed_supervisor_id) != (
        new_supervisor.pk if new_supervisor else None,
        wanted if proposed else None,
    ):
        changed.append(f"supervisor={new_supervisor.pk if new_supervisor else '-'}")
        changed.append(f"proposed={wanted if proposed else '-'}")
    if not changed:
        return member
    member.role = role
    member.supervisor = new_supervisor
    member.proposed_supervisor = proposed
    with transaction.atomic(durable=True):
        member.save(update_fields=["role", "supervisor", "proposed_supervisor"])
        _audit_staff(actor, member, Action.UPDATE, " ".join(changed), request)
        if proposed is not None:
            _tell_therapist(member, SUPERVISION_PROPOSED_BODY, proposed)
        elif previous is not None and new_supervisor is None:
            _tell_therapist(member, SUPERVISION_ENDED_BODY, previous)
    return member


def _tell_therapist(member: User, body: str, supervisor: User) -> None:
    outbox_enqueue(
        practice_id=member.practice_id,
        to_address=member.email,
        subject=SUPERVISION_SUBJECT,
        body_text=body.format(
            name=member.full_name, supervisor=supervisor.full_name, url=invitations.supervision_url()
        ),
        kind="supervision",
    )


def supervision_respond(*, therapist: User, accept: bool, request: Any = None) -> User:
    """The therapist accepts or declines the supervisor their admin proposed. Accepted, that supervisor
    sees the episodes the therapist shares for supervision; declined, nobody does until a new proposal
    is accepted. Once only: a proposal changed meanwhile is not answered by this."""
    proposed = therapist.proposed_supervisor
    if therapist.role != Role.THERAPIST or not therapist.is_active or proposed is None:
        raise ValidationError(NO_PROPOSAL)
    if accept:
        _check_role_and_supervisor(
            practice_id=therapist.practice_id, role=Role.THERAPIST, supervisor=proposed, member=therapist
        )
    fields: dict[str, Any] = {"proposed_supervisor": None}
    if accept:
        fields["supervisor"] = proposed
    with transaction.atomic(durable=True):
        answered = User.objects.filter(pk=therapist.pk, proposed_supervisor_id=proposed.pk).update(**fields)
        if answered:
            record(
                action=Action.UPDATE,
                event_type="supervision-consent",
                actor=therapist,
                entity_type=Entity.USER,
                entity_id=therapist.pk,
                purpose=Purpose.SYSTEM_ADMIN,
                request=request,
                detail=f"{'accepted' if accept else 'declined'} supervisor {proposed.pk}",
            )
    if not answered:
        raise ValidationError(NO_PROPOSAL)
    therapist.refresh_from_db()
    return therapist


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
