from django.urls import path

from spacebetween.accounts import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("account/mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("account/mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("account/password/", views.password_change, name="password_change"),
    path("welcome/<str:welcome_token>/", views.welcome, name="welcome"),
    path("account/welcome/password/", views.welcome_password, name="welcome_password"),
    path("account/password/reset/", views.password_reset, name="password_reset"),
    path("account/supervision/", views.supervision, name="supervision"),
    path("practice/staff/", views.staff_list, name="staff_list"),
    path("practice/staff/add/", views.staff_add, name="staff_add"),
    path("practice/staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("practice/staff/<int:pk>/deactivate/", views.staff_deactivate, name="staff_deactivate"),
    path("practice/staff/<int:pk>/reactivate/", views.staff_reactivate, name="staff_reactivate"),
    path("practice/staff/<int:pk>/invite/", views.staff_invite, name="staff_invite"),
    path("practice/staff/<int:pk>/reset-mfa/", views.staff_mfa_reset, name="staff_mfa_reset"),
]
