"""单位设置: a unit's administrators manage its people and working groups in the product, every
change lands in the audit trail that the unit's leaders can read, and nothing reaches another unit."""

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse

from opinion_ops.errors import DomainError, NotPermitted
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in
from organizations import services
from organizations.models import AuditEntry, GroupMember, Membership, ResponseGroup
from organizations.roles import Role, user_roles


class UnitSettingsTestCase(BaseTestCase):
    def group(self, kind: str, unit: Any = None) -> ResponseGroup:
        return ResponseGroup.objects.get(organization=unit or self.unit, kind=kind)

    def membership(self, user: Any) -> Membership:
        return Membership.objects.get(user=user)


class AccessTests(UnitSettingsTestCase):
    def test_it_opens_for_the_units_administrator_only(self) -> None:
        self.client.force_login(self.uma)
        self.assertRedirects(self.client.get(reverse("unit:index")), reverse("unit:members"))
        for name in ["unit:members", "unit:groups", "unit:audit"]:
            self.assertEqual(self.client.get(reverse(name)).status_code, 200, name)
        self.client.force_login(self.bob)
        for name in ["unit:index", "unit:members", "unit:groups", "unit:audit"]:
            self.assertEqual(self.client.get(reverse(name)).status_code, 403, name)

    def test_leaders_read_the_audit_trail_but_change_nothing(self) -> None:
        self.client.force_login(self.alice)
        self.assertRedirects(self.client.get(reverse("unit:index")), reverse("unit:audit"))
        self.assertEqual(self.client.get(reverse("unit:members")).status_code, 403)
        response = self.client.post(reverse("unit:groups"), {"name": "新组", "kind": "support"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(ResponseGroup.objects.filter(name="新组").exists())

    def test_another_units_rows_are_not_found(self) -> None:
        self.client.force_login(self.carl)
        theirs_member = self.membership(self.bob)
        theirs_group = self.group("monitoring")
        for url in [
            reverse("unit:member", args=[theirs_member.pk]),
            reverse("unit:group", args=[theirs_group.pk]),
        ]:
            self.assertEqual(self.client.get(url).status_code, 404, url)
        posts = [
            (reverse("unit:member", args=[theirs_member.pk]), {"edit-full_name": "X", "edit-is_active": "on"}),
            (reverse("unit:member_password", args=[theirs_member.pk]), {"password-password": "Zq9!long-enough"}),
            (reverse("unit:group", args=[theirs_group.pk]), {"group-name": "X", "group-kind": "support"}),
            (reverse("unit:group_member_set", args=[theirs_group.pk]), {"member-user": self.carl.pk}),
            (reverse("unit:group_member_remove", args=[theirs_group.pk, self.bob.pk]), {}),
            (reverse("unit:group_delete", args=[theirs_group.pk]), {}),
        ]
        for url, data in posts:
            self.assertEqual(self.client.post(url, data).status_code, 404, url)
        self.assertTrue(GroupMember.objects.filter(group=theirs_group, user=self.bob).exists())
        self.assertEqual(self.fresh(self.bob).first_name, "Bob")
        self.assertFalse(AuditEntry.objects.exists())

    def test_the_audit_trail_shows_only_the_units_own_entries(self) -> None:
        services.group_create(actor=self.carl, name="邻区专班", kind="support")
        services.group_create(actor=self.uma, name="本区专班", kind="support")
        self.client.force_login(self.alice)
        page = self.client.get(reverse("unit:audit"))
        self.assertContains(page, "本区专班")
        self.assertNotContains(page, "邻区专班")


class MemberTests(UnitSettingsTestCase):
    def test_an_administrator_opens_an_account_in_their_own_unit(self) -> None:
        sign_in(self.client, "uma", PASSWORD)
        response = self.client.post(
            reverse("unit:members"),
            {"username": "zhang", "full_name": "张伟", "password": "Quiet-river-42", "phone": "010-1234"},
        )
        membership = Membership.objects.get(user__username="zhang")
        self.assertRedirects(response, reverse("unit:member", args=[membership.pk]))
        self.assertEqual(membership.organization_id, self.unit.pk)
        entry = AuditEntry.objects.get(action="member.create")
        self.assertEqual((entry.actor_id, entry.organization_id), (self.uma.pk, self.unit.pk))
        self.assertNotIn("Quiet-river-42", str(entry.after))
        self.assertTrue(sign_in(self.client, "zhang", "Quiet-river-42"))

    def test_bad_input_is_named_next_to_the_field_and_nothing_is_saved(self) -> None:
        self.client.force_login(self.uma)
        cases = [
            ({"username": "bob", "full_name": "重名", "password": "Quiet-river-42"}, "该用户名已被使用"),
            ({"username": "new one", "full_name": "空格", "password": "Quiet-river-42"}, "用户名只能包含"),
            ({"username": "weak", "full_name": "弱密码", "password": "12345678"}, "密码"),
            ({"username": "mail", "full_name": "邮箱", "password": "Quiet-river-42", "email": "x@"}, "电子邮件"),
        ]
        for data, message in cases:
            with self.subTest(data=data):
                response = self.client.post(reverse("unit:members"), data)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, message, status_code=400)
                self.assertContains(response, data["full_name"], status_code=400)  # what was typed is kept
        self.assertFalse(get_user_model().objects.filter(username__in=["new one", "weak", "mail"]).exists())
        self.assertFalse(AuditEntry.objects.exists())

    def test_changes_are_audited_with_before_and_after(self) -> None:
        membership = self.membership(self.bob)
        services.member_update(actor=self.uma, membership_id=membership.pk, phone="139", is_unit_admin=True)
        entry = AuditEntry.objects.get(action="member.update")
        self.assertEqual(entry.before["phone"], "")
        self.assertEqual(entry.after["phone"], "139")
        self.assertEqual((entry.before["is_unit_admin"], entry.after["is_unit_admin"]), (False, True))
        services.member_update(actor=self.uma, membership_id=membership.pk, phone="139")  # no change: no entry
        self.assertEqual(AuditEntry.objects.count(), 1)

    def test_the_unit_keeps_an_active_administrator(self) -> None:
        mine = self.membership(self.uma)
        with self.assertRaisesMessage(DomainError, "至少须保留一名在用的管理员"):
            services.member_update(actor=self.uma, membership_id=mine.pk, is_unit_admin=False)
        with self.assertRaisesMessage(DomainError, "不能停用自己的账号"):
            services.member_update(actor=self.uma, membership_id=mine.pk, is_active=False)
        services.member_update(actor=self.uma, membership_id=self.membership(self.olga).pk, is_unit_admin=True)
        services.member_update(actor=self.uma, membership_id=mine.pk, is_unit_admin=False)
        self.assertFalse(self.membership(self.uma).is_unit_admin)

    def test_a_deactivated_member_cannot_sign_in_and_keeps_their_record(self) -> None:
        incident = self.log_incident(self.bob)
        services.member_update(actor=self.uma, membership_id=self.membership(self.bob).pk, is_active=False)
        self.assertFalse(sign_in(self.client, "bob", PASSWORD))
        self.assertEqual(incident.reporter_id, self.bob.pk)

    def test_a_password_reset_is_audited_without_the_password(self) -> None:
        self.client.force_login(self.uma)
        pk = self.membership(self.bob).pk
        response = self.client.post(reverse("unit:member_password", args=[pk]), {"password-password": "short"})
        self.assertEqual(response.status_code, 400)
        response = self.client.post(
            reverse("unit:member_password", args=[pk]), {"password-password": "Tea-garden-2026"}
        )
        self.assertRedirects(response, reverse("unit:member", args=[pk]))
        entry = AuditEntry.objects.get(action="member.password")
        self.assertIsNone(entry.after)
        self.assertTrue(sign_in(self.client, "bob", "Tea-garden-2026"))

    def test_non_administrators_are_refused_by_the_service_too(self) -> None:
        with self.assertRaises(NotPermitted):
            services.member_create(actor=self.alice, username="x", full_name="X", password="Quiet-river-42")
        with self.assertRaisesMessage(DomainError, "人员不存在") as caught:  # another unit's: as if not there
            services.member_update(actor=self.carl, membership_id=self.membership(self.bob).pk, phone="1")
        self.assertEqual(caught.exception.code, "not_found")


class GroupTests(UnitSettingsTestCase):
    def test_an_administrator_puts_a_member_into_a_group_with_a_position(self) -> None:
        self.client.force_login(self.uma)
        handling = self.group("handling")
        url = reverse("unit:group_member_set", args=[handling.pk])
        response = self.client.post(url, {"member-user": self.nina.pk, "member-position": "deputy"})
        self.assertRedirects(response, reverse("unit:group", args=[handling.pk]))
        member = GroupMember.objects.get(group=handling, user=self.nina)
        self.assertEqual(member.position, "deputy")
        self.assertEqual(user_roles(self.fresh(self.nina)), {Role.HANDLER})
        entry = AuditEntry.objects.get(action="group.member_set")
        self.assertIn("Nina", entry.summary)

    def test_a_person_of_another_unit_cannot_be_put_into_a_group(self) -> None:
        """Before, an administrator could move a person of another unit into theirs through the admin."""
        with self.assertRaisesMessage(DomainError, "只能把本单位的人员加入工作组"):
            services.group_member_set(
                actor=self.uma, group_id=self.group("handling").pk, user_id=self.charlie.pk, position="member"
            )
        self.assertEqual(self.membership(self.charlie).organization_id, self.other_unit.pk)
        self.assertFalse(GroupMember.objects.filter(user=self.charlie, group__organization=self.unit).exists())

    def test_a_group_in_use_cannot_be_deleted(self) -> None:
        self.client.force_login(self.uma)
        monitoring = self.group("monitoring")
        response = self.client.post(reverse("unit:group_delete", args=[monitoring.pk]), follow=True)
        self.assertContains(response, "请先移出该工作组的全部成员")
        self.assertTrue(ResponseGroup.objects.filter(pk=monitoring.pk).exists())
        empty = services.group_create(actor=self.uma, name="临时专班", kind="support")
        response = self.client.post(reverse("unit:group_delete", args=[empty.pk]))
        self.assertRedirects(response, reverse("unit:groups"))
        self.assertEqual(
            list(AuditEntry.objects.order_by("id").values_list("action", flat=True)), ["group.create", "group.delete"]
        )

    def test_group_names_are_unique_within_the_unit(self) -> None:
        self.client.force_login(self.uma)
        response = self.client.post(reverse("unit:groups"), {"name": self.group("monitoring").name, "kind": "support"})
        self.assertContains(response, "本单位已有同名工作组", status_code=400)
        services.group_create(actor=self.carl, name="本区专班", kind="support")  # another unit may use any name
        services.group_create(actor=self.uma, name="本区专班", kind="support")


class RefusalTests(UnitSettingsTestCase):
    def test_a_refusal_from_the_service_is_the_403_page_not_a_server_error(self) -> None:
        from unittest import mock

        self.client.force_login(self.uma)
        with mock.patch.object(services, "group_create", side_effect=NotPermitted("只有本单位管理员可以管理工作组。")):
            response = self.client.post(reverse("unit:groups"), {"name": "新组", "kind": "support"})
        self.assertContains(response, "只有本单位管理员可以管理工作组", status_code=403)


class ForgedPostTests(UnitSettingsTestCase):
    def test_a_forged_form_post_is_refused_and_saves_nothing(self) -> None:
        """A page on another site making the administrator's browser post (no CSRF token)."""
        from django.test import Client

        browser = Client(enforce_csrf_checks=True)
        browser.force_login(self.uma)
        data = {"username": "planted", "full_name": "x", "password": "Quiet-river-42", "is_unit_admin": "on"}
        self.assertEqual(browser.post(reverse("unit:members"), data).status_code, 403)
        self.assertFalse(Membership.objects.filter(user__username="planted").exists())
        page = browser.get(reverse("unit:members"))
        token = page.cookies["csrftoken"].value
        response = browser.post(reverse("unit:members"), {**data, "csrfmiddlewaretoken": token})
        self.assertEqual(response.status_code, 302)  # the page's own form goes through
