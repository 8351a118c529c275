"""Channels, deliveries with retry and backoff, the notification centre and its admin."""

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from incidents.services.records import task_create
from notifications import channels, services, transports
from notifications.models import Delivery, DeliveryAttempt, Notification, NotificationChannel
from opinion_ops.errors import DomainError
from opinion_ops.testing import PASSWORD, BaseTestCase, aware, sign_in
from organizations.models import ResponseGroup


class Receiver(BaseHTTPRequestHandler):
    keys: list[str] = []
    status = 200

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.keys.append(self.headers.get("X-Idempotency-Key", ""))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class NotificationsTestCase(BaseTestCase):
    def setUp(self) -> None:
        dispatch = mock.patch("notifications.services.deliveries_dispatch")
        self.dispatch = dispatch.start()
        self.addCleanup(dispatch.stop)

    def channel(self, user: Any = None, kind: str = "webhook", target: str = "http://127.0.0.1:9/hook") -> Any:
        return NotificationChannel.objects.create(user=user or self.olga, kind=kind, target=target)

    def send(self, key: str = "k1", **kwargs: Any) -> list[int]:
        kwargs.setdefault("recipients", [self.olga])
        return services.notifications_send(key=key, kind="test", title="标题", body="内容", **kwargs)


class ChannelValidationTests(NotificationsTestCase):
    def check(self, kind: str, target: str, secret: str = "") -> str | None:
        try:
            channels.channel_validate(kind=kind, target=target, secret=secret, user_id=self.olga.pk)
        except ValidationError as exc:
            return next(iter(exc.message_dict))
        return None

    def test_it_accepts_the_official_robot_addresses(self) -> None:
        self.assertIsNone(self.check("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"))
        self.assertIsNone(self.check("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t0k", "SECx"))
        self.assertIsNone(self.check("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/1f2e-3d"))
        self.assertIsNone(self.check("webhook", "https://hooks.example.cn/opinion"))
        self.assertIsNone(self.check("email", "olga@example.cn"))

    def test_it_names_the_field_of_a_bad_address(self) -> None:
        for kind, target in [
            ("webhook", "ftp://example.cn/hook"),
            ("webhook", "javascript:alert(1)"),
            ("webhook", "example.cn/hook"),
            ("wecom", "https://example.cn/cgi-bin/webhook/send?key=abc"),
            ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
            ("feishu", "http://open.feishu.cn/other"),
            ("email", "not-an-address"),
            ("email", ""),
        ]:
            with self.subTest(kind=kind, target=target):
                self.assertEqual(self.check(kind, target), "target")
        self.assertEqual(self.check("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a", "s"), "secret")

    def test_a_channel_belongs_to_a_user_or_a_group_not_both(self) -> None:
        group = ResponseGroup.objects.get(organization=self.unit, kind="office")
        with self.assertRaises(DomainError) as ctx:
            channels.channel_create(kind="webhook", target="https://x.cn/h", user=self.olga, group=group)
        self.assertEqual(ctx.exception.field, "user")
        with self.assertRaises(DomainError) as ctx:
            channels.channel_create(kind="webhook", target="ftp://x.cn/h", user=self.olga)
        self.assertEqual(ctx.exception.field, "target")
        self.assertFalse(NotificationChannel.objects.exists())

    def test_it_turns_pasted_addresses_into_apprise_urls(self) -> None:
        wecom = NotificationChannel(kind="wecom", target="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K1")
        ding = NotificationChannel(kind="dingtalk", target="https://oapi.dingtalk.com/robot/send?access_token=T1")
        ding.secret = "SEC9"
        feishu = NotificationChannel(kind="feishu", target="https://open.feishu.cn/open-apis/bot/v2/hook/abc-1")
        hook = NotificationChannel(kind="webhook", target="https://hooks.example.cn/x?a=1")
        self.assertEqual(transports.apprise_url(wecom, "k"), "wecombot://K1/")
        self.assertEqual(transports.apprise_url(ding, "k"), "dingtalk://SEC9@T1/")
        self.assertEqual(transports.apprise_url(feishu, "k"), "feishu://abc-1/")
        with self.assertRaises(ValueError):  # a JSON webhook is sent through the outbound policy, not apprise
            transports.apprise_url(hook, "k")


