"""Small presentation helpers: readable level badges and live deadline countdowns."""

from datetime import datetime
from functools import lru_cache
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents.models import State

register = template.Library()

DARK = "#1f2329"
LIGHT = "#ffffff"


def _luminance(hex_color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


@lru_cache(maxsize=256)
def readable_colors(color: str) -> tuple[str, str]:
    """Background and text colour for a badge of the level's colour with at least 4.5:1 contrast.

    Light colours (yellow) get dark text; darker ones white text, the background darkened a
    little when the plan's colour is too light for white (e.g. orange).
    """
    if not (isinstance(color, str) and len(color) == 7 and color.startswith("#")):
        color = "#646a73"
    lum = _luminance(color)
    dark_lum = _luminance(DARK)
    if _contrast(lum, dark_lum) >= _contrast(lum, 1.0):
        return color, DARK
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    for _step in range(20):
        if _contrast(_luminance(f"#{r:02x}{g:02x}{b:02x}"), 1.0) >= 4.5:
            break
        r, g, b = int(r * 0.93), int(g * 0.93), int(b * 0.93)
    return f"#{r:02x}{g:02x}{b:02x}", LIGHT


@register.simple_tag
def level_badge(level: Any, name: str = "", color: str = "") -> str:
    if level is None and not name:
        return format_html('<span class="badge badge-none">{}</span>', _("未定级"))
    name = name or level.name
    bg, fg = readable_colors(color or level.color)
    # The plan's colour fills an SVG behind the name: an SVG fill is not a style attribute, which the
    # Content-Security-Policy forbids.
    return format_html(
        '<span class="badge level {}"><svg class="badge-fill" aria-hidden="true" focusable="false">'
        '<rect width="100%" height="100%" rx="4" fill="{}"/></svg>{}</span>',
        "on-light" if fg == DARK else "on-dark",
        bg,
        name,
    )


@lru_cache(maxsize=16)
def _countdown_words(language: str | None) -> tuple[str, str]:
    """剩余 / 已逾期 in `language`, escaped: a dashboard draws dozens of countdowns."""
    return escape(_("剩余")), escape(_("已逾期"))


@register.simple_tag
def countdown(due: datetime | None, done: bool = False) -> str:
    """A countdown that ticks in the browser (static/js/countdown.js) from its data-due attribute."""
    if due is None:
        return ""
    seconds = int((due - timezone.now()).total_seconds())
    overdue = seconds < 0
    minutes = abs(seconds) // 60
    left, over = _countdown_words(get_language())
    # Every part is escaped or is digits and punctuation (the ISO time), so the tag is assembled directly.
    return mark_safe(  # noqa: S308
        f'<span class="countdown{" overdue" if overdue else ""}" data-due="{due.isoformat()}" data-left="{left}" '
        f'data-over="{over}" role="timer">{over if overdue else left} {minutes // 60:d}:{minutes % 60:02d}</span>'
    )


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def row_key(action: str, pk: Any) -> str:
    return f"{action}-{pk}"


@lru_cache(maxsize=16)
def _state_labels(language: str | None) -> dict[str, str]:
    return {value: str(label) for value, label in State.choices}


@register.filter
def state_label(state: str) -> str:
    """A state's name, like get_state_display but from a table read once per language (a list has many rows)."""
    return _state_labels(get_language()).get(state, state)
