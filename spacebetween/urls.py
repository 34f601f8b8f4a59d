from django.urls import include, path

from spacebetween.ui.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Before the pages: Django tries the patterns in order, and every API call would otherwise be
    # matched against each page's pattern first (docs/performance.md). No page lives under api/.
    path("api/", include("spacebetween.api.urls")),
    path("", include("spacebetween.accounts.urls")),
    path("", include("spacebetween.web.urls")),
    path("", include("spacebetween.measures.urls")),
    path("", include("spacebetween.plans.urls")),
    path("", include("spacebetween.answering.urls")),
    path("", include("spacebetween.delivery.urls")),
    path("", include("spacebetween.relationship.urls")),
    path("", include("spacebetween.exercises.urls")),
    path("", include("spacebetween.notes.urls")),
    path("", include("spacebetween.transcripts.urls")),
    path("", include("spacebetween.safety.urls")),
    path("", include("spacebetween.insights.urls")),
    path("", include("spacebetween.rights.urls")),
    path("", include("spacebetween.formulation.urls")),
    path("", include("spacebetween.progress.urls")),
    path("", include("spacebetween.search.urls")),
    path("", include("spacebetween.api.page_urls")),
    path("", include("spacebetween.owner.urls")),
]
