"""单位设置 → 人员 shows whose account is locked and who has an authenticator bound; the unit's
administrator lifts a lockout or resets a lost authenticator there; other units reach neither."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.testing import authenticator_bind
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in
from organizations.models import AuditEntry, Membership


class MemberSecurityTests(BaseTestCase):
    def lock_out(self, username: str) -> None:
        for _attempt in range(5):
            self.assertFalse(sign_in(self.client, username, "wrong password"))
        self.assertFalse(sign_in(self.client, username, PASSWORD))

    def test_an_administrator_sees_a_lockout_and_lifts_it(self) -> None:
        self.lock_out("bob")
        self.client.force_login(self.uma)
        self.assertContains(self.client.get(reverse("unit:members")), "已锁定")
        bob = Membership.objects.get(user=self.bob)
        response = self.client.post(reverse("unit_security:unlock", args=[bob.pk]), follow=True)
        self.assertContains(response, "已解除 bob 的登录锁定")
        self.assertEqual(AuditEntry.objects.get(action="security.unlock").actor_id, self.uma.pk)
        self.client.logout()
        self.assertTrue(sign_in(self.client, "bob", PASSWORD))

    def test_an_administrator_resets_a_lost_authenticator(self) -> None:
        authenticator_bind(self.alice)
        self.client.force_login(self.uma)
        alice = Membership.objects.get(user=self.alice)
        self.assertContains(self.client.get(reverse("unit:member", args=[alice.pk])), "已绑定身份验证器")
        self.client.post(reverse("unit_security:reset_two_factor", args=[alice.pk]))
        self.assertFalse(TOTPDevice.objects.filter(user=self.alice).exists())
        self.assertTrue(AuditEntry.objects.filter(action="security.2fa_reset", organization=self.unit).exists())

    def test_another_units_administrator_reaches_neither(self) -> None:
        self.lock_out("bob")
        authenticator_bind(self.alice)
        self.client.force_login(self.carl)
        for name, user in [("unit_security:unlock", self.bob), ("unit_security:reset_two_factor", self.alice)]:
            membership = Membership.objects.get(user=user)
            self.assertEqual(self.client.post(reverse(name, args=[membership.pk])).status_code, 404)
        self.assertTrue(TOTPDevice.objects.filter(user=self.alice).exists())
        self.client.logout()
        self.assertFalse(sign_in(self.client, "bob", PASSWORD))
        self.assertFalse(get_user_model().objects.get(pk=self.bob.pk).last_login)
