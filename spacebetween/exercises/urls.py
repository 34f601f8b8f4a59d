from django.urls import URLPattern, URLResolver, path

from spacebetween.exercises import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("episodes/<int:episode_id>/exercises/new/", views.exercise_assign, name="exercise_assign"),
    path(
        "episodes/<int:episode_id>/between-sessions/",
        views.episode_between_sessions,
        name="episode_between_sessions",
    ),
    path("episodes/<int:episode_id>/readings/", views.reading_share, name="reading_share"),
    path("exercises/<int:exercise_id>/withdraw/", views.exercise_withdraw, name="exercise_withdraw"),
    path("library/", views.library, name="library"),
    path("library/exercises/new/", views.practice_exercise_new, name="practice_exercise_new"),
    path("library/pages/new/", views.practice_page_new, name="practice_page_new"),
    path(
        "library/exercises/<int:practice_exercise_id>/retire/",
        views.practice_exercise_retire,
        name="practice_exercise_retire",
    ),
    path("me/exercises/<int:exercise_id>/", views.portal_exercise, name="portal_exercise"),
    path("me/reading/<int:reading_id>/", views.portal_reading, name="portal_reading"),
]
