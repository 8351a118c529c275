from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("badge/", views.notification_badge, name="badge"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("deadlines/<int:deadline_id>/acknowledge/", views.deadline_acknowledge_view, name="acknowledge"),
]
