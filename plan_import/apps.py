from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanImportConfig(AppConfig):
    name = "plan_import"
    verbose_name = _("预案导入")

    def ready(self) -> None:
        from incidents.plan_compare import activation_notes_register
        from incidents.services.plans import activation_hook_register
        from plan_import.groups import activation_notes, plan_import_groups_apply

        activation_hook_register(plan_import_groups_apply)
        activation_notes_register(activation_notes)
