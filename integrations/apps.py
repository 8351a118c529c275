from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("系统对接")

    def ready(self) -> None:
        from organizations.sections import Section, section_register

        section_register(Section("tokens", _("接口令牌"), "unit_tokens:list", "manage_tokens", order=40))
