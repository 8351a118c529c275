from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        from notifications import routing
        from notifications.health import outbox_check
        from opinion_ops.health import health_check_register

        routing.connect()
        health_check_register("outbox", outbox_check)
