from django.urls import path

from accounts import unit_views

app_name = "unit_security"

urlpatterns = [
    path("<int:pk>/unlock/", unit_views.member_unlock, name="unlock"),
    path("<int:pk>/reset-two-factor/", unit_views.member_second_factor_reset, name="reset_two_factor"),
]
