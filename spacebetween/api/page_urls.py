"""The practice admin's API-keys page; included at the site root by spacebetween/urls.py."""

from django.urls import URLPattern, URLResolver, path

from spacebetween.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("practice/api-keys/", views.api_keys, name="api_keys"),
    path("practice/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
