from django.urls import URLPattern, URLResolver, path

from spacebetween.formulation import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("episodes/<int:episode_id>/workspace/", views.workspace, name="formulation_workspace"),
    path(
        "episodes/<int:episode_id>/formulation/revise/", views.formulation_revise, name="formulation_revise"
    ),
    path(
        "episodes/<int:episode_id>/formulation/compare/",
        views.formulation_compare,
        name="formulation_compare",
    ),
    path("episodes/<int:episode_id>/goals/", views.goal_add, name="goal_add"),
    path("episodes/<int:episode_id>/goals/rate/", views.goal_rate, name="goal_rate"),
    path("episodes/<int:episode_id>/goals/close/", views.goal_close, name="goal_close"),
]
urlpatterns += [
    path(
        "episodes/<int:episode_id>/reconsolidation/new/",
        views.reconsolidation_start,
        name="reconsolidation_start",
    ),
    path(
        "episodes/<int:episode_id>/reconsolidation/<int:work_id>/",
        views.reconsolidation_work,
        name="reconsolidation_work",
    ),
    path(
        "episodes/<int:episode_id>/reconsolidation/<int:work_id>/steps/",
        views.reconsolidation_step,
        name="reconsolidation_step",
    ),
    path(
        "episodes/<int:episode_id>/reconsolidation/<int:work_id>/markers/",
        views.marker_check,
        name="marker_check",
    ),
]
