"""Two-factor sign-in: binding an authenticator, verifying, recovery codes, who must use it, the
API, and what a person or an administrator may change."""

import re
from datetime import timedelta
from typing import Any

import time_machine
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import services
from accounts.testing import authenticator_bind, code_for, sign_in_verified
from accounts.views import SESSION_PENDING_KEY
from integrations.testing import ApiTestCase
from opinion_ops.errors import NotPermitted
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in
from organizations.models import AuditEntry, Membership

VERIFY = reverse("second_factor_verify")
ENROL = reverse("second_factor_enrol")


class TwoFactorTestCase(BaseTestCase):
    """Runs on a stopped clock that the test moves: an authenticator's code changes every 30 s."""

    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(timezone.now(), tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)

    def later(self, seconds: int = 30) -> None:
        self.clock.shift(timedelta(seconds=seconds))

    def assertRedirectsTo(self, response: Any, name: str, next_url: str | None = None) -> None:
        self.assertEqual(response.status_code, 302, response.content[:300])
        expected = reverse(name)
        self.assertTrue(response["Location"].startswith(expected), response["Location"])
        if next_url is not None:
            self.assertIn(f"next={next_url.replace('/', '%2F')}", response["Location"])


@override_settings(TWO_FACTOR_REQUIRED=True)
class EnrolmentTests(TwoFactorTestCase):
    def test_it_binds_an_authenticator_with_its_first_code_and_shows_ten_recovery_codes_once(self) -> None:
        self.assertTrue(sign_in(self.client, "alice"))
        self.assertRedirectsTo(self.client.get("/incidents/"), "second_factor_enrol", "/incidents/")
        page = self.client.get(ENROL + "?next=/incidents/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, 'src="data:image/svg+xml;base64,')
        key = self.client.session[SESSION_PENDING_KEY]
        self.assertContains(page, services.authenticator_secret_display(key))
        html = page.content.decode()
        self.assertNotRegex(html, r"(?i)<style|\sstyle=|\son[a-z]+=|<script(?![^>]*\ssrc=)")
        self.assertIn("script-src 'self'", page["Content-Security-Policy"])

        wrong = self.client.post(ENROL, {"code": "000000" if code_for(key) != "000000" else "111111"})
        self.assertContains(wrong, "验证码不正确", status_code=400)
        self.assertFalse(TOTPDevice.objects.filter(user=self.alice).exists())

        done = self.client.post(ENROL, {"code": code_for(key), "next": "/incidents/"})
        self.assertRedirectsTo(done, "recovery_codes", "/incidents/")
        device = TOTPDevice.objects.get(user=self.alice)
        self.assertTrue(device.confirmed)
        self.assertNotIn(SESSION_PENDING_KEY, self.client.session)
        shown = self.client.get(done["Location"])
        codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", shown.content.decode())
        self.assertEqual(len(codes), 10)
        self.assertEqual(
            {code.replace("-", "") for code in codes},
            set(StaticToken.objects.filter(device__user=self.alice).values_list("token", flat=True)),
        )
        self.assertIn("no-store", shown["Cache-Control"])
        self.assertRedirects(self.client.get(reverse("recovery_codes")), reverse("account_security"))
        self.assertEqual(self.client.get("/incidents/").status_code, 200)  # verified by binding
        entry = AuditEntry.objects.get(action="security.2fa_enrol")
        self.assertEqual((entry.actor, entry.organization), (self.alice, self.unit))

    def test_bad_codes_never_save_anything_half_way(self) -> None:
        self.assertTrue(sign_in(self.client, "alice"))
        self.client.get(ENROL)
        for code in ["", "12345", "1234567", "abcdef", "１２３４５６" * 3, "x" * 500]:
            with self.subTest(code=code):
                response = self.client.post(ENROL, {"code": code})
                self.assertEqual(response.status_code, 400)
        self.assertFalse(TOTPDevice.objects.exists())
        self.assertFalse(StaticDevice.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action__startswith="security.").exists())

    def test_replacing_an_authenticator_needs_a_fresh_second_factor(self) -> None:
        old, _codes = authenticator_bind(self.alice)
        self.later()
        self.assertEqual(sign_in_verified(self.client, self.alice, old).status_code, 302)
        self.later(16 * 60)
        self.assertRedirectsTo(self.client.get(ENROL), "second_factor_verify", ENROL)
        self.client.post(VERIFY, {"code": code_for(old)})
        self.assertEqual(self.client.get(ENROL).status_code, 200)
        key = self.client.session[SESSION_PENDING_KEY]
        self.client.post(ENROL, {"code": code_for(key)})
        self.assertEqual(list(TOTPDevice.objects.filter(user=self.alice).values_list("key", flat=True)), [key])
        self.assertTrue(AuditEntry.objects.filter(action="security.2fa_replace").exists())


