from django.urls import URLPattern, URLResolver, path

from spacebetween.notes import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sessions/<int:session_id>/progress-note/", views.progress_note, name="progress_note"),
    path("sessions/<int:session_id>/process-note/", views.process_note, name="process_note"),
    path("practice/note-templates/", views.note_templates, name="note_templates"),
]
