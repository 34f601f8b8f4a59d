from django.urls import URLPattern, URLResolver, path

from spacebetween.safety import crisis_views, plan_views, settings_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("risk-flags/<int:flag_id>/", views.risk_flag, name="risk_flag"),
    path(
        "risk-flags/<int:flag_id>/acknowledge/",
        views.risk_flag_acknowledge_view,
        name="risk_flag_acknowledge",
    ),
    path("practice/risk-settings/", settings_views.risk_settings_view, name="risk_settings"),
    path("clients/<int:client_id>/safety-plan/", plan_views.safety_plan, name="safety_plan"),
    path(
        "clients/<int:client_id>/safety-plan/print/", plan_views.safety_plan_print, name="safety_plan_print"
    ),
    path("me/safety-plan/", plan_views.portal_safety_plan, name="portal_safety_plan"),
    path("practice/crisis-resources/", crisis_views.crisis_resources, name="crisis_resources"),
    path("practice/crisis-resources/country/", crisis_views.crisis_country, name="crisis_country"),
    path(
        "practice/crisis-resources/<int:resource_id>/delete/",
        crisis_views.crisis_resource_delete,
        name="crisis_resource_delete",
    ),
]
