"""The {% url %} tag, with the paths of a page's many links to records built without Django's reverse.

A dashboard draws a hundred and more links such as {% url 'incident_detail' d.incident_id %};
Django's reverse matches every one against the URL patterns again, a tenth of the page's time.
Here a route's path is reversed once, with stand-in numbers for its arguments, and split around
them; a link whose arguments are all whole numbers (ids) is then that path with its numbers put in.
Anything else (keyword arguments, text arguments, a route whose path changes a number's text) goes
through Django's own tag. The library is a template builtin (settings.TEMPLATES), so every
template's {% url %} is this one.
"""

from functools import lru_cache
from typing import Any

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

# Stand-ins for the arguments: numbers no real path holds.
_MARKS = tuple(str(987_654_321_000 + position) for position in range(8))


@lru_cache(maxsize=512)
def _route(
    view_name: str, count: int, current_app: str | None, urlconf: Any, prefix: str, language: str | None
) -> tuple[str, ...] | None:
    """The path of `view_name` with `count` arguments, split around them; None when it cannot be
    split (no such route, or its path does not hold each argument's digits once, as they are)."""
    if count > len(_MARKS):
        return None
    marks = _MARKS[:count]
    try:
        path = reverse(view_name, urlconf=urlconf, args=[int(mark) for mark in marks], current_app=current_app)
    except NoReverseMatch:
        return None
    parts = []
    for mark in marks:
        if path.count(mark) != 1:
            return None
        before, path = path.split(mark)
        parts.append(before)
    parts.append(path)
    return tuple(parts)


def route_path(view_name: str, args: list[Any], current_app: str | None = None) -> str | None:
    """The path `reverse(view_name, args=args)` gives, when every argument is a whole number ≥ 0 and
    the route's path takes numbers as they are; None otherwise (ask reverse)."""
    if not all(type(arg) is int and arg >= 0 for arg in args):
        return None
    route = _route(view_name, len(args), current_app, get_urlconf(), get_script_prefix(), get_language())
    if route is None:
        return None
    pieces = [route[0]]
    for arg, after in zip(args, route[1:], strict=True):
        pieces += [str(arg), after]
    return "".join(pieces)


class RouteURLNode(URLNode):
    def render(self, context: template.Context) -> str:
        if self.kwargs:
            return super().render(context)  # type: ignore[no-any-return]
        view_name = self.view_name.resolve(context)
        args = [arg.resolve(context) for arg in self.args]
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        path = route_path(view_name, args, current_app) if isinstance(view_name, str) else None
        if path is None:
            return super().render(context)  # type: ignore[no-any-return]
        if self.asvar:
            context[self.asvar] = path
            return ""
        return conditional_escape(path) if context.autoescape else path


@register.tag
def url(parser: template.base.Parser, token: template.base.Token) -> URLNode:
    """Django's {% url %}, parsed by Django; paths to records are built from their route (see above)."""
    node = django_url(parser, token)
    return RouteURLNode(node.view_name, node.args, node.kwargs, node.asvar)
