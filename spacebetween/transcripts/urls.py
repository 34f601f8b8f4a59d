from django.urls import URLPattern, URLResolver, path

from spacebetween.transcripts import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sessions/<int:session_id>/transcript/", views.session_transcript, name="session_transcript"),
    path(
        "sessions/<int:session_id>/transcript/speakers/",
        views.transcript_speakers,
        name="transcript_speakers",
    ),
    path("sessions/<int:session_id>/transcript/delete/", views.transcript_delete, name="transcript_delete"),
]
