from django.urls import path

from spacebetween.measures import views

urlpatterns = [
    path("practice/instruments/", views.instruments, name="instrument_settings"),
    path(
        "practice/instruments/licensed/<slug:instrument_id>/accept/",
        views.instrument_terms_accept,
        name="instrument_terms_accept",
    ),
    path(
        "practice/instruments/licensed/<slug:instrument_id>/withdraw/",
        views.instrument_terms_withdraw,
        name="instrument_terms_withdraw",
    ),
    path("practice/instruments/import/", views.instrument_import, name="instrument_import"),
    path("clients/<int:client_id>/answers/", views.client_answers, name="client_answers"),
]
