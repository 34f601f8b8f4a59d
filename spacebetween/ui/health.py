"""`GET /healthz`: 200 "ok" from the web process itself, for load balancers, uptime checks and the
benchmark baseline (bench/submit.py). It reads no database, session or template, so it says that the
process answers, not that the database does, and its speed is the framework's ceiling on the machine."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
