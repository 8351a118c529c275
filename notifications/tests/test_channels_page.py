"""我的通知方式: people and group heads configure their own notification channels."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from notifications.models import NotificationChannel
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in
from organizations.models import GroupMember, ResponseGroup

CHANNELS = reverse("notifications:channels")
QUERIES = 7  # user (session from the cache), membership with unit, roles, groups + channels, own channels, select
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=t0k"


class Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        Receiver.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def unused_port() -> int:
    """A 127.0.0.1 port nobody listens on: bound then released, so a connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChannelsPageTestCase(BaseTestCase):
    def setUp(self) -> None:
        sign_in(self.client, "bob", PASSWORD)

    def group(self, kind: str, unit: Any = None) -> ResponseGroup:
        return ResponseGroup.objects.get(organization=unit or self.unit, kind=kind)

    def add(self, client: Client | None = None, **data: Any) -> Any:
        data.setdefault("kind", "webhook")
        data.setdefault("target", "https://hooks.example.cn/bob")
        return (client or self.client).post(CHANNELS, data)


class OwnChannelTests(ChannelsPageTestCase):
    def test_it_adds_and_lists_my_channel(self) -> None:
        response = self.add(kind="email", target="bob@example.cn", name="值班邮箱")
        self.assertRedirects(response, CHANNELS)
        channel = NotificationChannel.objects.get()
        self.assertEqual((channel.user, channel.group, channel.kind, channel.enabled), (self.bob, None, "email", True))
        page = self.client.get(CHANNELS)
        self.assertContains(page, "bob@example.cn")
        self.assertContains(page, "值班邮箱")
        self.assertContains(page, reverse("notifications:channel_test", args=[channel.pk]))

    def test_it_lists_only_my_channels(self) -> None:
        NotificationChannel.objects.create(user=self.bob, kind="webhook", target="https://hooks.example.cn/mine")
        NotificationChannel.objects.create(user=self.hank, kind="webhook", target="https://hooks.example.cn/hank")
        page = self.client.get(CHANNELS)
        self.assertContains(page, "https://hooks.example.cn/mine")
        self.assertNotContains(page, "https://hooks.example.cn/hank")

    def test_it_disables_enables_and_deletes_my_channel(self) -> None:
        channel = NotificationChannel.objects.create(user=self.bob, kind="webhook", target="https://h.example.cn/b")
        url = reverse("notifications:channel_enable", args=[channel.pk])
        self.assertRedirects(self.client.post(url, {"enabled": "0"}), CHANNELS)
        channel.refresh_from_db()
        self.assertFalse(channel.enabled)
        self.assertContains(self.client.get(CHANNELS), "已停用")
        self.client.post(url, {"enabled": "1"})
        channel.refresh_from_db()
        self.assertTrue(channel.enabled)
        response = self.client.post(reverse("notifications:channel_delete", args=[channel.pk]))
        self.assertRedirects(response, CHANNELS)
        self.assertFalse(NotificationChannel.objects.exists())

    def test_it_shows_the_error_next_to_the_field_and_keeps_the_input(self) -> None:
        for kind, target, message in [
            ("webhook", "ftp://hooks.example.cn/x", "须以 http:// 或 https:// 开头"),
            ("email", "bob-at-example", "不是有效的电子邮件地址"),
            ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "请填写机器人的完整 Webhook 地址"),
        ]:
            with self.subTest(kind=kind, target=target):
                response = self.add(kind=kind, target=target, name="我的机器人")
                self.assertEqual(response.status_code, 400)
                form = response.context["form"]
                self.assertEqual(list(form.errors), ["target"])
                self.assertIn(message, form.errors["target"][0])
                self.assertContains(response, 'id="id_target_error"', status_code=400)
                self.assertContains(response, message, status_code=400)
                self.assertContains(response, f'value="{target}"', status_code=400)
                self.assertContains(response, 'value="我的机器人"', status_code=400)
        self.assertFalse(NotificationChannel.objects.exists())

    def test_it_puts_a_secret_error_next_to_the_secret(self) -> None:
        response = self.add(kind="wecom", target=WECOM, secret="SEC123")
        self.assertEqual(list(response.context["form"].errors), ["secret"])
        self.assertFalse(NotificationChannel.objects.exists())

    def test_someone_elses_channel_is_not_found(self) -> None:
        theirs = NotificationChannel.objects.create(user=self.hank, kind="webhook", target="https://h.example.cn/h")
        for name, data in [
            ("notifications:channel_enable", {"enabled": "0"}),
            ("notifications:channel_delete", {}),
            ("notifications:channel_test", {}),
        ]:
            with self.subTest(name=name):
                self.assertEqual(self.client.post(reverse(name, args=[theirs.pk]), data).status_code, 404)
        theirs.refresh_from_db()
        self.assertTrue(theirs.enabled)

    def test_it_needs_a_login_csrf_and_post(self) -> None:
        self.assertEqual(Client().get(CHANNELS).status_code, 302)
        channel = NotificationChannel.objects.create(user=self.bob, kind="webhook", target="https://h.example.cn/b")
        strict = Client(enforce_csrf_checks=True)
        sign_in(strict, "bob", PASSWORD)
        self.assertEqual(self.add(client=strict).status_code, 403)
        self.assertEqual(strict.post(reverse("notifications:channel_delete", args=[channel.pk])).status_code, 403)
        self.assertEqual(self.client.get(reverse("notifications:channel_delete", args=[channel.pk])).status_code, 405)
        self.assertEqual(NotificationChannel.objects.count(), 1)

    def test_the_header_links_to_the_page(self) -> None:
        self.assertContains(self.client.get(reverse("notifications:list")), f'href="{CHANNELS}"')

    def test_it_speaks_english(self) -> None:
        self.client.cookies["django_language"] = "en"
        response = self.add(target="ftp://hooks.example.cn/x")
        self.assertContains(response, "My notification channels", status_code=400)
        self.assertContains(response, "Add a notification channel", status_code=400)


