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

        from organizations.sections import Section, section_register

        section_register(Section("webhooks", _("系统对接"), "unit_webhooks:list", "manage_webhooks", order=50))
        section_register(Section("channels", _("工作组通知方式"), "notifications:channels", "manage_groups", order=60))
