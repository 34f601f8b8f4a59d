from django.urls import URLPattern, URLResolver, path

from spacebetween.notes import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sessions/<int:session_id>/progress-note/", views.progress_note, name="progress_note"),
    path("sessions/<int:session_id>/process-note/", views.process_note, name="process_note"),
    path("practice/note-templates/", views.note_templates, name="note_templates"),
    path("practice/socratic-questions/", views.socratic_questions, name="socratic_questions"),
    path("sessions/<int:session_id>/questions/", views.session_questions, name="session_questions"),
    path("episodes/<int:episode_id>/supervision-notes/", views.supervision_notes, name="supervision_notes"),
]
