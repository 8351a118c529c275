from django.urls import path

from incidents import views

urlpatterns = [
    path("", views.home, name="home"),
]
