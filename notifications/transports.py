"""How one delivery leaves the system, per kind of channel (the rest of the outbox is the same for all):

- e-mail through Django's mail settings;
- WeCom / DingTalk / Feishu robots through apprise (not hand-written clients); their hosts are the
  vendors' fixed public addresses;
- a person's JSON webhook (apprise's JSON format: version, title, message, type) and a signed webhook
  to another system (the event as JSON, signed with HMAC-SHA256 over the timestamp and body,
  `X-OpinionOps-Signature: t=<unix>,v1=<hex>`, its event id in `X-OpinionOps-Delivery`): both are
  addresses people typed, so both go through the outbound policy's session
  (opinion_ops.links_policy), which refuses private, loopback and metadata addresses again at the
  moment of connecting.

`transport_send` raises DeliveryFailed with the reason; it returns the receiver's HTTP status and
(truncated) answer where there is one.
"""

import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import apprise
import requests
from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

from notifications.models import NotificationChannel
from opinion_ops.links_policy import OutboundBlocked, outbound_failure, outbound_session

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-OpinionOps-Signature"
WEBHOOK_TIMEOUT_SECONDS = 10

CHAT_HOSTS: dict[str, str] = {
    NotificationChannel.Kind.WECOM: "qyapi.weixin.qq.com",
    NotificationChannel.Kind.DINGTALK: "oapi.dingtalk.com",
    NotificationChannel.Kind.FEISHU: "open.feishu.cn",
}
CHAT_EXAMPLES: dict[str, str] = {
    NotificationChannel.Kind.WECOM: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    NotificationChannel.Kind.DINGTALK: "https://oapi.dingtalk.com/robot/send?access_token=…",
    NotificationChannel.Kind.FEISHU: "https://open.feishu.cn/open-apis/bot/v2/hook/…",
}


class DeliveryFailed(Exception):
    def __init__(self, message: str, response_status: int | None = None, response_body: str = "") -> None:
        super().__init__(message)
        self.response_status = response_status
        self.response_body = response_body


@dataclass(frozen=True)
class Outgoing:
    """What a transport sends: the words for people, the event for systems."""

    title: str
    body: str
    url: str
    idempotency_key: str
    kind: str = ""
    event_id: str = ""
    payload: dict[str, Any] | None = None
    created_at: str = ""


@dataclass(frozen=True)
class Sent:
    response_status: int | None = None
    response_body: str = ""


def chat_token(kind: str, target: str) -> str:
    """The robot's key in its official webhook address, or '' when the address is not one."""
    parts = urlsplit(target)
    query = parse_qs(parts.query)
    if kind == NotificationChannel.Kind.WECOM:
        return (query.get("key") or [""])[0]
    if kind == NotificationChannel.Kind.DINGTALK:
        return (query.get("access_token") or [""])[0]
    if kind == NotificationChannel.Kind.FEISHU and parts.path.startswith("/open-apis/bot/v2/hook/"):
        return parts.path.rsplit("/", 1)[-1]
    return ""


def apprise_url(channel: NotificationChannel, idempotency_key: str) -> str:
    """The apprise URL for a chat-robot channel, from the address the user pasted."""
    kind, target = channel.kind, channel.target.strip()
    if kind == NotificationChannel.Kind.WECOM:
        return f"wecombot://{quote(chat_token(kind, target), safe='')}/"
    if kind == NotificationChannel.Kind.DINGTALK:
        token = quote(chat_token(kind, target), safe="")
        return f"dingtalk://{quote(channel.secret, safe='')}@{token}/" if channel.secret else f"dingtalk://{token}/"
    if kind == NotificationChannel.Kind.FEISHU:
        return f"feishu://{quote(chat_token(kind, target), safe='')}/"
    raise ValueError(f"not a chat-robot channel: {kind}")


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Sent:
    """POST to an address people typed, through the outbound policy; no redirects are followed."""
    try:
        with outbound_session() as session:
            response = session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except (requests.RequestException, OutboundBlocked) as exc:
        raise DeliveryFailed(outbound_failure(exc)) from exc
    text = response.text[:2000]
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}", response.status_code, text)
    return Sent(response.status_code, text)


