"""Floors for the submit workload (bench/submit.py): the least an endpoint of this stack can do and still
be a durable API write, served by the same gunicorn, with the same settings and middleware, as the
submissions and `/healthz`. They answer how much of the gap between a submission and `/healthz` is the
framework's and the database's, and how much the submission's own work (docs/performance.md).

- `POST /bench/floor/write`: a plain Django view that parses the JSON body and INSERTs it as one row in
  its own durable transaction (on SQLite through the product's backend: the write lock and a synced
  commit, as every write).
- `POST /bench/floor/api/read`: an API operation with the product's key authentication and the
  submission's request schema, answering 201 without writing.
- `POST /bench/floor/api/write`: the same, plus the INSERT of the first.

The row goes to `bench_floor_row`, a table only the benchmark's scratch database has (`create_table`);
its count checks that every acknowledged floor write was stored. These URLs come after every
product URL, so the product's own requests resolve exactly as in a deployment; the floors pay the
scan of the patterns before them, which can only make them slower. Bench only: loaded through
bench/floor_settings.py, never by the product.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from ninja import NinjaAPI

from bench.submit import FLOOR_TABLE as TABLE
from spacebetween.api.schemas import ResponseSubmitIn
from spacebetween.api.v1 import ApiKeyAuth
from spacebetween.urls import urlpatterns as product_urlpatterns


def create_table() -> None:
    """The floors' table, in the scratch database the setup child migrated."""
    key = "INTEGER PRIMARY KEY" if connection.vendor == "sqlite" else "BIGSERIAL PRIMARY KEY"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id {key}, body TEXT NOT NULL)")


def _insert(body: bytes) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (body) VALUES (%s)", [body.decode()])  # noqa: S608 - constant


@csrf_exempt
@require_POST
def durable_write(request: HttpRequest) -> JsonResponse:
    json.loads(request.body)  # parsed, as any API body is
    _insert(request.body)
    return JsonResponse({"stored": True}, status=201)


floor_api = NinjaAPI(urls_namespace="bench-floor", auth=ApiKeyAuth(), docs_url=None, openapi_url=None)


@floor_api.post("/read", response={201: dict})
def api_read(request: HttpRequest, payload: ResponseSubmitIn) -> tuple[int, dict[str, Any]]:
    return 201, {"answers": len(payload.answers)}


@floor_api.post("/write", response={201: dict})
def api_write(request: HttpRequest, payload: ResponseSubmitIn) -> tuple[int, dict[str, Any]]:
    _insert(request.body)
    return 201, {"answers": len(payload.answers)}


urlpatterns = [
    *product_urlpatterns,
    path("bench/floor/write", durable_write),
    path("bench/floor/api/", floor_api.urls),
]
