"""opinion_ops.db.compiled: a page's query compiled once per process gives the rows a fresh query
gives, for every argument, and refuses the queries it cannot hold."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.test import override_settings
from django.utils import timezone

from opinion_ops.db import NotCompilable, compiled
from opinion_ops.testing import make_unit, make_user
from organizations.models import Organization, ResponseGroup

pytestmark = pytest.mark.django_db


@compiled
def groups_of(organization_id: int, kind: str) -> QuerySet[ResponseGroup]:
    return (
        ResponseGroup.objects.filter(organization_id=organization_id, kind=kind)
        .select_related("organization")
        .prefetch_related(Prefetch("members", queryset=get_user_model().objects.order_by("username")))
        .order_by("id")
    )


@compiled
def joined_by(when: Any) -> QuerySet[Any, str]:
    joined = get_user_model().objects.filter(date_joined__lte=when).order_by("username")
    return joined.values_list("username", flat=True)


@compiled
def units_named(*, codes: tuple[str, ...]) -> QuerySet[Organization, dict[str, Any]]:
    return Organization.objects.filter(code__in=codes).order_by("code").values("code", "name")


def compilations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the queries Django compiles to SQL (the outermost compile of each)."""
    counted = [0]
    as_sql = SQLCompiler.as_sql

    def counting(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        counted[0] += 1
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    return counted


def test_rows_are_those_a_fresh_query_gives_for_every_argument() -> None:
    north, south = make_unit("北区", "north"), make_unit("南区", "south")
    make_user("bob", north, "leadership")
    make_user("ann", north, "leadership")
    make_user("cat", south, "analysis")
    for unit in (north, south):
        for kind in ("leadership", "analysis", "office"):
            fresh = list(groups_of.build(unit.pk, kind))
            rows = groups_of(unit.pk, kind)
            assert [group.pk for group in rows] == [group.pk for group in fresh]
            assert all(group.organization == unit for group in rows)  # select_related, no query needed
            assert [[m.username for m in g.members.all()] for g in rows] == [
                [m.username for m in g.members.all()] for g in fresh
            ]
    leaders = groups_of(north.pk, "leadership")
    assert [member.username for member in leaders[0].members.all()] == ["ann", "bob"]
    assert list(groups_of(south.pk, "leadership")[0].members.all()) == []


def test_a_query_is_compiled_once_then_run_with_new_values(monkeypatch: pytest.MonkeyPatch) -> None:
    north, south = make_unit("北区", "north"), make_unit("南区", "south")
    groups_of(north.pk, "leadership")  # compiled here, or by an earlier test in this process
    counted = compilations(monkeypatch)
    with override_settings(COMPILED_QUERIES_VERIFY=False):
        rows = groups_of(south.pk, "office")
        groups_of(north.pk, "analysis")
    assert [group.organization_id for group in rows] == [south.pk]
    assert counted[0] == 2  # the prefetches of members, by a list of groups: compiled each time


def test_a_time_argument_reaches_the_database_as_the_orm_would_send_it() -> None:
    unit = make_unit("北区", "north")
    make_user("ann", unit)
    make_user("bob", unit)
    get_user_model().objects.filter(username="bob").update(date_joined=timezone.now() - timedelta(days=3))
    assert joined_by(timezone.now() - timedelta(days=1)) == ["bob"]
    assert joined_by(timezone.now() + timedelta(minutes=1)) == ["ann", "bob"]


def test_keyword_arguments_choose_the_query_each_compiled_once() -> None:
    make_unit("北区", "north")
    make_unit("南区", "south")
    assert [row["code"] for row in units_named(codes=("north",))] == ["north"]
    assert [row["code"] for row in units_named(codes=("north", "south"))] == ["north", "south"]
    assert units_named(codes=()) == []
    assert [row["code"] for row in units_named(codes=("south",))] == ["south"]


def test_an_argument_a_lookup_changes_cannot_be_compiled() -> None:
    @compiled
    def named_like(text: str) -> QuerySet[Organization]:
        return Organization.objects.filter(name__icontains=text)

    with pytest.raises(NotCompilable, match="do not reach"):
        named_like("北")

    @compiled
    def flagged(flag: bool) -> QuerySet[Organization]:
        return Organization.objects.filter(parent__isnull=flag)

    with pytest.raises(NotCompilable, match="bool"):
        flagged(True)


def test_a_query_whose_shape_follows_its_arguments_is_caught_in_the_tests() -> None:
    @compiled
    def shaped(organization_id: int) -> QuerySet[ResponseGroup]:
        groups = ResponseGroup.objects.filter(organization_id=organization_id)
        return groups.filter(kind="leadership") if organization_id % 2 else groups

    north, south = make_unit("北区", "north"), make_unit("南区", "south")
    with pytest.raises(AssertionError, match="must not depend on them"):  # one of them differs from the other
        shaped(north.pk)
        shaped(south.pk)
