"""{% url %} builds the paths of links to records from their routes (opinion_ops.routes): every path
must be the one Django's reverse gives."""

import pytest
from django.template import Context, Template
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils import translation

from opinion_ops.routes import route_path


def _named_routes(resolver: URLResolver, prefix: str = "") -> list[tuple[str, list[str]]]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            found += _named_routes(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            converters = list(getattr(pattern.pattern, "converters", {}).values())
            found.append((prefix + pattern.name, [type(converter).__name__ for converter in converters]))
    return found


ROUTES = _named_routes(get_resolver())


def test_the_project_has_routes_to_records_by_number() -> None:
    assert sum(1 for _name, converters in ROUTES if converters == [IntConverter.__name__]) > 20


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_route_with_numbers_gives_the_path_reverse_gives(language: str) -> None:
    with translation.override(language):
        checked = 0
        for name, converters in ROUTES:
            count = len(converters)
            for args in ([0] * count, [7] * count, list(range(12, 12 + count)), [2_147_483_647] * count):
                try:
                    expected = reverse(name, args=args)
                except Exception:  # a route whose converters take no numbers: reverse refuses, so must we
                    assert route_path(name, args) is None or converters != [IntConverter.__name__] * count
                    continue
                assert route_path(name, args) == expected, (name, args)
                checked += 1
        assert checked > 80


def test_arguments_that_are_not_whole_numbers_go_through_reverse() -> None:
    assert route_path("incident_detail", ["12"]) is None
    assert route_path("incident_detail", [True]) is None
    assert route_path("incident_detail", [-1]) is None
    assert route_path("no_such_route", [1]) is None


def test_the_url_tag_draws_paths_as_django_did() -> None:
    text = Template(
        "{% url 'incident_detail' pk %}|{% url 'incident_detail' pk as there %}{{ there }}|"
        "{% url 'incident_detail' pk=pk %}|{% url 'incident_detail' '5' %}|{% url 'home' %}"
    ).render(Context({"pk": 42}))
    detail = reverse("incident_detail", args=[42])
    assert text == f"{detail}|{detail}|{detail}|{reverse('incident_detail', args=[5])}|{reverse('home')}"
