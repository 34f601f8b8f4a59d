from django.urls import path

from spacebetween.measures import views

urlpatterns = [
    path("practice/instruments/", views.instruments, name="instrument_settings"),
    path("practice/instruments/licensed/accept/", views.licensed_pack_accept, name="licensed_pack_accept"),
    path(
        "practice/instruments/licensed/withdraw/", views.licensed_pack_withdraw, name="licensed_pack_withdraw"
    ),
    path("practice/instruments/import/", views.instrument_import, name="instrument_import"),
]
