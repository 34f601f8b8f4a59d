"""Mounted at /api/ by spacebetween/urls.py. Each version keeps its own URL and OpenAPI schema."""

from django.urls import URLPattern, URLResolver, path

from spacebetween.api.v1 import api as api_v1

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", api_v1.urls),
]
