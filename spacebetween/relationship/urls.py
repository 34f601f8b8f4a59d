from django.urls import URLPattern, URLResolver, path

from spacebetween.relationship import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sessions/<int:session_id>/reflection/", views.session_reflection, name="session_reflection"),
]
