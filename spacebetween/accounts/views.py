"""Sign-in, MFA, password change and staff administration pages. Each view parses the request,
calls one operation from `signin` or `services`, and renders."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from spacebetween.accounts import invitations, services, signin
from spacebetween.accounts import welcome as sign_in_links
from spacebetween.accounts.access import managed_member, managed_staff
from spacebetween.accounts.decorators import admin_required, role_required
from spacebetween.accounts.forms import (
    CodeForm,
    EnrolForm,
    FirstPasswordForm,
    LoginForm,
    MfaResetForm,
    NewPasswordForm,
    PasswordResetRequestForm,
    StaffCreateForm,
    StaffForm,
    SupervisionForm,
)
from spacebetween.accounts.models import Role, TotpDevice, User
from spacebetween.accounts.selectors import staff_overview

DEMO_NOTICE = (
    "This is a demo installation. Demo accounts sign in with their password only, without "
    "multi-factor authentication; every other staff account must set up an authenticator app."
)
STAFF_ADDED = "Staff member added. We have e-mailed them an invitation to choose their password."
INVITATION_SENT = "A new invitation is on its way; the earlier link no longer works."
SUPERVISION_ACCEPTED = "Supervisor accepted: they now see the episodes you share for supervision."
SUPERVISION_DECLINED = "Supervisor declined. Your practice admin can propose someone else."
SUPERVISION_CHOOSE = "Choose accept or decline."
STAFF_CHANGED = "Changes saved."
STAFF_DEACTIVATED = "Account deactivated; their sessions have ended."
STAFF_REACTIVATED = "Account reactivated."
MFA_RESET_DONE = "Authenticator reset: they set up a new one at their next sign-in."
RECOVERY_CODES_LOW = (
    "You have {left} recovery codes left. "
    "Your practice admin can reset your authenticator to give you new ones."
)
LINK_DOES_NOT_WORK = (
    "This sign-in link does not work. It may have been used already, replaced by a newer link, or have "
    'expired. Ask whoever sent it for a new one, or choose "Forgot your password?" on the sign-in page.'
)
LINK_TOO_MANY = "Too many attempts with links that do not work. Wait 15 minutes, then try again."
SETUP_SESSION_ENDED = (
    "This page is for setting up a new account after opening its sign-in link, and that has not happened "
    "here or was more than 30 minutes ago. Open your link again; if it no longer works, ask for a new one."
)
PASSWORD_CHANGED = "Your password has been changed. You have been signed out everywhere else."  # noqa: S105


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _safe_next(request: HttpRequest) -> str | None:
    wanted = request.POST.get("next") or request.GET.get("next")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return None


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or settings.LOGIN_REDIRECT_URL)
    notice = request.session.pop(signin.SESSION_NOTICE, None)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = signin.password_check(
                request=request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except signin.SignInRefused as refused:
            form.add_error(None, refused.message)
        else:
            signin.session_start(request=request, user=user)
            return redirect(signin.next_step_url(request, user, _safe_next(request)))
    demo = settings.ALLOW_DEMO_ACCOUNTS and User.objects.filter(is_demo_account=True, is_active=True).exists()
    context = {"form": form, "notice": notice, "demo_notice": DEMO_NOTICE if demo else ""}
    return render(request, "accounts/login.html", {**context, "next": _safe_next(request)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    signin.sign_out(request=request)
    messages.success(request, signin.SIGNED_OUT)
    response = redirect("login")
    # ASVS 5.0 14.3.1: the browser drops what it kept of this site.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not signin.mfa_pending(request) or signin.mfa_confirmed(user):
        return redirect("mfa_verify" if signin.mfa_pending(request) else settings.LOGIN_REDIRECT_URL)
    device = signin.totp_enrolment(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = signin.mfa_enrol_confirm(request=request, user=user, code=form.cleaned_data["code"])
        except signin.SignInRefused as refused:
            form.add_error("code", refused.message)
        else:
            shown_once = {"codes": codes, "next": signin.after_mfa_url(request)}
            return render(request, "accounts/recovery_codes.html", shown_once)
    secret = signin.totp_secret(device)
    context = {
        "form": form,
        "qr_svg": signin.totp_qr_svg(user=user, secret=secret),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "accounts/mfa_enrol.html", context)


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not signin.mfa_pending(request):
        return redirect(settings.LOGIN_REDIRECT_URL)
    if not TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists():
        return redirect("mfa_enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signin.mfa_verify(request=request, user=user, code=form.cleaned_data["code"])
        except signin.SignInRefused as refused:
            form.add_error("code", refused.message)
        else:
            left = signin.recovery_codes_left(user)
            if left <= 3:
                messages.warning(request, RECOVERY_CODES_LOW.format(left=left))
            return redirect(signin.after_mfa_url(request))
    return render(request, "accounts/mfa_verify.html", {"form": form})


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = NewPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_change(request=request, user=user, new_password=form.cleaned_data["new_password1"])
        messages.success(request, PASSWORD_CHANGED)
        return redirect("password_change")
    return render(request, "accounts/password_change.html", {"form": form})


# --- The one-time sign-in link (`spacebetween setup`) ------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    """The token is in the URL: never sent on in a Referer, never indexed."""
    response.headers["Referrer-Policy"] = "strict-origin"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _link_problem(request: HttpRequest, exc: Exception) -> HttpResponse:
    """One page for every link that does not work: it names no account."""
    if isinstance(exc, sign_in_links.TooManyAttempts):
        status, message = 429, LINK_TOO_MANY
    else:
        status = 410 if isinstance(exc, sign_in_links.LinkRefused) and exc.gone else 404
        message = LINK_DOES_NOT_WORK
    return render(request, "accounts/welcome_problem.html", {"message": message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest, welcome_token: str) -> HttpResponse:
    """GET: the start page, consuming nothing (mail scanners open links). POST: spend the link."""
    try:
        if request.method == "POST":
            sign_in_links.link_exchange(request=request, token=welcome_token)
            return _private(redirect("welcome_password"))
        link = sign_in_links.link_check(request=request, token=welcome_token)
    except (sign_in_links.LinkRefused, sign_in_links.TooManyAttempts) as exc:
        return _private(_link_problem(request, exc))
    context = {"token": welcome_token, "link": link, "member": link.user, "practice": link.user.practice}
    return _private(render(request, "accounts/welcome.html", context))


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def welcome_password(request: HttpRequest) -> HttpResponse:
    user = sign_in_links.setup_user(request)
    if user is None:
        return render(request, "accounts/welcome_problem.html", {"message": SETUP_SESSION_ENDED}, status=403)
    form = FirstPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        sign_in_links.password_set(
            request=request, user=user, new_password=form.cleaned_data["new_password1"]
        )
        return redirect(signin.next_step_url(request, user, None))
    context = {"form": form, "member": user, "mfa_enrolled": signin.mfa_confirmed(user)}
    return render(request, "accounts/welcome_password.html", context)


@sensitive_post_parameters("email")
@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """The same answer for every address (no account enumeration); 429 past the per-IP limit."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.reset_request(request=request, email=form.cleaned_data["email"])
        except invitations.TooManyRequests:
            context = {"form": form, "refused": invitations.RESET_TOO_MANY}
            return render(request, "accounts/password_reset.html", context, status=429)
        return render(request, "accounts/password_reset.html", {"sent": invitations.RESET_SENT})
    return render(request, "accounts/password_reset.html", {"form": form})


