"""The practice admin's risk settings page (/practice/risk-settings/): what each risk answer means,
how long an open flag waits before the next person is told, and the on-call address. One page, a
form per risk rule and one for the escalation; each POST names its form (`form`). Writes are
`safety.services` (audited; nothing saved on bad input)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from spacebetween import clock
from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.safety import services
from spacebetween.safety.selectors import RiskSettings, risk_settings
from spacebetween.safety.settings_forms import EscalationPolicyForm, SeverityRuleForm
from spacebetween.ui.forms import PageForm

ESCALATION = "escalation"
SAVED_RULE = "Saved what each answer means for {title}. Flags raised from now on follow it."
SAVED_ESCALATION = "Saved the escalation times and the on-call address."
FORM_UNKNOWN = "This form is not one of this page's. Reload the page and try again."


def _escalation_form(settings: RiskSettings, data: object = None) -> EscalationPolicyForm:
    initial = {
        "urgent_minutes": settings.urgent_minutes,
        "review_minutes": settings.review_minutes,
        "on_call_email": settings.on_call_email,
    }
    return EscalationPolicyForm(data, initial=initial)  # type: ignore[arg-type]


def _page(
    request: AuthenticatedHttpRequest,
    settings: RiskSettings,
    bound: PageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rule_forms = [
        bound
        if isinstance(bound, SeverityRuleForm) and bound.rule.rule_id == rule.rule_id
        else SeverityRuleForm(rule)
        for rule in settings.rules
    ]
    escalation = bound if isinstance(bound, EscalationPolicyForm) else _escalation_form(settings)
    context = {"settings": settings, "rule_forms": rule_forms, "escalation_form": escalation, "bound": bound}
    return render(request, "safety/risk_settings.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def risk_settings_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    settings = risk_settings(request.user.practice)
    if request.method == "GET":
        record(
            action=Action.READ,
            actor=request.user,
            entity_type=Entity.PAGE,
            entity_id="risk_settings",
            purpose=Purpose.OPERATIONS,
            request=request,
        )
        return _page(request, settings)
    which = request.POST.get("form", "")
    if which == ESCALATION:
        form: PageForm = _escalation_form(settings, request.POST)
        if form.is_valid():
            try:
                services.escalation_policy_save(
                    actor=request.user, now=clock.now(), request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, SAVED_ESCALATION)
                return redirect("risk_settings")
        return _page(request, settings, form, status=400)
    rule = next((r for r in settings.rules if r.rule_id == which), None)
    if rule is None:
        messages.error(request, FORM_UNKNOWN)
        return _page(request, settings, status=400)
    rule_form = SeverityRuleForm(rule, request.POST)
    if rule_form.is_valid():
        try:
            services.severity_rules_save(
                actor=request.user,
                rule_id=rule.rule_id,
                values=rule_form.values(),
                now=clock.now(),
                request=request,
            )
        except ValidationError as exc:
            rule_form.add_service_errors(exc)
        else:
            messages.success(request, SAVED_RULE.format(title=rule.instrument_title))
            return redirect("risk_settings")
    return _page(request, settings, rule_form, status=400)
