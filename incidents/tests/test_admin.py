"""The admin: plans frozen once active, unit admins confined to their unit, incidents read-only."""

from incidents.models import EmergencyPlan
from incidents.services.plans import plan_create_revision
from opinion_ops.testing import BaseTestCase
from organizations.models import Membership


class AdminTests(BaseTestCase):
    def setUp(self) -> None:
        Membership.objects.filter(user=self.olga).update(is_unit_admin=True)
        self.olga.is_staff = True
        self.olga.save()
        for perm in ("view", "change", "add"):
            for model in ("emergencyplan", "incident", "responsegroup", "warninglevel", "deadlinerule"):
                from django.contrib.auth.models import Permission

                self.olga.user_permissions.add(Permission.objects.get(codename=f"{perm}_{model}"))
        self.client.force_login(self.olga)

    def test_an_active_plan_is_read_only(self) -> None:
        response = self.client.get(f"/admin/incidents/emergencyplan/{self.plan.pk}/change/")
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, 'name="title"')
        response = self.client.post(f"/admin/incidents/emergencyplan/{self.plan.pk}/change/", {"title": "改名"})
        self.assertEqual(EmergencyPlan.objects.get(pk=self.plan.pk).title, self.plan.title)

    def test_a_draft_is_editable(self) -> None:
        draft = plan_create_revision(plan=self.plan)
        response = self.client.get(f"/admin/incidents/emergencyplan/{draft.pk}/change/")
        self.assertContains(response, 'name="title"')

    def test_a_unit_admin_sees_only_their_units_plans(self) -> None:
        response = self.client.get("/admin/incidents/emergencyplan/")
        self.assertContains(response, self.plan.title)
        other = self.other_unit.plans.get(status="active")
        self.assertNotContains(response, other.title)
        response = self.client.get(f"/admin/incidents/emergencyplan/{other.pk}/change/")
        self.assertEqual(response.status_code, 302)  # redirected away: not found in their queryset

    def test_the_admin_action_moves_an_incident_only_through_the_rules(self) -> None:
        incident = self.log_incident()
        response = self.client.post(
            "/admin/incidents/incident/",
            {"action": "start_response", "_selected_action": [incident.pk]},
            follow=True,
        )
        self.assertContains(response, "不能转入处置")
        incident.refresh_from_db()
        self.assertEqual(incident.state, "monitoring")


class OrganizationAdminTests(BaseTestCase):
    def test_a_superuser_sets_up_a_new_unit_with_the_default_plan_and_groups(self) -> None:
        from django.contrib.auth import get_user_model

        from organizations.models import Organization

        root = get_user_model().objects.create_superuser("root", password="x")
        self.client.force_login(root)
        response = self.client.post(
            "/admin/organizations/organization/add/",
            {
                "name": "新设单位",
                "code": "new-unit",
                "parent": self.superior.pk,
                "memberships-TOTAL_FORMS": 0,
                "memberships-INITIAL_FORMS": 0,
            },
        )
        self.assertEqual(response.status_code, 302)
        unit = Organization.objects.get(code="new-unit")
        self.client.post(
            "/admin/organizations/organization/", {"action": "set_up_default_plan", "_selected_action": [unit.pk]}
        )
        self.assertEqual(unit.plans.get().status, "active")
        self.assertEqual(unit.response_groups.count(), 8)

    def test_a_unit_cannot_be_its_own_superior(self) -> None:
        from django.contrib.auth import get_user_model

        root = get_user_model().objects.create_superuser("root", password="x")
        self.client.force_login(root)
        response = self.client.post(
            f"/admin/organizations/organization/{self.superior.pk}/change/",
            {
                "name": self.superior.name,
                "code": self.superior.code,
                "parent": self.unit.pk,
                "memberships-TOTAL_FORMS": 0,
                "memberships-INITIAL_FORMS": 0,
            },
        )
        self.assertContains(response, "上级主管部门不能是本单位或其下级单位")
