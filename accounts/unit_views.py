"""单位设置 → 人员, sign-in security of a member: whether their account is locked and whether they
have an authenticator bound (a column of the members page), and the administrator's two actions:
lift a lockout, reset a lost authenticator."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.services import account_unlock, second_factor_reset
from opinion_ops.pages import message_service_call
from organizations.models import Membership
from organizations.views import unit_page


def _member(organization_id: int, pk: int) -> Any:
    membership = Membership.objects.select_related("user").filter(pk=pk, organization_id=organization_id).first()
    if membership is None:
        raise Http404(_("人员不存在。"))
    return membership


@unit_page("manage_members")
@require_POST
def member_unlock(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    membership = _member(organization_id, pk)
    if message_service_call(request, lambda: account_unlock(actor=request.user, user=membership.user)) is not None:
        messages.success(request, _("已解除 %(name)s 的登录锁定。") % {"name": membership.user.get_username()})
    return redirect("unit:member", pk=pk)


@unit_page("manage_members")
@require_POST
def member_second_factor_reset(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    membership = _member(organization_id, pk)

    def reset() -> bool:
        second_factor_reset(actor=request.user, user=membership.user)
        return True

    if message_service_call(request, reset):
        messages.success(
            request,
            _("已重置 %(name)s 的两步验证，其下次登录时须重新绑定身份验证器。")
            % {"name": membership.user.get_username()},
        )
    return redirect("unit:member", pk=pk)
