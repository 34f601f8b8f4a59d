from django.urls import URLPattern, URLResolver, path

from spacebetween.rights import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("clients/<int:client_id>/data-rights/", views.client_rights, name="client_rights"),
    path("clients/<int:client_id>/data-rights/consent/", views.client_consent, name="client_consent"),
    path("clients/<int:client_id>/data-rights/export/", views.client_export, name="client_export"),
    path("clients/<int:client_id>/data-rights/erasure/", views.client_erasure, name="client_erasure"),
    path("practice/data-retention/", views.retention_settings, name="retention_settings"),
]
