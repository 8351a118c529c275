from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/verify/", views.second_factor_verify, name="second_factor_verify"),
    path("two-factor/enrol/", views.second_factor_enrol, name="second_factor_enrol"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("two-factor/remove/", views.second_factor_remove, name="second_factor_remove"),
    path("security/", views.account_security, name="account_security"),
]
