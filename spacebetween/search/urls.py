from django.urls import URLPattern, URLResolver, path

from spacebetween.search import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("search/", views.search, name="search"),
]
