from django.urls import path

from spacebetween.web import views

urlpatterns = [
    path("", views.home, name="home"),
]
