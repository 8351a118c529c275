"""Outbound addresses under a policy: targets people type (a JSON webhook, a system webhook) must
lead to public addresses, checked when saved and again when sent (DNS rebinding); loopback,
private, link-local and metadata addresses are refused unless an operator allows them; a test
message never tells whether a port is open. Before, any member could point a channel at
http://127.0.0.1:5432/ and use 发送测试消息 as a port scanner."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

from django.test import override_settings
from django.urls import reverse

from notifications import channels, services
from notifications.models import Delivery, NotificationChannel
from opinion_ops import links_policy
from opinion_ops.errors import DomainError
from opinion_ops.testing import BaseTestCase

REFUSED = "该地址属于本机、内网或保留网段"


class Sink(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Sink.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def listening_port() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Sink.hits = []
    return int(server.server_address[1])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SavePolicyTests(BaseTestCase):
    def add(self, target: str, kind: str = "webhook") -> Any:
        self.client.force_login(self.bob)
        return self.client.post(reverse("notifications:channels"), {"kind": kind, "target": target})

    def test_it_refuses_to_save_addresses_inside_the_network(self) -> None:
        for target in [
            "http://127.0.0.1:5432/",
            "http://localhost:6379/",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://172.16.5.5/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8000/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
        ]:
            with self.subTest(target=target):
                response = self.add(target)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, REFUSED, status_code=400)
        self.assertFalse(NotificationChannel.objects.exists())

    def test_it_refuses_a_name_that_resolves_inside(self) -> None:
        with mock.patch.object(links_policy, "resolve", return_value=["192.168.1.1"]):
            response = self.add("https://intranet.example.cn/hook")
        self.assertContains(response, REFUSED, status_code=400)

    def test_it_refuses_a_name_that_resolves_nowhere(self) -> None:
        with mock.patch.object(links_policy, "resolve", side_effect=socket.gaierror("no such name")):
            response = self.add("https://nowhere.example.cn/hook")
        self.assertContains(response, "无法解析主机名", status_code=400)

    def test_an_operator_allows_the_intranet_it_needs(self) -> None:
        with override_settings(OUTBOUND_ALLOWED_NETWORKS=["10.0.0.0/8"]):
            self.assertEqual(self.add("http://10.1.2.3/hook").status_code, 302)
            self.assertContains(self.add("http://192.168.0.10/hook"), REFUSED, status_code=400)

    def test_system_webhooks_follow_the_same_policy(self) -> None:
        with self.assertRaisesMessage(DomainError, REFUSED) as caught:
            channels.subscription_create(
                organization=self.unit,
                actor=self.uma,
                name="内网",
                target_url="http://127.0.0.1:8000/hook",
                event_names=["incident.created"],
            )
        self.assertEqual(caught.exception.field, "target_url")


class SendPolicyTests(BaseTestCase):
    def stored(self, target: str) -> NotificationChannel:
        # Rows saved before the policy existed, or by an operator: the send itself must still refuse.
        return NotificationChannel.objects.create(user=self.bob, kind="webhook", target=target)

    def test_a_test_message_does_not_tell_an_open_port_from_a_closed_one(self) -> None:
        self.client.force_login(self.bob)
        answers = []
        for port in (listening_port(), closed_port()):
            channel = self.stored(f"http://127.0.0.1:{port}/probe")
            response = self.client.post(
                reverse("notifications:channel_test", args=[channel.pk]), HTTP_HX_REQUEST="true"
            )
            answers.append(response.content.decode())
        self.assertEqual(Sink.hits, [])  # nothing connected to the open port
        self.assertIn(REFUSED, answers[0])
        self.assertEqual(answers[0], answers[1])

    @override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.1/32"])
    def test_where_allowed_a_refused_and_a_silent_port_read_the_same(self) -> None:
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        self.addCleanup(silent.close)
        self.client.force_login(self.bob)
        answers = []
        with mock.patch.object(channels, "TEST_SEND_TIMEOUT_SECONDS", 0.5):
            for port in (closed_port(), silent.getsockname()[1]):
                channel = self.stored(f"http://127.0.0.1:{port}/x")
                url = reverse("notifications:channel_test", args=[channel.pk])
                answers.append(self.client.post(url, HTTP_HX_REQUEST="true").content.decode())
        self.assertIn("无法连接到该地址", answers[0])
        self.assertEqual(answers[0], answers[1])

    def test_a_name_that_moves_inside_after_saving_is_refused_when_sent(self) -> None:
        """DNS rebinding: public when saved, 127.0.0.1 when the worker connects."""
        port = listening_port()
        target = f"http://rebind.example.cn:{port}/hook"
        channel = channels.channel_create(kind="webhook", target=target, user=self.olga, actor=self.olga)
        real_getaddrinfo = socket.getaddrinfo

        def rebound(host: str, *args: Any, **kwargs: Any) -> Any:
            return real_getaddrinfo("127.0.0.1" if host == "rebind.example.cn" else host, *args, **kwargs)

        with mock.patch("notifications.services.deliveries_dispatch"):
            [delivery_id] = services.notifications_send(
                key="k", kind="test", title="标题", body="内容", recipients=[self.olga]
            )
        with mock.patch("socket.getaddrinfo", side_effect=rebound):
            self.assertEqual(services.delivery_attempt(delivery_id=delivery_id), Delivery.Status.FAILED)
        self.assertEqual(Sink.hits, [])
        self.assertIn(REFUSED, Delivery.objects.get(pk=delivery_id).last_error)
        self.assertEqual(Delivery.objects.get(pk=delivery_id).channel_id, channel.pk)

    @override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.1/32"])
    def test_an_allowed_address_is_delivered_to(self) -> None:
        port = listening_port()
        channels.channel_create(kind="webhook", target=f"http://127.0.0.1:{port}/ok", user=self.olga, actor=self.olga)
        with mock.patch("notifications.services.deliveries_dispatch"):
            [delivery_id] = services.notifications_send(
                key="k", kind="test", title="标题", body="内容", recipients=[self.olga]
            )
        self.assertEqual(services.delivery_attempt(delivery_id=delivery_id), Delivery.Status.SENT)
        self.assertEqual(Sink.hits, ["/ok"])
