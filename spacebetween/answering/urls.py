from django.urls import URLPattern, URLResolver, path

from spacebetween.answering import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("assignments/<int:assignment_id>/withdraw/", views.assignment_withdraw, name="assignment_withdraw"),
]
