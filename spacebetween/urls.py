from django.urls import include, path

urlpatterns = [
    path("", include("spacebetween.accounts.urls")),
    path("", include("spacebetween.web.urls")),
    path("", include("spacebetween.measures.urls")),
]
