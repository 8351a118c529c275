from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("单位与人员")

    def ready(self) -> None:
        from organizations.sections import Section, section_register

        section_register(Section("members", _("人员"), "unit:members", "manage_members", order=10))
        section_register(Section("groups", _("工作组"), "unit:groups", "manage_groups", order=20))
        section_register(Section("audit", _("审计记录"), "unit:audit", "read_audit", order=90))