def _send_json(channel: NotificationChannel, message: Outgoing, text: str, timeout: float) -> Sent:
    body = {"version": "1.0", "title": message.title, "message": text, "type": "info"}
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "OpinionOps/1",
        # Receivers drop repeats by this header: a send cut short by a killed worker is retried.
        "X-Idempotency-Key": message.idempotency_key,
    }
    return _post(channel.target.strip(), json.dumps(body, ensure_ascii=False).encode(), headers, timeout)


# --- signed webhooks


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as sent in X-OpinionOps-Signature."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """What a receiver does: recompute the HMAC and refuse old timestamps (replays)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def envelope(message: Outgoing) -> bytes:
    data = {"id": message.event_id, "type": message.kind, "created_at": message.created_at, "data": message.payload}
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def _send_signed(channel: NotificationChannel, message: Outgoing, timeout: float) -> Sent:
    body = envelope(message)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "OpinionOps-Webhooks/1",
        "X-OpinionOps-Event": message.kind,
        "X-OpinionOps-Delivery": message.event_id,
        SIGNATURE_HEADER: sign(channel.secret, body, int(time.time())),
    }
    return _post(channel.target.strip(), body, headers, timeout)


def transport_send(*, channel: NotificationChannel, message: Outgoing, timeout: float | None = None) -> Sent:
    """Send one message on one channel; raise DeliveryFailed with the reason when it does not go out.
    `timeout` (seconds) bounds connecting and reading; by default each transport's own applies."""
    if channel.kind == NotificationChannel.Kind.SIGNED_WEBHOOK:
        return _send_signed(channel, message, timeout or WEBHOOK_TIMEOUT_SECONDS)
    text = f"{message.body}\n{message.url}".strip() if message.url else message.body
    if channel.kind == NotificationChannel.Kind.EMAIL:
        try:
            connection = get_connection(fail_silently=False, timeout=timeout) if timeout else None
            send_mail(
                message.title,
                text,
                settings.DEFAULT_FROM_EMAIL,
                [channel.target],
                fail_silently=False,
                connection=connection,
            )
        except Exception as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        return Sent()
    if channel.kind == NotificationChannel.Kind.WEBHOOK:
        return _send_json(channel, message, text, timeout or WEBHOOK_TIMEOUT_SECONDS)
    notifier = apprise.Apprise()
    address = apprise_url(channel, message.idempotency_key)
    if timeout:
        address += f"{'&' if '?' in address else '?'}cto={timeout}&rto={timeout}"
    if not notifier.add(address):
        raise DeliveryFailed(_("渠道地址无效，无法发送。"))
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = notifier.notify(title=message.title, body=text)
        log = captured.getvalue()
    if not ok:
        logger.info("Chat robot send failed (channel %s): %s", channel.pk, log.strip())
        raise DeliveryFailed(robot_failure(channel.get_kind_display(), log))
    return Sent()


HTTP_ERROR = re.compile(r"error=(\d{3})")


def robot_failure(robot: str, log: str) -> str:
    """Why a chat robot refused, in words for the person at the screen (apprise logs in English)."""
    if re.search(r"connection error|timed out|timeout", log, re.IGNORECASE):
        return _("无法连接到%(robot)s的接口（网络不通或超时）。") % {"robot": robot}
    status = HTTP_ERROR.search(log)
    if status:
        return _(
            "%(robot)s的接口返回错误（HTTP %(code)s）：请检查 Webhook 地址（含 key 或 access_token）是否完整、"
            "机器人是否仍在群内；钉钉机器人的加签密钥须与机器人设置一致。"
        ) % {"robot": robot, "code": status.group(1)}
    return _("%(robot)s的接口没有接受这条消息，请检查 Webhook 地址和机器人设置。") % {"robot": robot}
