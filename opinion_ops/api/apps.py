from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The REST API platform: errors, authentication, throttles, idempotency, the schema."""

    name = "opinion_ops.api"
    label = "api"
    verbose_name = _("接口平台")
