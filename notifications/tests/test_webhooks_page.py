"""单位设置 → 系统对接: administrators subscribe other systems, see each delivery with its attempts,
send one again; the secret is shown once; changes are audited; other units see nothing."""

from unittest import mock

from django.urls import reverse

from notifications import services
from notifications.channels import subscription_create
from notifications.models import Delivery, NotificationChannel
from opinion_ops.testing import BaseTestCase
from organizations.models import AuditEntry

LIST = reverse("unit_webhooks:list")


class WebhookPageTests(BaseTestCase):
    def setUp(self) -> None:
        patcher = mock.patch.object(services, "deliveries_dispatch")
        patcher.start()
        self.addCleanup(patcher.stop)

    def subscribe(self) -> NotificationChannel:
        return subscription_create(
            organization=self.unit,
            actor=self.uma,
            name="值班系统",
            target_url="https://hooks.example.cn/in",
            event_names=["incident.created"],
        )

    def test_it_subscribes_and_shows_the_secret_once(self) -> None:
        self.client.force_login(self.uma)
        response = self.client.post(
            LIST,
            {
                "name": "市平台",
                "target_url": "https://hooks.example.cn/x",
                "events": ["incident.created"],
                "is_active": "on",
            },
        )
        subscription = NotificationChannel.objects.get(kind="signed_webhook")
        self.assertEqual(response["Cache-Control"], "no-store")
        self.assertContains(response, subscription.secret)
        detail = self.client.get(reverse("unit_webhooks:detail", args=[subscription.pk]))
        self.assertNotContains(detail, subscription.secret)
        self.assertEqual(AuditEntry.objects.get(action="webhook.create").organization_id, self.unit.pk)
        self.assertNotIn(subscription.secret, str(AuditEntry.objects.get().after))

    def test_bad_input_is_named_and_nothing_is_saved(self) -> None:
        self.client.force_login(self.uma)
        for data, message in [
            ({"name": "x", "target_url": "javascript:alert(1)", "events": ["incident.created"]}, "http://"),
            ({"name": "x", "target_url": "http://127.0.0.1:5432/", "events": ["incident.created"]}, "内网"),
            ({"name": "x", "target_url": "https://hooks.example.cn/x"}, "请从支持的事件中选择"),
            ({"name": "", "target_url": "https://hooks.example.cn/x", "events": ["incident.created"]}, "名称"),
        ]:
            with self.subTest(data=data):
                self.assertContains(self.client.post(LIST, data), message, status_code=400)
        self.assertFalse(NotificationChannel.objects.exists())

    def test_it_shows_each_delivery_and_sends_one_again(self) -> None:
        subscription = self.subscribe()
        with self.captureOnCommitCallbacks(execute=True):
            self.log_incident()
        delivery = Delivery.objects.get(channel=subscription)
        Delivery.objects.filter(pk=delivery.pk).update(status="dead", last_error="HTTP 500", last_response_status=500)
        self.client.force_login(self.uma)
        page = self.client.get(reverse("unit_webhooks:detail", args=[subscription.pk]))
        self.assertContains(page, str(delivery.event_id))
        self.assertContains(page, "HTTP 500")
        url = reverse("unit_webhooks:send_again", args=[subscription.pk, delivery.pk])
        self.assertRedirects(self.client.post(url), reverse("unit_webhooks:detail", args=[subscription.pk]))
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, "pending")
        self.assertTrue(AuditEntry.objects.filter(action="webhook.resend").exists())

    def test_rotating_the_secret_shows_the_new_one_once(self) -> None:
        subscription = self.subscribe()
        old = subscription.secret
        self.client.force_login(self.uma)
        response = self.client.post(reverse("unit_webhooks:rotate", args=[subscription.pk]))
        subscription.refresh_from_db()
        self.assertNotEqual(subscription.secret, old)
        self.assertContains(response, subscription.secret)
        entry = AuditEntry.objects.get(action="webhook.update")
        self.assertTrue(entry.after["secret_rotated"])
        self.assertNotIn(subscription.secret, str(entry.after))

    def test_another_unit_reaches_nothing(self) -> None:
        subscription = self.subscribe()
        self.client.force_login(self.carl)
        self.assertNotContains(self.client.get(LIST), "值班系统")
        for name in ["unit_webhooks:detail", "unit_webhooks:rotate", "unit_webhooks:delete"]:
            method = self.client.get if name == "unit_webhooks:detail" else self.client.post
            self.assertEqual(method(reverse(name, args=[subscription.pk])).status_code, 404, name)
        self.client.force_login(self.alice)  # a leader of the unit, not its administrator
        self.assertEqual(self.client.get(LIST).status_code, 403)
        self.assertTrue(NotificationChannel.objects.filter(pk=subscription.pk).exists())
