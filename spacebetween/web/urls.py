from django.urls import path

from spacebetween.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("caseload/", views.caseload, name="caseload"),
    path("clients/new/", views.client_new, name="client_new"),
    path("clients/<int:client_id>/", views.client_detail, name="client_detail"),
    path("clients/<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path("clients/<int:client_id>/portal-invite/", views.client_portal_invite, name="client_portal_invite"),
    path("clients/<int:client_id>/episodes/new/", views.episode_new, name="episode_new"),
    path("episodes/<int:episode_id>/edit/", views.episode_edit, name="episode_edit"),
    path("episodes/<int:episode_id>/", views.episode_history, name="episode_history"),
    path("episodes/<int:episode_id>/transcripts/", views.episode_transcripts, name="episode_transcripts"),
    path("episodes/<int:episode_id>/sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:session_id>/edit/", views.session_edit, name="session_edit"),
    path("me/", views.portal, name="portal"),
    path("practice/", views.practice_overview, name="practice_overview"),
]
