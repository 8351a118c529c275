"""Absolute links for messages that leave the browser (chat groups, e-mail, webhooks)."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def absolute_url(path: str) -> str:
    """`path` on this installation's SITE_URL."""
    return f"{settings.SITE_URL}{path}" if path.startswith("/") else path


def absolute_reverse(name: str, *args: object) -> str:
    try:
        return absolute_url(reverse(name, args=args))
    except NoReverseMatch:
        return ""
