from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = _("研判支持")

    def ready(self) -> None:
        from analysis.assessment import incident_assessment_aid
        from analysis.panels import CLUSTERS_PANEL, incident_heat_note
        from analysis.selectors import alerts_cluster_texts
        from analysis.services import posts_matched_analyse
        from incidents.assessment_aids import aid_register
        from incidents.panels import panel_register
        from incidents.selectors import review_note_register
        from monitoring.alert_counts import alert_counter_register
        from monitoring.alerts import matched_hook_register

        matched_hook_register(posts_matched_analyse)
        alert_counter_register(alerts_cluster_texts)
        panel_register(CLUSTERS_PANEL)
        review_note_register(incident_heat_note)
        aid_register(incident_assessment_aid, "analysis/partials/assessment_aid.html")
