from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillsConfig(AppConfig):
    name = "drills"
    verbose_name = _("应急演练")

    def ready(self) -> None:
        from drills.dashboard import DRILL_CARD
        from drills.panels import DRILL_PANEL
        from incidents.dashboard_cards import card_register
        from incidents.panels import panel_register

        card_register(DRILL_CARD)
        panel_register(DRILL_PANEL)
