from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase

from incidents.models import EmergencyPlan
from organizations.models import Organization
from organizations.roles import Role, user_roles


class LoadDemoTests(TestCase):
    def test_it_loads_a_unit_with_its_plan_and_one_login_per_role(self) -> None:
        out = StringIO()
        call_command("load_demo", "--password", "demo-pass-2026", stdout=out)
        unit = Organization.objects.get(code="demo-district")
        self.assertEqual(unit.parent.code, "demo-city")  # type: ignore[union-attr]
        self.assertTrue(EmergencyPlan.objects.filter(organization=unit, status="active").exists())
        expected = {
            "monitor": Role.MONITOR,
            "analyst": Role.ANALYST,
            "handler": Role.HANDLER,
            "spokesperson": Role.SPOKESPERSON,
            "legal": Role.LEGAL,
            "leader": Role.LEADER,
            "office": Role.OFFICE,
        }
        for username, role in expected.items():
            user = get_user_model().objects.get(username=username)
            self.assertTrue(user.check_password("demo-pass-2026"))
            self.assertEqual(user_roles(user), frozenset({role}))
            self.assertIn(username, out.getvalue())
        self.assertTrue(get_user_model().objects.get(username="admin").is_superuser)

    def test_it_can_run_twice_without_duplicating(self) -> None:
        call_command("load_demo", stdout=StringIO())
        call_command("load_demo", stdout=StringIO())
        self.assertEqual(Organization.objects.count(), 2)
        self.assertEqual(EmergencyPlan.objects.count(), 2)
