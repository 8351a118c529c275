from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("舆情监测")

    def ready(self) -> None:
        from incidents.dashboard_cards import card_register
        from incidents.panels import panel_register
        from monitoring.dashboard import ALERTS_CARD
        from monitoring.panels import MENTIONS

        panel_register(MENTIONS)
        card_register(ALERTS_CARD)
