from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("存证")

    def ready(self) -> None:
        from evidence.content import KNOWN_KINDS
        from evidence.panels import EVIDENCE
        from incidents.panels import panel_register

        unknown = sorted(set(settings.EVIDENCE_ALLOWED_TYPES) - KNOWN_KINDS)
        if unknown:
            raise ImproperlyConfigured(
                f"EVIDENCE_ALLOWED_TYPES: unknown {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_KINDS))})"
            )
        if settings.EVIDENCE_MAX_BYTES < 1 or settings.EVIDENCE_MAX_IMAGE_PIXELS < 1:
            raise ImproperlyConfigured("EVIDENCE_MAX_BYTES and EVIDENCE_MAX_IMAGE_PIXELS must be positive")
        panel_register(EVIDENCE)
