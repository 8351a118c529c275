from django.urls import path

from drills import views

app_name = "drills"

urlpatterns = [
    path("", views.drill_list, name="list"),
    path("schedule/", views.drill_schedule, name="schedule"),
    path("<int:pk>/", views.drill_detail, name="detail"),
    path("<int:pk>/cancel/", views.drill_cancel, name="cancel"),
    path("scenarios/", views.scenario_list, name="scenarios"),
    path("scenarios/new/", views.scenario_new, name="scenario_new"),
    path("scenarios/<int:pk>/", views.scenario_detail, name="scenario_detail"),
    path("scenarios/<int:pk>/edit/", views.scenario_edit, name="scenario_edit"),
]