class GroupChannelTests(ChannelsPageTestCase):
    def test_a_group_head_adds_and_manages_the_group_channel(self) -> None:
        sign_in(self.client, "alice", PASSWORD)
        leadership = self.group("leadership")
        response = self.add(group=leadership.pk, kind="wecom", target=WECOM, name="领导小组工作群")
        self.assertRedirects(response, CHANNELS)
        channel = NotificationChannel.objects.get()
        self.assertEqual((channel.group, channel.user), (leadership, None))
        page = self.client.get(CHANNELS)
        self.assertContains(page, "工作组的通知方式")
        self.assertContains(page, "领导小组工作群")
        self.client.post(reverse("notifications:channel_enable", args=[channel.pk]), {"enabled": "0"})
        channel.refresh_from_db()
        self.assertFalse(channel.enabled)

    def test_a_deputy_head_manages_only_their_own_group(self) -> None:
        GroupMember.objects.filter(user=self.bob).update(position=GroupMember.Position.DEPUTY)
        monitoring, handling = self.group("monitoring"), self.group("handling")
        self.assertRedirects(self.add(group=monitoring.pk, target="https://hooks.example.cn/m"), CHANNELS)
        self.assertTrue(NotificationChannel.objects.filter(group=monitoring).exists())
        response = self.add(group=handling.pk, target="https://hooks.example.cn/h")
        self.assertEqual(list(response.context["form"].errors), ["group"])
        theirs = NotificationChannel.objects.create(group=handling, kind="webhook", target="https://h.example.cn/h")
        url = reverse("notifications:channel_delete", args=[theirs.pk])
        self.assertEqual(self.client.post(url).status_code, 404)

    def test_a_leader_manages_every_group_of_the_unit(self) -> None:
        handling = NotificationChannel.objects.create(
            group=self.group("handling"), kind="webhook", target="https://h.example.cn/handling"
        )
        sign_in(self.client, "alice", PASSWORD)
        self.assertContains(self.client.get(CHANNELS), "https://h.example.cn/handling")
        self.assertRedirects(self.client.post(reverse("notifications:channel_delete", args=[handling.pk])), CHANNELS)
        self.assertFalse(NotificationChannel.objects.exists())

    def test_an_ordinary_member_cannot_see_or_change_the_group_channel(self) -> None:
        monitoring = self.group("monitoring")
        channel = NotificationChannel.objects.create(group=monitoring, kind="webhook", target="https://h.example.cn/m")
        page = self.client.get(CHANNELS)
        self.assertNotContains(page, "工作组的通知方式")
        self.assertNotContains(page, "https://h.example.cn/m")
        url = reverse("notifications:channel_enable", args=[channel.pk])
        self.assertEqual(self.client.post(url, {"enabled": "0"}).status_code, 404)
        self.assertEqual(self.add(group=monitoring.pk).status_code, 400)
        channel.refresh_from_db()
        self.assertTrue(channel.enabled)
        self.assertEqual(NotificationChannel.objects.count(), 1)

    def test_another_units_leader_cannot_touch_our_group_channel(self) -> None:
        ours = NotificationChannel.objects.create(group=self.group("leadership"), kind="wecom", target=WECOM)
        sign_in(self.client, "charlie", PASSWORD)
        self.assertNotContains(self.client.get(CHANNELS), WECOM)
        for name in ["notifications:channel_delete", "notifications:channel_test"]:
            with self.subTest(name=name):
                self.assertEqual(self.client.post(reverse(name, args=[ours.pk])).status_code, 404)
        self.assertEqual(self.add(group=ours.group_id).status_code, 400)
        self.assertEqual(NotificationChannel.objects.count(), 1)


