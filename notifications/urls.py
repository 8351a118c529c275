from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("badge/", views.notification_badge, name="badge"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("channels/", views.channel_list, name="channels"),
    path("channels/<int:pk>/enabled/", views.channel_enable, name="channel_enable"),
    path("channels/<int:pk>/delete/", views.channel_remove, name="channel_delete"),
    path("channels/<int:pk>/test/", views.channel_test, name="channel_test"),
    path("deadlines/<int:deadline_id>/acknowledge/", views.deadline_acknowledge_view, name="acknowledge"),
]
