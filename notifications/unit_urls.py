from django.urls import path

from notifications import unit_views

app_name = "unit_webhooks"

urlpatterns = [
    path("", unit_views.webhook_list, name="list"),
    path("<int:pk>/", unit_views.webhook_detail, name="detail"),
    path("<int:pk>/rotate-secret/", unit_views.webhook_rotate, name="rotate"),
    path("<int:pk>/delete/", unit_views.webhook_delete, name="delete"),
    path("<int:pk>/deliveries/<int:delivery_id>/send-again/", unit_views.delivery_send_again, name="send_again"),
]
