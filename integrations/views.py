"""单位设置 → 接口令牌: issue (the secret is shown once, on the answer to the issuing request, and
never stored), revoke, and see when each token was last used."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from integrations.forms import TokenIssueForm
from integrations.models import ApiToken
from integrations.tokens import api_token_issue, api_token_revoke
from opinion_ops.pages import form_service_call, message_service_call
from organizations.models import Membership, Organization
from organizations.views import unit_page, unit_render


def _people(organization_id: int) -> list[tuple[int, str]]:
    members = Membership.objects.filter(organization_id=organization_id, user__is_active=True).select_related("user")
    return [
        (m.user_id, f"{m.user.get_full_name() or m.user.get_username()}（{m.user.get_username()}）")
        for m in members.order_by("user__username")
    ]


def _page(request: HttpRequest, organization_id: int, form: TokenIssueForm, **extra: Any) -> HttpResponse:
    tokens = ApiToken.objects.filter(organization_id=organization_id).select_related("user", "created_by")
    response = unit_render(
        request,
        "unit/tokens.html",
        "tokens",
        {"tokens": tokens.order_by("revoked_at", "-created_at"), "form": form, **extra},
    )
    response["Cache-Control"] = "no-store"  # the page may carry a secret shown once
    return response


@unit_page("manage_tokens")
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest, organization_id: int) -> HttpResponse:
    people = _people(organization_id)
    form = TokenIssueForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = get_user_model().objects.filter(pk=data["user"]).first()
        issued = form_service_call(
            form,
            lambda: api_token_issue(
                organization=Organization.objects.get(pk=organization_id),
                actor=request.user,
                name=data["name"],
                user=user,
                scope=data["scope"],
                expires_at=data["expires_at"],
                rate_limit_per_minute=data["rate_limit_per_minute"],
            ),
        )
        if issued is not None:
            token, raw = issued
            return _page(request, organization_id, TokenIssueForm(people=people), issued=token, raw=raw)
    return _page(request, organization_id, form, _invalid=form.is_bound and bool(form.errors))


@unit_page("manage_tokens")
@require_POST
def token_revoke(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, organization_id=organization_id).first()
    if token is None:
        raise Http404(_("令牌不存在。"))
    if message_service_call(request, lambda: api_token_revoke(token_id=token.pk, actor=request.user)):
        messages.success(request, _("已吊销令牌 %(name)s，自下一次请求起拒绝使用。") % {"name": token.name})
    return redirect("unit_tokens:list")