class SendTests(NotificationsTestCase):
    def test_one_key_gives_one_notification_and_one_delivery_per_channel(self) -> None:
        self.channel()
        group = ResponseGroup.objects.get(organization=self.unit, kind="office")
        NotificationChannel.objects.create(group=group, kind="webhook", target="http://127.0.0.1:9/group")
        for _ in range(3):
            self.send(groups=[group])
        self.assertEqual(Notification.objects.filter(recipient=self.olga).count(), 1)
        self.assertEqual(Delivery.objects.count(), 2)

    def test_disabled_channels_are_not_used(self) -> None:
        channel = self.channel()
        channel.enabled = False
        channel.save()
        self.send()
        self.assertFalse(Delivery.objects.exists())

    def test_a_task_assigned_to_a_person_reaches_them(self) -> None:
        incident = self.log_incident()
        with self.captureOnCommitCallbacks(execute=True):
            task_create(incident_id=incident.pk, actor=self.alice, title="核实情况", assignee=self.hank)
        notification = Notification.objects.get(recipient=self.hank)
        self.assertIn("核实情况", notification.title)
        self.assertEqual(notification.incident, incident)


@override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.1/32"])  # the receivers below listen on this machine
class DeliveryTests(NotificationsTestCase):
    def delivery(self, **kwargs: Any) -> Delivery:
        self.channel(**kwargs)
        return Delivery.objects.get(pk=self.send()[0])

    def test_it_posts_to_a_webhook_with_the_idempotency_key(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        Receiver.keys, Receiver.status = [], 200
        delivery = self.delivery(target=f"http://127.0.0.1:{server.server_address[1]}/hook")
        self.assertEqual(services.delivery_attempt(delivery_id=delivery.pk), Delivery.Status.SENT)
        self.assertEqual(Receiver.keys, [delivery.idempotency_key])
        self.assertEqual(services.delivery_attempt(delivery_id=delivery.pk), "skipped")
        self.assertEqual(Receiver.keys, [delivery.idempotency_key])
        attempt = DeliveryAttempt.objects.get(delivery=delivery)
        self.assertTrue(attempt.ok)

    def test_a_failing_receiver_is_retried_with_backoff_then_given_up(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        Receiver.keys, Receiver.status = [], 500
        self.addCleanup(setattr, Receiver, "status", 200)
        delivery = self.delivery(target=f"http://127.0.0.1:{server.server_address[1]}/hook")
        start = aware(2025, 3, 3, 9, 0)
        with time_machine.travel(start, tick=False) as clock:
            self.assertEqual(services.delivery_attempt(delivery_id=delivery.pk), Delivery.Status.FAILED)
            delivery.refresh_from_db()
            self.assertEqual(delivery.next_attempt_at, start + timedelta(seconds=30))
            self.assertIn("500", delivery.last_error)
            clock.move_to(start + timedelta(seconds=29))
            self.assertEqual(services.deliveries_sweep(), 0)
            clock.move_to(start + timedelta(seconds=30))
            self.assertEqual(services.deliveries_sweep(), 1)
            self.assertEqual(services.delivery_attempt(delivery_id=delivery.pk), Delivery.Status.FAILED)
            delivery.refresh_from_db()
            self.assertEqual(delivery.next_attempt_at, start + timedelta(seconds=90))
            for _ in range(services.MAX_ATTEMPTS - 2):
                Delivery.objects.filter(pk=delivery.pk).update(status="failed")
                services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, Delivery.Status.DEAD)
        self.assertIsNone(delivery.next_attempt_at)
        self.assertEqual(DeliveryAttempt.objects.filter(delivery=delivery, ok=False).count(), services.MAX_ATTEMPTS)

    def test_a_broken_channel_does_not_stop_the_others(self) -> None:
        self.channel(kind="wecom", target="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=broken")
        self.channel(kind="email", target="olga@example.cn")
        ids = self.send()
        with mock.patch("apprise.Apprise.notify", side_effect=RuntimeError("boom")):
            results = [services.delivery_attempt(delivery_id=pk) for pk in ids]
        self.assertEqual(sorted(results), [Delivery.Status.FAILED, Delivery.Status.SENT])
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("boom", Delivery.objects.get(status="failed").last_error)

    def test_a_send_lost_with_its_worker_is_retried_by_the_sweeper(self) -> None:
        delivery = self.delivery()
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            Delivery.objects.filter(pk=delivery.pk).update(
                status="sending", attempts=1, next_attempt_at=start + services.SEND_LEASE
            )
            self.assertEqual(services.deliveries_sweep(), 0)
            clock.move_to(start + services.SEND_LEASE)
            with self.captureOnCommitCallbacks(execute=True):
                self.assertEqual(services.deliveries_sweep(), 1)
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, Delivery.Status.FAILED)
        self.assertIn("中断", delivery.last_error)
        self.dispatch.assert_called_with(delivery_ids=[delivery.pk])

    def test_an_admin_retries_dead_deliveries(self) -> None:
        delivery = self.delivery()
        Delivery.objects.filter(pk=delivery.pk).update(status="dead", attempts=8, next_attempt_at=None)
        admin = get_user_model().objects.create_superuser("root", "root@example.cn", PASSWORD)
        client = Client()
        client.force_login(admin)
        changelist = reverse("admin:notifications_delivery_changelist")
        self.assertEqual(client.get(changelist + "?status__exact=dead").status_code, 200)
        response = client.post(changelist, {"action": "retry", "_selected_action": [delivery.pk]}, follow=True)
        self.assertContains(response, "已重新排队 1 条投递")
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.attempts), (Delivery.Status.FAILED, 0))


