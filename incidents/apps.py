from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("舆情事件")

    def ready(self) -> None:
        from incidents import events
        from incidents.selectors import dashboard_statistics_forget

        events.subscribe("*", dashboard_statistics_forget)
