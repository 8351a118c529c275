"""The Django admin is the operators' tool: superusers only. Units administer themselves in the
product (单位设置), where every action is checked against the unit; the admin has no per-unit
rules, so nobody but an operator may reach it (a unit administrator's staff flag gives nothing)."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class OperatorsAdminSite(AdminSite):
    site_header = _("舆情应急处置平台 · 运维后台")
    site_title = _("运维后台")
    index_title = _("平台运维（仅限超级管理员）")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


class OperatorsAdminConfig(AdminConfig):
    default_site = "opinion_ops.admin_site.OperatorsAdminSite"
