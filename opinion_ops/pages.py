"""What every page that runs a service shares: a DomainError about a field goes next to that field,
a refusal becomes the 403 page, a row of another unit (or none) the 404 page. Never a 500."""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from opinion_ops.errors import DomainError, NotPermitted

T = TypeVar("T")
View = Callable[..., HttpResponse]


def refused_page(request: HttpRequest, message: object) -> HttpResponse:
    return render(request, "403.html", {"message": message}, status=403)


def _shown_on_the_page(error: DomainError) -> bool:
    """Whether the page shows this refusal itself. "Not found" becomes the 404 page; a refusal
    (403, NotPermitted) and a request for a fresh second factor (SecondFactorRequired, which
    accounts.middleware answers) go on up; a conflict (409) and invalid input (400) are shown."""
    if isinstance(error, NotPermitted):
        return False
    if error.code == "not_found":
        raise Http404(str(error.message)) from error
    return error.status_code < 403 or error.status_code == 409


def form_service_call(form: forms.Form, call: Callable[[], T]) -> T | None:
    """Run a service for a bound form: None, with the error on the form, when it refuses."""
    try:
        return call()
    except DomainError as error:
        if not _shown_on_the_page(error):
            raise
        field = error.field if error.field in form.fields else None
        form.add_error(field, str(error.message))
        return None


def message_service_call(request: HttpRequest, call: Callable[[], T]) -> T | None:
    """Run a service for a button (no form): its refusal becomes a message on the next page."""
    try:
        return call()
    except DomainError as error:
        if not _shown_on_the_page(error):
            raise
        messages.error(request, str(error.message))
        return None
