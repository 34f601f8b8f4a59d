from __future__ import annotations

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


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


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
    supervisor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supervisees"
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
