"""Login protection: lockout per account and per address, the cool-off, unlocking, proxies."""

from datetime import timedelta
from typing import Any

import time_machine
from django.contrib.auth import get_user_model
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.lockout import client_ip_address
from accounts.selectors import usernames_locked
from accounts.services import account_unlock
from opinion_ops.errors import NotPermitted
from opinion_ops.testing import PASSWORD, BaseTestCase
from organizations.models import AuditEntry, Membership

LOCKED = "登录失败次数过多"
WRONG = "用户名或密码不正确"
WRONG_PASSWORD = "wrong password"


@override_settings(LOGIN_FAILURE_LIMIT=5, LOGIN_ADDRESS_FAILURE_LIMIT=8, TRUSTED_PROXY_COUNT=0)
class LockoutTestCase(BaseTestCase):
    def attempt(self, username: str, password: str = WRONG_PASSWORD, address: str = "198.51.100.1", **extra: Any):
        return self.client.post(
            reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
        )

    def assertSignedIn(self, response: Any) -> None:
        self.assertEqual(response.status_code, 302, response.content[:300])
        self.assertIn("_auth_user_id", self.client.session)

    def assertLocked(self, response: Any) -> None:
        self.assertContains(response, LOCKED, status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def lock(self, username: str) -> None:
        """LOGIN_FAILURE_LIMIT wrong passwords, each from another address (the account's lock)."""
        for number in range(4):
            self.assertContains(self.attempt(username, address=f"192.0.2.{number + 1}"), WRONG)
        self.assertLocked(self.attempt(username, address="192.0.2.99"))


class AccountLockoutTests(LockoutTestCase):
    def test_it_locks_an_account_after_n_failures_from_any_address(self) -> None:
        self.lock("alice")
        self.assertLocked(self.attempt("alice", PASSWORD, address="203.0.113.50"))
        self.assertEqual(usernames_locked(["alice", "bob"]), {"alice"})
        # Another account from the same addresses is not affected.
        self.assertSignedIn(self.attempt("bob", PASSWORD, address="192.0.2.1"))

    def test_the_lockout_page_says_in_chinese_how_long_to_wait(self) -> None:
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.lock("alice")
            clock.shift(timedelta(minutes=10))
            response = self.attempt("alice", PASSWORD, address="203.0.113.50")
            self.assertContains(response, "请在 5 分钟后再试", status_code=429)
            self.assertContains(response, "会延长锁定时间", status_code=429)
            clock.shift(timedelta(minutes=5, seconds=1))
            self.assertSignedIn(self.attempt("alice", PASSWORD, address="203.0.113.50"))

    def test_the_lockout_page_does_not_tell_whether_the_account_exists(self) -> None:
        self.lock("alice")
        self.lock("no-such-person")
        real = self.attempt("alice", PASSWORD, address="203.0.113.50")
        made_up = self.attempt("no-such-person", PASSWORD, address="203.0.113.51")
        self.assertEqual(real.status_code, made_up.status_code)

        def main(response: Any) -> str:
            text = response.content.decode()
            return text[text.index("<main") : text.index("</main>")]

        self.assertEqual(main(real), main(made_up))
        self.assertNotIn("alice", main(real))
        self.assertEqual(usernames_locked(["no-such-person"]), {"no-such-person"})

    def test_the_lock_ends_after_the_cool_off(self) -> None:
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.lock("alice")
            clock.shift(timedelta(minutes=14))
            self.assertEqual(usernames_locked(["alice"]), {"alice"})
            clock.shift(timedelta(minutes=1, seconds=1))
            self.assertEqual(usernames_locked(["alice"]), set())
            self.assertSignedIn(self.attempt("alice", PASSWORD, address="192.0.2.99"))

    def test_attempts_while_locked_from_the_same_address_extend_the_wait(self) -> None:
        with time_machine.travel(timezone.now(), tick=False) as clock:
            for _ in range(5):
                self.attempt("alice", address="192.0.2.8")
            clock.shift(timedelta(minutes=10))
            self.assertContains(
                self.attempt("alice", PASSWORD, address="192.0.2.8"), "请在 15 分钟后再试", status_code=429
            )
            clock.shift(timedelta(minutes=6))  # 16 minutes after the lock, 6 after the last attempt
            self.assertLocked(self.attempt("alice", PASSWORD, address="192.0.2.8"))
            clock.shift(timedelta(minutes=15, seconds=1))
            self.assertSignedIn(self.attempt("alice", PASSWORD, address="192.0.2.8"))

    def test_a_success_forgets_the_accounts_failures(self) -> None:
        for number in range(4):
            self.attempt("alice", address=f"192.0.2.{number + 1}")
        self.assertSignedIn(self.attempt("alice", PASSWORD, address="192.0.2.1"))
        self.client.logout()
        for number in range(4):
            self.assertContains(self.attempt("alice", address=f"192.0.2.{number + 1}"), WRONG)
        self.assertSignedIn(self.attempt("alice", PASSWORD, address="192.0.2.1"))

    def test_the_limits_come_from_the_settings(self) -> None:
        with override_settings(LOGIN_FAILURE_LIMIT=2):
            self.assertContains(self.attempt("alice"), WRONG)
            self.assertLocked(self.attempt("alice", address="192.0.2.7"))


class AddressLockoutTests(LockoutTestCase):
    def test_it_locks_an_address_across_accounts_at_its_own_higher_limit(self) -> None:
        address = "203.0.113.9"
        for number in range(7):  # more than an account's limit, less than the address's
            self.assertContains(self.attempt(f"guess{number}", address=address), WRONG)
        # Not locked at 7; and a success here does not forget the address's failures.
        self.assertSignedIn(self.attempt("alice", PASSWORD, address=address))
        self.client.logout()
        self.assertLocked(self.attempt("guess7", address=address))  # the 8th
        self.assertLocked(self.attempt("bob", PASSWORD, address=address))
        self.assertSignedIn(self.attempt("bob", PASSWORD, address="203.0.113.10"))
        self.assertEqual(usernames_locked(["bob", "guess1"]), set())  # an address lock is no account's lock


class UnlockTests(LockoutTestCase):
    def test_an_administrator_of_the_unit_unlocks_an_account(self) -> None:
        Membership.objects.filter(user=self.olga).update(is_unit_admin=True)
        self.lock("alice")
        account_unlock(actor=self.fresh(self.olga), user=self.alice)
        self.assertEqual(usernames_locked(["alice"]), set())
        self.assertSignedIn(self.attempt("alice", PASSWORD, address="192.0.2.99"))
        entry = AuditEntry.objects.get(action="security.unlock")
        self.assertEqual((entry.actor, entry.organization), (self.olga, self.unit))
        self.assertEqual(entry.after["username"], "alice")

    def test_only_an_administrator_of_the_members_unit_or_a_superuser_unlocks(self) -> None:
        Membership.objects.filter(user=self.charlie).update(is_unit_admin=True)
        self.lock("alice")
        for actor in (self.bob, self.alice, self.charlie):
            with self.subTest(actor=actor.username), self.assertRaises(NotPermitted):
                account_unlock(actor=self.fresh(actor), user=self.alice)
        self.assertEqual(usernames_locked(["alice"]), {"alice"})
        self.assertFalse(AuditEntry.objects.filter(action="security.unlock").exists())
        root = get_user_model().objects.create_superuser("root", password=PASSWORD)
        account_unlock(actor=root, user=self.alice)
        self.assertEqual(usernames_locked(["alice"]), set())


class ProxyTests(LockoutTestCase):
    def address(self, remote: str, forwarded: str | None = None) -> str | None:
        extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
        return client_ip_address(RequestFactory().post("/accounts/login/", REMOTE_ADDR=remote, **extra))

    def test_it_ignores_x_forwarded_for_without_proxies(self) -> None:
        self.assertEqual(self.address("198.51.100.4", "1.2.3.4"), "198.51.100.4")

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_it_reads_the_address_the_proxy_saw(self) -> None:
        self.assertEqual(self.address("10.0.0.2", "198.51.100.20"), "198.51.100.20")
        # What the client wrote itself (left of the proxy's entry) is not trusted.
        self.assertEqual(self.address("10.0.0.2", "6.6.6.6, 198.51.100.20"), "198.51.100.20")
        self.assertEqual(self.address("10.0.0.2"), "10.0.0.2")
        self.assertEqual(self.address("10.0.0.2", "not-an-address"), "10.0.0.2")

    @override_settings(TRUSTED_PROXY_COUNT=2)
    def test_it_counts_proxies_from_the_right(self) -> None:
        self.assertEqual(self.address("10.0.0.3", "6.6.6.6, 198.51.100.21, 10.0.0.2"), "198.51.100.21")
        self.assertEqual(self.address("10.0.0.3", "198.51.100.21"), "10.0.0.3")  # skipped a proxy

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_behind_a_proxy_one_client_is_locked_not_everyone(self) -> None:
        for number in range(8):
            self.attempt(f"guess{number}", address="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{number}.1.1.1, 198.51.100.30")
        self.assertLocked(self.attempt("bob", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.30"))
        self.assertSignedIn(self.attempt("bob", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.31"))
