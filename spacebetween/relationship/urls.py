from django.urls import URLPattern, URLResolver, path

from spacebetween.relationship import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sessions/<int:session_id>/reflection/", views.session_reflection, name="session_reflection"),
    path("sessions/<int:session_id>/rupture-note/", views.rupture_note, name="rupture_note"),
    path("sessions/<int:session_id>/themes/", views.session_themes, name="session_themes"),
    path("sessions/<int:session_id>/themes/remove/", views.session_theme_remove, name="session_theme_remove"),
    path("practice/theme-labels/", views.theme_labels, name="theme_labels"),
]
