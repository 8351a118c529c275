from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = _("研判支持")

    def ready(self) -> None:
        from analysis.panels import CLUSTERS_PANEL, incident_heat_note
        from analysis.services import posts_matched_analyse
        from incidents.panels import panel_register
        from incidents.selectors import review_note_register
        from monitoring.alerts import matched_hook_register

        matched_hook_register(posts_matched_analyse)
        panel_register(CLUSTERS_PANEL)
        review_note_register(incident_heat_note)
