from django.urls import URLPattern, URLResolver, path

from spacebetween.plans import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("episodes/<int:episode_id>/plan/", views.episode_plan, name="episode_plan"),
    path("practice/measurement-plan/", views.practice_plan, name="practice_plan"),
]
