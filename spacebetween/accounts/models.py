from __future__ import annotations

import unicodedata

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from spacebetween.practice.models import Practice


class Role(models.TextChoices):
    ADMIN = "admin", "Practice admin"
    THERAPIST = "therapist", "Therapist"
    SUPERVISOR = "supervisor", "Supervisor"
    CLIENT = "client", "Client"


STAFF_ROLES = frozenset({Role.ADMIN, Role.THERAPIST, Role.SUPERVISOR})
CLINICAL_ROLES = frozenset({Role.THERAPIST, Role.SUPERVISOR})


def normalise_email(address: str) -> str:
    """The one form an email address is stored, looked up and counted in: lower case and Unicode
    compatibility form (NFKC, which Django's user model applies on save too), so `ſam`, `SAM` and
    fullwidth `ｓａｍ` are all `sam`. Lookups match this form exactly, never with `iexact`: PostgreSQL's
    UPPER() maps look-alikes such as `ı` to `I`, SQLite's LIKE does not, and a sign-in limit keyed on
    one spelling could be walked round with another (docs/security.md)."""
    address = BaseUserManager.normalize_email(address.strip())
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", address).lower())


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalise_email(username or ""))


class User(AbstractBaseUser):
    """Anyone who signs in: staff (admin, therapist, supervisor) or a client with a portal login.

    No Django superuser or staff flags: what a user may do follows from `role` and `practice` only,
    through the access helpers (deny by default).
    """

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(max_length=16, choices=Role.choices)
    # A therapist's clinical supervisor: sees the episodes the therapist shares for supervision.
    # Only the therapist's acceptance makes a supervisor: an admin's choice waits here (and sees
    # nothing) until the therapist accepts it on /account/supervision/ (docs/security.md).
    supervisor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supervisees"
    )
    proposed_supervisor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supervision_proposals"
    )
    is_active = models.BooleanField(default=True)
    # Accounts made by `spacebetween demo`; only they may skip MFA, and only outside production.
    is_demo_account = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="user_role_valid"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT


class TotpDevice(models.Model):
    """A staff member's authenticator app (TOTP, RFC 6238: 30-second steps, 6 digits).

    One per user. Unconfirmed while enrolment is under way; the secret is encrypted at rest
    (spacebetween.crypto). `last_used_step` refuses a second use of a code from the same or an earlier
    time step (ASVS 6.5.1: single use).
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Authenticator of user {self.user_id}"


class RecoveryCode(models.Model):
    """A single-use recovery code. Only its SHA-256 is stored: codes carry 120 random bits, and at
    112 bits or more a plain hash suffices (ASVS 5.0 6.5.2)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")]

    def __str__(self) -> str:
        return f"Recovery code of user {self.user_id}"


class UserSession(models.Model):
    """The session keys a user is signed in with, so that logout, password change, deactivation and
    an MFA reset can end them server-side (ASVS 5.0 7.4)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Session of user {self.user_id}"


class ThrottleScope(models.TextChoices):
    ACCOUNT = "account", "Sign-in attempts for one email address"
    ADDRESS = "address", "Sign-in attempts from one IP address"
    MFA = "mfa", "Authentication codes for one user"
    SIGN_IN_LINK = "sign-in-link", "Sign-in links that do not work, from one IP address"
    RESET_ACCOUNT = "reset-account", "Password-reset requests for one email address"
    RESET_ADDRESS = "reset-address", "Password-reset requests from one IP address"


class AuthFailure(models.Model):
    """One failed sign-in or code attempt, counted per scope and key within a window.

    The key is an HMAC of the email address, IP address or user id, so typed addresses of accounts
    that do not exist are not stored. Rows live in the database so that limits hold across processes.
    """

    scope = models.CharField(max_length=16, choices=ThrottleScope.choices)
    key = models.CharField(max_length=64)
    failed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "failed_at"], name="auth_failure_window")]

    def __str__(self) -> str:
        return f"{self.scope} failure at {self.failed_at:%Y-%m-%d %H:%M:%S}"


class Lockout(models.Model):
    """Further attempts for this scope and key are refused until `until`."""

    scope = models.CharField(max_length=16, choices=ThrottleScope.choices)
    key = models.CharField(max_length=64)
    until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="lockout_unique_key")]

    def __str__(self) -> str:
        return f"{self.scope} locked until {self.until:%Y-%m-%d %H:%M:%S}"


class LinkPurpose(models.TextChoices):
    WELCOME = "welcome", "First admin (spacebetween setup)"
    INVITATION = "invitation", "Invitation"
    RESET = "reset", "Password reset"


class SignInLink(models.Model):
    """A one-time link that lets an account set its password (then, for staff, pass MFA): printed by
    `spacebetween setup` for a practice's first admin, or e-mailed as an invitation (a new staff
    member, a client's portal login) or a password reset (`accounts.invitations`).

    The token is 256 random bits (`secrets.token_urlsafe(32)`) of which only the SHA-256 is stored;
    it works once (spent with a conditional UPDATE), until `expires_at`, and not after a newer link of
    the same user revokes it (docs/security.md, "The first sign-in link")."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_in_links")
    purpose = models.CharField(max_length=16, choices=LinkPurpose.choices, default=LinkPurpose.WELCOME)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Sign-in link of user {self.user_id}"
