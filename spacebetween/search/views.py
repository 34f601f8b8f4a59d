"""The caseload search page. The form posts (a search term can be health data: never in a URL or a
log line); `search.selectors.caseload_search` decides what is in reach and audits what is shown."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from spacebetween.accounts.decorators import AuthenticatedHttpRequest, clinician_required
from spacebetween.search.forms import SearchForm
from spacebetween.search.selectors import MAX_RESULTS, caseload_search


@require_http_methods(["GET", "POST"])
@clinician_required
def search(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SearchForm(request.POST if request.method == "POST" else None)
    searched = form.is_bound and form.is_valid()
    hits = caseload_search(request, request.user, form.cleaned_data["query"]) if searched else []
    context = {"form": form, "searched": searched, "hits": hits, "max_results": MAX_RESULTS}
    return render(
        request, "search/search.html", context, status=400 if form.is_bound and not searched else 200
    )
