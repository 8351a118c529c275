"""The admin: plans frozen once active, unit admins confined to their unit, incidents read-only."""

from incidents.models import EmergencyPlan
from incidents.services.plans import plan_create_revision
from opinion_ops.testing import BaseTestCase
from organizations.models import Membership


class AdminTests(BaseTestCase):
    def setUp(self) -> None:
        from django.contrib.auth import get_user_model

        self.root = get_user_model().objects.create_superuser("root", password="x")
        self.client.force_login(self.root)

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

    def test_the_admin_action_moves_an_incident_only_through_the_rules(self) -> None:
        incident = self.log_incident()
        response = self.client.post(
            "/admin/incidents/incident/",
            {"action": "start_response", "_selected_action": [incident.pk]},
            follow=True,
        )
        self.assertContains(response, "只有领导小组、处置组或办公室可以转入处置")  # an operator holds no role
        incident.refresh_from_db()
        self.assertEqual(incident.state, "monitoring")

    def test_an_operators_change_is_written_to_the_units_audit_trail(self) -> None:
        from organizations.models import AuditEntry

        membership = Membership.objects.get(user=self.bob)
        response = self.client.post(
            f"/admin/organizations/membership/{membership.pk}/change/",
            {"user": self.bob.pk, "organization": self.unit.pk, "is_unit_admin": "on", "phone": "123"},
        )
        self.assertEqual(response.status_code, 302, response.content[:2000])
        entry = AuditEntry.objects.get(action="member.admin_update")
        self.assertEqual((entry.organization_id, entry.actor_id), (self.unit.pk, self.root.pk))
        self.assertEqual(entry.before, {"is_unit_admin": False, "phone": ""})
        self.assertEqual(entry.after, {"is_unit_admin": True, "phone": "123"})


class StaffUnitAdminTests(BaseTestCase):
    """The admin is the operators' tool: a unit administrator with the staff flag and every model
    permission still reaches nothing there (before, a unit B administrator could issue a token acting
    as unit A's leader, move people between units, re-point channels and read notifications)."""

    def setUp(self) -> None:
        from django.contrib.auth.models import Permission

        self.carl.is_staff = True
        self.carl.save()
        self.carl.user_permissions.add(*Permission.objects.all())
        self.client.force_login(self.carl)

    def test_it_reaches_no_admin_page(self) -> None:
        from django.contrib import admin

        paths = ["/admin/"]
        for model in admin.site._registry:
            paths.append(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
            paths.append(f"/admin/{model._meta.app_label}/{model._meta.model_name}/add/")
        for path in paths:
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertEqual(response.status_code, 302)
                self.assertIn("/login/", response["Location"])

    def test_it_cannot_issue_a_token_for_another_units_leader(self) -> None:
        from integrations.models import ApiToken

        self.client.post(
            "/admin/integrations/apitoken/add/",
            {"organization": self.unit.pk, "name": "x", "user": self.alice.pk, "scope": "write"},
        )
        self.assertFalse(ApiToken.objects.exists())

    def test_it_cannot_move_a_person_into_another_unit(self) -> None:

        membership = Membership.objects.get(user=self.charlie)
        self.client.post(
            f"/admin/organizations/membership/{membership.pk}/change/",
            {"user": self.charlie.pk, "organization": self.unit.pk, "phone": ""},
        )
        membership.refresh_from_db()
        self.assertEqual(membership.organization_id, self.other_unit.pk)


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