class NotificationCentreTests(NotificationsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.send("a")
        self.send("b")
        services.notifications_send(key="c", kind="test", title="给 hank 的", recipients=[self.hank])
        sign_in(self.client, "olga", PASSWORD)

    def test_it_lists_only_my_notifications_with_the_unread_count(self) -> None:
        response = self.client.get(reverse("notifications:list"))
        self.assertContains(response, "标题", count=2)
        self.assertNotContains(response, "给 hank 的")
        badge = self.client.get(reverse("notifications:badge"))
        self.assertContains(badge, '<span class="badge unread">2</span>', html=False)
        self.assertContains(badge, 'hx-trigger="every 15s')

    def test_it_marks_one_and_all_read(self) -> None:
        mine = Notification.objects.filter(recipient=self.olga).first()
        assert mine is not None
        response = self.client.post(reverse("notifications:read", args=[mine.pk]), HTTP_HX_REQUEST="true")
        self.assertEqual(response["HX-Trigger"], "notifications-changed")
        self.assertEqual(Notification.objects.filter(recipient=self.olga, read_at__isnull=True).count(), 1)
        self.client.post(reverse("notifications:read_all"))
        self.assertEqual(Notification.objects.filter(recipient=self.olga, read_at__isnull=True).count(), 0)
        self.assertTrue(Notification.objects.filter(recipient=self.hank, read_at__isnull=True).exists())

    def test_i_cannot_touch_someone_elses_notification(self) -> None:
        theirs = Notification.objects.get(recipient=self.hank)
        self.assertEqual(self.client.post(reverse("notifications:read", args=[theirs.pk])).status_code, 404)
        theirs.refresh_from_db()
        self.assertIsNone(theirs.read_at)

    def test_posts_need_the_csrf_token_and_a_login(self) -> None:
        strict = Client(enforce_csrf_checks=True)
        sign_in(strict, "olga", PASSWORD)
        self.assertEqual(strict.post(reverse("notifications:read_all")).status_code, 403)
        self.assertEqual(Client().get(reverse("notifications:list")).status_code, 302)
        self.assertEqual(self.client.get(reverse("notifications:read_all")).status_code, 405)