@override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.1/32"])  # the receivers below listen on this machine
class TestMessageTests(ChannelsPageTestCase):
    def receiver(self) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        Receiver.bodies = []
        return f"http://127.0.0.1:{server.server_address[1]}/hook"

    def test_it_sends_a_test_message_and_says_so(self) -> None:
        channel = NotificationChannel.objects.create(user=self.bob, kind="webhook", target=self.receiver())
        response = self.client.post(reverse("notifications:channel_test", args=[channel.pk]), follow=True)
        self.assertEqual(len(Receiver.bodies), 1)
        self.assertIn("测试", json.loads(Receiver.bodies[0])["title"])
        self.assertContains(response, "测试消息已发出")

    def test_it_shows_why_a_test_message_failed(self) -> None:
        channel = NotificationChannel.objects.create(
            user=self.bob, kind="webhook", target=f"http://127.0.0.1:{unused_port()}/hook"
        )
        url = reverse("notifications:channel_test", args=[channel.pk])
        response = self.client.post(url, follow=True)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "测试消息发送失败")
        self.assertContains(response, "无法连接到该地址")
        self.assertNotContains(response, "WARNING")
        self.assertNotContains(response, "refused")
        partial = self.client.post(url, HTTP_HX_REQUEST="true")
        self.assertContains(partial, "测试消息发送失败")
        self.assertNotContains(partial, "<html")

    def test_it_answers_htmx_with_the_result_only(self) -> None:
        channel = NotificationChannel.objects.create(user=self.bob, kind="webhook", target=self.receiver())
        response = self.client.post(reverse("notifications:channel_test", args=[channel.pk]), HTTP_HX_REQUEST="true")
        self.assertContains(response, "测试消息已发出")
        self.assertNotContains(response, "<html")
        self.assertEqual(len(Receiver.bodies), 1)

    def test_it_sends_a_test_email(self) -> None:
        channel = NotificationChannel.objects.create(user=self.bob, kind="email", target="bob@example.cn")
        response = self.client.post(reverse("notifications:channel_test", args=[channel.pk]), follow=True)
        self.assertContains(response, "测试消息已发出")
        self.assertEqual([m.to for m in mail.outbox], [["bob@example.cn"]])


class ChannelsPageQueryTests(ChannelsPageTestCase):
    def test_its_queries_do_not_grow_with_the_channels(self) -> None:
        sign_in(self.client, "alice", PASSWORD)
        NotificationChannel.objects.create(user=self.alice, kind="email", target="alice@example.cn")
        NotificationChannel.objects.create(group=self.group("leadership"), kind="wecom", target=WECOM)
        with self.assertNumQueries(QUERIES):
            self.client.get(CHANNELS)
        for kind in ["handling", "monitoring", "office"]:
            NotificationChannel.objects.create(group=self.group(kind), kind="wecom", target=WECOM)
            NotificationChannel.objects.create(user=self.alice, kind="email", target=f"{kind}@example.cn")
        with self.assertNumQueries(QUERIES):
            self.assertContains(self.client.get(CHANNELS), "office@example.cn")


class RobotFailureTests(ChannelsPageTestCase):
    """A chat robot's refusal reads in Chinese (before, the page showed apprise's English log line)."""

    def test_it_explains_a_refused_robot_message_in_chinese(self) -> None:
        from unittest import mock

        import apprise

        channel = NotificationChannel.objects.create(user=self.bob, kind="wecom", target=WECOM)

        def refuse(*args: Any, **kwargs: Any) -> bool:
            import logging

            logging.getLogger("apprise").warning("Failed to send WeCom Bot notification: Bad Request, error=400.")
            return False

        with mock.patch.object(apprise.Apprise, "notify", side_effect=refuse):
            response = self.client.post(
                reverse("notifications:channel_test", args=[channel.pk]), HTTP_HX_REQUEST="true"
            )
        text = response.content.decode()
        self.assertIn("企业微信群机器人的接口返回错误（HTTP 400）", text)
        self.assertNotIn("Failed to send", text)

    def test_it_explains_an_unreachable_robot_in_chinese(self) -> None:
        from unittest import mock

        import apprise

        channel = NotificationChannel.objects.create(user=self.bob, kind="dingtalk", target=DINGTALK)

        def unreachable(*args: Any, **kwargs: Any) -> bool:
            import logging

            logging.getLogger("apprise").warning("A Connection error occurred sending DingTalk notification.")
            return False

        with mock.patch.object(apprise.Apprise, "notify", side_effect=unreachable):
            response = self.client.post(
                reverse("notifications:channel_test", args=[channel.pk]), HTTP_HX_REQUEST="true"
            )
        self.assertContains(response, "无法连接到钉钉群机器人的接口")