@role_required(Role.THERAPIST)
@require_http_methods(["GET", "POST"])
def supervision(request: HttpRequest) -> HttpResponse:
    """A therapist's supervisor, and accepting or declining the one their admin proposed."""
    therapist = _user(request)
    form = SupervisionForm(request.POST or None)
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise ValidationError(SUPERVISION_CHOOSE)
            accept = form.cleaned_data["decision"] == "accept"
            services.supervision_respond(therapist=therapist, accept=accept, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, SUPERVISION_ACCEPTED if accept else SUPERVISION_DECLINED)
        return redirect("supervision")
    return render(request, "accounts/supervision.html", {"therapist": therapist})


# --- Staff administration (practice admin only) ---------------------------------------------------


@admin_required
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = staff_overview(managed_staff(request))
    return render(
        request, "accounts/staff_list.html", {"staff": staff, "demo_exempt": settings.ALLOW_DEMO_ACCOUNTS}
    )


@admin_required
@require_http_methods(["GET", "POST"])
def staff_add(request: HttpRequest) -> HttpResponse:
    managed_staff(request)
    admin = _user(request)
    form = StaffCreateForm(request.POST or None, practice_id=admin.practice_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_create(actor=admin, request=request, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, STAFF_ADDED)
            return redirect("staff_list")
    return render(request, "accounts/staff_add.html", {"form": form})


@admin_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = managed_member(request, pk)
    admin = _user(request)
    initial = {"role": member.role, "supervisor": member.proposed_supervisor or member.supervisor}
    form = StaffForm(request.POST or None, initial=initial, practice_id=member.practice_id, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(actor=admin, member=member, request=request, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, STAFF_CHANGED)
            return redirect("staff_edit", pk=member.pk)
        member.refresh_from_db()
    return _render_member(request, member, form=form, reset_form=MfaResetForm())


def _render_member(
    request: HttpRequest, member: User, *, form: StaffForm, reset_form: MfaResetForm
) -> HttpResponse:
    context = {
        "member": member,
        "form": form,
        "reset_form": reset_form,
        "mfa_enrolled": signin.mfa_confirmed(member),
        "is_self": member.pk == request.user.pk,
        "awaiting_password": not member.has_usable_password(),
    }
    return render(request, "accounts/staff_edit.html", context)


def _member_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    member = managed_member(request, pk)
    admin = _user(request)
    try:
        if action == "deactivate":
            services.staff_deactivate(actor=admin, member=member, request=request)
            messages.success(request, STAFF_DEACTIVATED)
        elif action == "invite":
            services.staff_invite_resend(actor=admin, member=member, request=request)
            messages.success(request, INVITATION_SENT)
        else:
            services.staff_reactivate(actor=admin, member=member, request=request)
            messages.success(request, STAFF_REACTIVATED)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("staff_edit", pk=member.pk)


@admin_required
@require_POST
def staff_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(request, pk, "deactivate")


@admin_required
@require_POST
def staff_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(request, pk, "reactivate")


@admin_required
@require_POST
def staff_invite(request: HttpRequest, pk: int) -> HttpResponse:
    return _member_action(request, pk, "invite")


@admin_required
@require_POST
def staff_mfa_reset(request: HttpRequest, pk: int) -> HttpResponse:
    member = managed_member(request, pk)
    admin = _user(request)
    reset_form = MfaResetForm(request.POST)
    if reset_form.is_valid():
        try:
            services.mfa_reset(actor=admin, member=member, request=request)
        except ValidationError as exc:
            reset_form.add_error(None, exc)
        else:
            messages.success(request, MFA_RESET_DONE)
            return redirect("staff_edit", pk=member.pk)
    initial = {"role": member.role, "supervisor": member.proposed_supervisor or member.supervisor}
    form = StaffForm(initial=initial, practice_id=member.practice_id, member=member)
    return _render_member(request, member, form=form, reset_form=reset_form)
