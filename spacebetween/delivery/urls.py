from django.urls import URLPattern, URLResolver, path

from spacebetween.delivery import send_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("a/<str:token>/", views.link_start_page, name="link_start_page"),
    path("a/<str:token>/start/", views.link_start, name="link_start"),
    path("answer/", views.link_answer, name="link_answer"),
    path("answer/review/", views.link_review, name="link_review"),
    path("answer/done/", views.link_done, name="link_done"),
    path("answer/next/", views.link_next, name="link_next"),
    path("me/questionnaires/<int:assignment_id>/", views.portal_answer, name="portal_answer"),
    path("me/questionnaires/<int:assignment_id>/review/", views.portal_review, name="portal_review"),
    path("me/questionnaires/<int:assignment_id>/done/", views.portal_done, name="portal_done"),
    path(
        "episodes/<int:episode_id>/questionnaires/send/",
        send_views.questionnaire_send,
        name="questionnaire_send",
    ),
    path(
        "assignments/<int:assignment_id>/send-again/",
        send_views.assignment_send_again,
        name="assignment_send_again",
    ),
]
