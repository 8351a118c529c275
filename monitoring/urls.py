from django.urls import path

from monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("incidents/<int:pk>/mentions/add/", views.mention_add, name="mention_add"),
]
