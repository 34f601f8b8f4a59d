from django.urls import path

from spacebetween.insights import views, views_outcomes

urlpatterns = [
    path("practice/outcomes/", views_outcomes.practice_outcomes, name="practice_outcomes"),
    path("practice/insights/", views.insight_settings, name="insight_settings"),
    path("clients/<int:client_id>/report.pdf", views.client_report, name="client_report"),
]
