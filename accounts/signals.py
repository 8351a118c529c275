"""At sign-in: forget the account's failed attempts (not the address's: one valid account must not
clear the count of an address trying many others), and note whether the person has an
authenticator, so accounts.middleware asks for it without a query on every page."""

from typing import Any

from axes.utils import reset as axes_reset
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.middleware import SESSION_HAS_AUTHENTICATOR
from accounts.selectors import second_factor_set_up


@receiver(user_logged_in, dispatch_uid="accounts_after_sign_in")
def after_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    axes_reset(username=user.get_username())
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_HAS_AUTHENTICATOR] = second_factor_set_up(user)
