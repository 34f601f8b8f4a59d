"""The practice admin's page for API keys: list, create (the key is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, admin_required
from spacebetween.api import selectors, services
from spacebetween.api.forms import ApiKeyCreateForm


def _page(
    request: AuthenticatedHttpRequest,
    form: ApiKeyCreateForm | None = None,
    new_key: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "keys": selectors.api_keys_for(request.user.practice),
        "form": form or ApiKeyCreateForm(),
        "new_key": new_key,
    }
    response = render(request, "api/api_keys.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the new key is on this page, once
    return response


@admin_required
@require_http_methods(["GET", "POST"])
def api_keys(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = ApiKeyCreateForm(request.POST)
    if form.is_valid():
        try:
            _key, plaintext = services.api_key_create(
                actor=request.user, name=form.cleaned_data["name"], request=request
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _page(request, new_key=plaintext)
    return _page(request, form=form, status=400)


@admin_required
@require_POST
def api_key_revoke(request: AuthenticatedHttpRequest, key_id: int) -> HttpResponse:
    key = selectors.api_keys_for(request.user.practice).filter(pk=key_id).first()
    if key is None:
        raise Http404("Not found.")
    try:
        services.api_key_revoke(actor=request.user, key=key, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The API key {key.prefix} is revoked; it no longer works.")
    return redirect("api_keys")
