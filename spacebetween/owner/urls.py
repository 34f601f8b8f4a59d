from django.urls import path

from spacebetween.owner import views

urlpatterns = [
    path("practice/settings/", views.practice_settings, name="practice_settings"),
    path("practice/audit-log/", views.audit_log, name="audit_log"),
    path("practice/audit-log/export.csv", views.audit_log_export, name="audit_log_export"),
    path("practice/outbox/", views.outbox, name="outbox"),
]
