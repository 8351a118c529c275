from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("舆情事件")

    def ready(self) -> None:
        from incidents import events
        from incidents.health import set_aside_check, sweeper_check
        from incidents.services.statistics import unit_statistics_mark_due
        from opinion_ops.health import health_check_register

        events.subscribe("*", unit_statistics_mark_due)
        health_check_register("clock sweeper", sweeper_check)
        health_check_register("set-aside clocks", set_aside_check)

        from organizations.sections import Section, section_register

        section_register(Section("plans", _("应急预案"), "unit_plans:list", "manage_plans", order=30))
