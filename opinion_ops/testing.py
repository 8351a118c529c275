"""The shared test base: named users in named units, as in every test of this project.

Unit 示范区教育局 (under 示范市教育局):
  alice  leader (领导小组组长)      bob    monitor          ann   analyst
  hank   handler                  sara   spokesperson     olga  office
  lee    legal                    nina   no group at all (belongs to the unit, holds no role)
  uma    the unit's administrator (单位管理员), in no working group
Unit 邻区教育局 (also under 示范市教育局): charlie, a leader there; carl, its administrator.
Unit 示范市教育局 (the superior): sam, a leader there.
"""

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, RequestFactory, TestCase
from django.utils import timezone

from incidents.models import Incident
from incidents.services.plans import plan_create_default
from organizations.models import GroupMember, Membership, Organization, ResponseGroup
from organizations.services import response_groups_create_default

PASSWORD = "correct horse battery staple"


def sign_in(client: Client, username: str, password: str = PASSWORD) -> bool:
    """Sign in through the real authentication backends (login lockout included), as the login
    page does; django-axes needs the request the credentials came with."""
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="127.0.0.1")
    return client.login(request=request, username=username, password=password)


def make_unit(name: str, code: str, parent: Organization | None = None) -> Organization:
    unit = Organization.objects.create(name=name, code=code, parent=parent)
    response_groups_create_default(organization=unit)
    plan_create_default(organization=unit)
    return unit


def make_user(
    username: str, unit: Organization, *group_kinds: str, position: str = "member", unit_admin: bool = False
) -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, first_name=username.title())
    Membership.objects.create(user=user, organization=unit, is_unit_admin=unit_admin)
    for kind in group_kinds:
        group = ResponseGroup.objects.get(organization=unit, kind=kind)
        GroupMember.objects.create(group=group, user=user, position=position)
    return user


class BaseTestCase(TestCase):
    superior: Organization
    unit: Organization
    other_unit: Organization
    alice: Any
    bob: Any
    ann: Any
    hank: Any
    sara: Any
    olga: Any
    lee: Any
    nina: Any
    uma: Any
    charlie: Any
    carl: Any
    sam: Any
    plan: Any
    level1: Any
    level2: Any
    level3: Any
    inquiry: Any

    @classmethod
    def setUpTestData(cls) -> None:
        cls.superior = make_unit("示范市教育局", "city")
        cls.unit = make_unit("示范区教育局", "district", parent=cls.superior)
        cls.other_unit = make_unit("邻区教育局", "other", parent=cls.superior)
        cls.alice = make_user("alice", cls.unit, "leadership", position="head")
        cls.bob = make_user("bob", cls.unit, "monitoring")
        cls.ann = make_user("ann", cls.unit, "analysis")
        cls.hank = make_user("hank", cls.unit, "handling")
        cls.sara = make_user("sara", cls.unit, "publicity")
        cls.olga = make_user("olga", cls.unit, "office")
        cls.lee = make_user("lee", cls.unit, "legal")
        cls.nina = make_user("nina", cls.unit)
        cls.uma = make_user("uma", cls.unit, unit_admin=True)
        cls.charlie = make_user("charlie", cls.other_unit, "leadership")
        cls.carl = make_user("carl", cls.other_unit, unit_admin=True)
        cls.sam = make_user("sam", cls.superior, "leadership")
        cls.plan = cls.unit.plans.get(status="active")
        cls.level1, cls.level2, cls.level3 = list(cls.plan.levels.order_by("rank"))
        cls.inquiry = cls.plan.categories.get(code="inquiry")

    def log_incident(self, user: Any = None, minutes_ago: int = 5, **kwargs: Any) -> Incident:
        from incidents.services.incidents import incident_create

        kwargs.setdefault("title", "网传某校食堂饭菜质量问题")
        return incident_create(
            actor=user or self.bob, discovered_at=timezone.now() - timedelta(minutes=minutes_ago), **kwargs
        )

    def waive_all(self, incident: Incident, reason: str = "已电话报告，补录") -> dict[int, dict[str, str]]:
        """How a leader settles every clock still counting when moving on to 总结 (incident_start_review)."""
        from incidents.models import Deadline

        clocks = Deadline.objects.filter(incident_id=incident.pk, status__in=Deadline.OPEN)
        return {clock.pk: {"resolution": "waive", "reason": reason} for clock in clocks}

    def fresh(self, user: Any) -> Any:
        """The same user without cached roles, as a new request would see it."""
        return get_user_model().objects.get(pk=user.pk)


def aware(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware datetime."""
    return timezone.make_aware(datetime(year, month, day, hour, minute))


def run_together(first: Callable[[], Any], second: Callable[[], Any], delay: float = 0.15) -> list[Any]:
    """Two real database sessions: start `first`, then `second` while `first` still holds its locks
    (each in a thread of its own, with its own connection); return their results or exceptions."""
    results: list[Any] = [None, None]

    def run(index: int, call: Callable[[], Any], wait: float) -> None:
        time.sleep(wait)
        try:
            results[index] = call()
        except Exception as exc:  # the test looks at what each session got
            results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, first, 0.0)),
        threading.Thread(target=run, args=(1, second, delay)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results