@override_settings(TWO_FACTOR_REQUIRED=True)
class VerifyTests(TwoFactorTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device, self.codes = authenticator_bind(self.alice)
        self.enrolment_code = code_for(self.device)

    def test_a_replayed_code_is_refused_with_a_clear_message(self) -> None:
        self.assertTrue(sign_in(self.client, "alice"))
        replayed = self.client.post(VERIFY, {"code": self.enrolment_code, "next": "/incidents/"})
        self.assertContains(replayed, "该动态验证码已经使用过", status_code=400)
        self.assertRedirectsTo(self.client.get("/incidents/"), "second_factor_verify")
        self.later()  # the next code, and past django-otp's back-off after a failure
        response = self.client.post(VERIFY, {"code": code_for(self.device), "next": "/incidents/"})
        self.assertRedirects(response, "/incidents/")
        self.assertEqual(self.client.get("/incidents/").status_code, 200)

    def test_a_code_used_to_sign_in_cannot_be_used_again_in_another_session(self) -> None:
        self.later()
        code = code_for(self.device)
        self.assertEqual(sign_in_verified(self.client, self.alice, self.device).status_code, 302)
        other = self.client_class()
        self.assertTrue(sign_in(other, "alice"))
        self.later(2)
        self.assertContains(other.post(VERIFY, {"code": code}), "已经使用过", status_code=400)

    def test_a_recovery_code_works_once_only(self) -> None:
        self.assertTrue(sign_in(self.client, "alice"))
        code = services.recovery_code_display(self.codes[0]).upper()  # as read out: ABCD-EFGH
        response = self.client.post(VERIFY, {"code": code, "next": "/incidents/"}, follow=True)
        self.assertRedirects(response, "/incidents/")
        self.assertContains(response, "还剩 9 个")
        self.client.logout()
        self.assertTrue(sign_in(self.client, "alice"))
        self.assertContains(self.client.post(VERIFY, {"code": code}), "恢复码不正确或已使用过", status_code=400)
        self.assertRedirectsTo(self.client.get("/incidents/"), "second_factor_verify")

    def test_failures_slow_down_further_attempts(self) -> None:
        self.assertTrue(sign_in(self.client, "alice"))
        self.later()
        wrong = "000000" if code_for(self.device) != "000000" else "111111"
        self.assertContains(self.client.post(VERIFY, {"code": wrong}), "验证码不正确", status_code=400)
        self.assertContains(
            self.client.post(VERIFY, {"code": code_for(self.device)}), "验证失败次数过多", status_code=400
        )
        self.later(2)
        self.assertEqual(self.client.post(VERIFY, {"code": code_for(self.device)}).status_code, 302)

    def test_bad_input_is_answered_with_the_form_never_a_500(self) -> None:
        self.assertTrue(sign_in(self.client, "alice"))
        for code in ["", " ", "１２３４５６", "12 34 56 78 90", "<script>", "x" * 40, "\x00"]:
            with self.subTest(code=code):
                self.later(3)
                self.assertEqual(self.client.post(VERIFY, {"code": code}).status_code, 400)
        self.later(120)  # past the back-off after seven failures
        response = self.client.post(VERIFY, {"code": code_for(self.device), "next": "https://evil.example/"})
        self.assertEqual(response["Location"], "/")  # never off this site


@override_settings(TWO_FACTOR_REQUIRED=True)
class EnforcementTests(TwoFactorTestCase):
    def test_required_roles_are_sent_to_verify_until_they_do(self) -> None:
        device, _codes = authenticator_bind(self.alice)
        self.later()
        self.assertTrue(sign_in(self.client, "alice"))
        for path in ["/", "/incidents/", reverse("account_security"), "/notifications/", "/admin/"]:
            with self.subTest(path=path):
                self.assertRedirectsTo(self.client.get(path), "second_factor_verify", path)
        htmx = self.client.get("/incidents/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/")
        self.assertTrue(htmx["HX-Redirect"].startswith(VERIFY))
        # What stays open: signing in and out, the two-factor pages, the language switch, /healthz.
        self.assertEqual(self.client.get(reverse("login")).status_code, 200)
        self.assertEqual(self.client.get(VERIFY).status_code, 200)
        self.assertNotIn(VERIFY, self.client.post(reverse("set_language"), {"language": "zh-hans"})["Location"])
        self.assertIn(self.client.get("/healthz").status_code, (200, 503))
        self.assertRedirects(self.client.post(VERIFY, {"code": code_for(device), "next": "/incidents/"}), "/incidents/")
        self.assertEqual(self.client.get("/").status_code, 200)

    def test_unit_administrators_and_superusers_must_bind_an_authenticator(self) -> None:
        Membership.objects.filter(user=self.olga).update(is_unit_admin=True)
        get_user_model().objects.create_superuser("root", password=PASSWORD)
        for username in ("olga", "root", "alice"):
            with self.subTest(username=username):
                self.client.logout()
                self.assertTrue(sign_in(self.client, username))
                self.assertRedirectsTo(self.client.get("/"), "second_factor_enrol", "/")

    def test_the_login_page_goes_straight_on_to_the_second_factor(self) -> None:
        response = self.client.post(
            reverse("login"), {"username": "alice", "password": PASSWORD, "next": "/incidents/"}
        )
        self.assertRedirectsTo(response, "second_factor_enrol", "/incidents/")
        authenticator_bind(self.sam)
        self.client.logout()
        response = self.client.post(reverse("login"), {"username": "sam", "password": PASSWORD})
        self.assertRedirectsTo(response, "second_factor_verify", "/")

    def test_optional_users_are_not_asked(self) -> None:
        for user in (self.bob, self.sara, self.nina):
            with self.subTest(user=user.username):
                self.client.logout()
                self.assertTrue(sign_in(self.client, user.username))
                self.assertEqual(self.client.get("/incidents/").status_code, 200)

    @override_settings(TWO_FACTOR_REQUIRED=False)
    def test_nobody_is_made_to_bind_one_when_two_factor_is_not_required(self) -> None:
        self.assertTrue(sign_in(self.client, "alice"))
        self.assertEqual(self.client.get("/incidents/").status_code, 200)

    def test_an_optional_user_who_bound_an_authenticator_is_asked_for_it(self) -> None:
        device, _codes = authenticator_bind(self.bob)
        self.later()
        self.assertTrue(sign_in(self.client, "bob"))
        self.assertRedirectsTo(self.client.get("/incidents/"), "second_factor_verify", "/incidents/")
        self.client.post(VERIFY, {"code": code_for(device)})
        self.assertEqual(self.client.get("/incidents/").status_code, 200)

    def test_the_admin_login_goes_through_the_same_sign_in(self) -> None:
        response = self.client.get("/admin/login/?next=/admin/")
        self.assertRedirects(response, reverse("login") + "?next=%2Fadmin%2F", fetch_redirect_response=False)


@override_settings(TWO_FACTOR_REQUIRED=True)
class ApiEnforcementTests(ApiTestCase):
    def test_a_session_call_without_the_second_factor_gets_a_403_in_the_api_shape(self) -> None:
        client = APIClient()
        self.assertTrue(sign_in(client, "alice"))
        error = self.assertError(client.get("/api/v1/incidents/"), 403, "second_factor_required")
        self.assertIn("两步验证", error["message"])
        bob = APIClient()
        self.assertTrue(sign_in(bob, "bob"))
        self.assertEqual(bob.get("/api/v1/incidents/").status_code, 200)

    def test_a_call_with_an_api_token_is_not_stopped_by_the_middleware(self) -> None:
        self.assertEqual(self.client_for(self.alice, scope="read").get("/api/v1/incidents/").status_code, 200)
        # Even from a browser whose session still owes the second factor: the token decides.
        _token, raw = self.token(self.alice, scope="read")
        client = APIClient()
        self.assertTrue(sign_in(client, "alice"))
        self.assertEqual(client.get("/api/v1/incidents/").status_code, 403)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        self.assertEqual(client.get("/api/v1/incidents/").status_code, 200)


class SecurityPageTests(TwoFactorTestCase):
    def test_it_shows_what_protects_the_account_and_when_it_was_last_verified(self) -> None:
        device, _codes = authenticator_bind(self.bob)
        self.later()
        sign_in_verified(self.client, self.bob, device)
        page = self.client.get(reverse("account_security"))
        self.assertContains(page, "已启用")
        self.assertContains(page, "本次登录最近一次验证")
        self.assertContains(page, "剩余恢复码")
        self.assertContains(page, reverse("second_factor_remove"))

    def test_a_member_switches_off_an_optional_second_factor_with_a_fresh_one(self) -> None:
        device, _codes = authenticator_bind(self.bob)
        self.later()
        sign_in_verified(self.client, self.bob, device)
        self.later(16 * 60)
        stale = self.client.post(reverse("second_factor_remove"), HTTP_REFERER="http://testserver/accounts/security/")
        self.assertRedirectsTo(stale, "second_factor_verify", reverse("account_security"))
        self.assertTrue(TOTPDevice.objects.filter(user=self.bob).exists())
        self.client.post(VERIFY, {"code": code_for(device)})
        self.client.post(reverse("second_factor_remove"))
        self.assertFalse(TOTPDevice.objects.filter(user=self.bob).exists())
        self.assertFalse(StaticDevice.objects.filter(user=self.bob).exists())
        self.assertTrue(AuditEntry.objects.filter(action="security.2fa_remove", actor=self.bob).exists())
        self.assertEqual(self.client.get("/incidents/").status_code, 200)

    @override_settings(TWO_FACTOR_REQUIRED=True)
    def test_a_leader_cannot_switch_it_off(self) -> None:
        device, _codes = authenticator_bind(self.alice)
        self.later()
        sign_in_verified(self.client, self.alice, device)
        page = self.client.get(reverse("account_security"))
        self.assertNotContains(page, reverse("second_factor_remove"))
        response = self.client.post(reverse("second_factor_remove"), follow=True)
        self.assertContains(response, "不能关闭")
        self.assertTrue(TOTPDevice.objects.filter(user=self.alice).exists())

    def test_new_recovery_codes_void_the_old_ones(self) -> None:
        device, old_codes = authenticator_bind(self.bob)
        self.later()
        sign_in_verified(self.client, self.bob, device)
        response = self.client.post(reverse("recovery_codes"), follow=True)
        new_codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", response.content.decode())
        self.assertEqual(len(new_codes), 10)
        tokens = set(StaticToken.objects.filter(device__user=self.bob).values_list("token", flat=True))
        self.assertEqual(tokens, {code.replace("-", "") for code in new_codes})
        self.assertFalse(tokens & set(old_codes))
        self.assertTrue(AuditEntry.objects.filter(action="security.recovery_codes_regenerate").exists())


@override_settings(TWO_FACTOR_REQUIRED=True)
class AdministratorResetTests(TwoFactorTestCase):
    def test_an_administrator_resets_a_members_lost_authenticator(self) -> None:
        Membership.objects.filter(user=self.olga).update(is_unit_admin=True)
        authenticator_bind(self.alice)
        services.second_factor_reset(actor=self.fresh(self.olga), user=self.alice)
        self.assertFalse(TOTPDevice.objects.filter(user=self.alice).exists())
        self.assertFalse(StaticDevice.objects.filter(user=self.alice).exists())
        entry = AuditEntry.objects.get(action="security.2fa_reset")
        self.assertEqual((entry.actor, entry.organization, entry.after["username"]), (self.olga, self.unit, "alice"))
        self.assertTrue(sign_in(self.client, "alice"))
        self.assertRedirectsTo(self.client.get("/"), "second_factor_enrol", "/")

    def test_a_session_verified_with_the_removed_authenticator_is_no_longer_verified(self) -> None:
        device, _codes = authenticator_bind(self.alice)
        self.later()
        sign_in_verified(self.client, self.alice, device)
        self.assertEqual(self.client.get("/").status_code, 200)
        services.second_factor_reset(actor=None, user=self.alice)
        self.assertRedirectsTo(self.client.get("/"), "second_factor_enrol", "/")

    def test_only_an_administrator_of_the_members_unit_resets(self) -> None:
        Membership.objects.filter(user=self.charlie).update(is_unit_admin=True)
        authenticator_bind(self.alice)
        for actor in (self.bob, self.charlie):
            with self.subTest(actor=actor.username), self.assertRaises(NotPermitted):
                services.second_factor_reset(actor=self.fresh(actor), user=self.alice)
        self.assertTrue(TOTPDevice.objects.filter(user=self.alice).exists())
        self.assertFalse(AuditEntry.objects.filter(action="security.2fa_reset").exists())
