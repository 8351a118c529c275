"""The stored responses that make retried API writes idempotent."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """A write made with an Idempotency-Key, kept (a day) so a retry gets the same response."""

    principal = models.CharField(_("调用方"), max_length=40)
    key = models.CharField(_("幂等键"), max_length=255)
    request_fingerprint = models.CharField(_("请求指纹"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    response_body = models.JSONField(_("响应内容"), null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="api_idempotency_key_once")]

    def __str__(self) -> str:
        return f"{self.principal} · {self.key}"
