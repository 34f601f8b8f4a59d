from django.urls import URLPattern, URLResolver, path

from spacebetween.safety import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("risk-flags/<int:flag_id>/", views.risk_flag, name="risk_flag"),
    path(
        "risk-flags/<int:flag_id>/acknowledge/",
        views.risk_flag_acknowledge_view,
        name="risk_flag_acknowledge",
    ),
]
