"""The pages of a person's own unit (单位): signed in, let in by a rule of the unit, given the unit's id.
Here rather than in opinion_ops.pages because the unit comes from organizations."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from opinion_ops.errors import NotPermitted
from opinion_ops.pages import View, refused_page
from organizations.roles import user_organization_id

# (user, their unit's id) -> why they may not open the page, or None when they may.
Refusal = Callable[[Any, int | None], object | None]


def unit_page(
    refusal: Refusal, refused_with: Callable[[HttpRequest, object], HttpResponse] = refused_page
) -> Callable[[View], View]:
    """A page of the signed-in person's own unit: the 403 page (`refused_with`) with the reason
    `refusal` gives, else the view, called with the unit's id after the request. A service's own
    rule that refuses meanwhile (a role taken away) is the 403 page too."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            organization_id = user_organization_id(request.user)
            reason = refusal(request.user, organization_id)
            if reason is not None:
                return refused_with(request, reason)
            try:
                return view(request, organization_id, *args, **kwargs)
            except NotPermitted as refused:
                return refused_with(request, refused.message)

        return wrapped

    return decorate
