"""Input forms for the account pages: they parse and check shape; services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm

from spacebetween.accounts.models import Role, User
from spacebetween.ui.forms import PageForm, PageFormMixin

STAFF_ROLE_CHOICES = [(r.value, r.label) for r in (Role.THERAPIST, Role.SUPERVISOR, Role.ADMIN)]
IDENTITY_CHECK = (
    "I have confirmed this person's identity (in person, or on a video call with photo ID) "
    "before resetting their authenticator."
)


AccountForm = PageForm


class NewPasswordForm(PageFormMixin, PasswordChangeForm):
    pass


class FirstPasswordForm(PageFormMixin, SetPasswordForm):
    """A new account's first password, after its sign-in link (the same validators as every password)."""


class LoginForm(AccountForm):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(
        max_length=4096, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(AccountForm):
    code = forms.CharField(
        label="Code",
        max_length=64,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class EnrolForm(AccountForm):
    code = forms.CharField(
        label="6-digit code from the app",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _supervisors(practice_id: int, exclude: User | None = None) -> Any:
    qs = User.objects.filter(practice_id=practice_id, role=Role.SUPERVISOR, is_active=True)
    qs = qs.order_by("full_name")
    return qs.exclude(pk=exclude.pk) if exclude is not None else qs


class StaffForm(AccountForm):
    """Role and supervisor, shared by adding and changing a staff member."""

    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)
    supervisor = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No supervisor",
        help_text=(
            "Therapists only: the supervisor who sees the cases they share for supervision, once the "
            "therapist accepts (they are told by email)."
        ),
    )

    def __init__(self, *args: Any, practice_id: int, member: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = _supervisors(practice_id, exclude=member)  # type: ignore[attr-defined]


class StaffCreateForm(StaffForm):
    """Nobody sets a staff member's password for them: they are invited by e-mail and choose it."""

    full_name = forms.CharField(label="Full name", max_length=200)
    email = forms.EmailField(max_length=254, help_text="The invitation goes to this address.")

    field_order = ["full_name", "email", "role", "supervisor"]


class PasswordResetRequestForm(AccountForm):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )


class SupervisionForm(AccountForm):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("decline", "Decline")], widget=forms.HiddenInput
    )


class MfaResetForm(AccountForm):
    identity_checked = forms.BooleanField(label=IDENTITY_CHECK, required=True)
