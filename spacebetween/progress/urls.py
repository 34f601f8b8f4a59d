from django.urls import URLPattern, URLResolver, path

from spacebetween.progress import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/progress/", views.portal_progress, name="portal_progress"),
    path("clients/<int:client_id>/progress-view/", views.progress_view_setting, name="progress_view_setting"),
]
