"""Addresses: the one check for links people store, and the policy for addresses OpinionOps sends to.

- `http_url_check` is the only validation of a URL anywhere (source links, measures, published
  statements, posts, channel and webhook targets): http or https with a host — never `javascript:`,
  `data:` or `file:`, which a browser would follow.
- Outbound (`outbound_check` when a target is saved; `outbound_session` when it is sent to): the
  host must resolve only to public addresses. Loopback, private, link-local (cloud metadata
  169.254.169.254), carrier-grade NAT, multicast and reserved ranges are refused unless an operator
  lists them in OUTBOUND_ALLOWED_NETWORKS (intranet deployments need theirs). At send time the
  address the socket actually connected to is checked again, so a name that resolves somewhere
  else after it was saved (DNS rebinding) is refused too. Failures never say whether a port is open.
"""

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection

from opinion_ops.errors import DomainError

MAX_URL_LENGTH = 1000


class OutboundBlocked(Exception):
    """The address is not one OpinionOps may send to (the message is for people)."""


def http_url_check(value: str, *, field: str) -> str:
    """The URL, stripped, if it is http(s) with a host; DomainError on `field` otherwise."""
    url = (value or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise DomainError(
            _("链接须以 http:// 或 https:// 开头，并包含主机名：%(url)s") % {"url": url[:200]}, field=field
        )
    if len(url) > MAX_URL_LENGTH:
        raise DomainError(_("链接过长（不超过 %(n)s 个字符）。") % {"n": MAX_URL_LENGTH}, field=field)
    if parts.username or parts.password:
        raise DomainError(_("链接中不能包含用户名或密码。"), field=field)
    return url


def http_urls_check(text: str, *, field: str) -> str:
    """One URL per line (blank lines dropped), each checked."""
    return "\n".join(http_url_check(line, field=field) for line in (text or "").splitlines() if line.strip())


def _allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(net, strict=False) for net in settings.OUTBOUND_ALLOWED_NETWORKS)


def address_allowed(address: str) -> bool:
    """A public unicast address, or one an operator allowed."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return True
    return bool(ip.is_global) and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (a literal address resolves to itself)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


def _refused(host: str) -> OutboundBlocked:
    return OutboundBlocked(
        _(
            "不能向 %(host)s 发送：该地址属于本机、内网或保留网段。"
            "内网部署请由运维在 OUTBOUND_ALLOWED_NETWORKS 中列出允许的网段。"
        )
        % {"host": host}
    )


def outbound_check(url: str, *, field: str) -> str:
    """Check a target when it is saved: a valid http(s) URL whose host resolves only to allowed
    addresses. Returns the URL; DomainError on `field` otherwise."""
    url = http_url_check(url, field=field)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError) as exc:
        raise DomainError(_("无法解析主机名 %(host)s，请检查地址。") % {"host": host}, field=field) from exc
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise DomainError(str(_refused(host)), field=field)
    return url


# --- sending: check the destination before connecting, and the address each connection reached


def _check_destination(connection: Any) -> None:
    """Refuse before any packet leaves when the host resolves inside: an open port and a closed one
    then read the same to whoever asked for the send."""
    host = getattr(connection, "_dns_host", None) or connection.host
    try:
        addresses = resolve(host, connection.port or 80)
    except (OSError, UnicodeError):
        return  # the connection's own lookup fails the same way, with the generic message
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise _refused(connection.host)


def _check_peer(connection: Any, sock: socket.socket) -> None:
    # The name may have resolved again, elsewhere, between the check above and the connection.
    address = sock.getpeername()[0]
    if not address_allowed(address):
        sock.close()
        raise _refused(connection.host)


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        _check_destination(self)
        sock = super()._new_conn()
        _check_peer(self, sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        _check_destination(self)
        sock = super()._new_conn()
        _check_peer(self, sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        self.poolmanager = PoolManager(num_pools=connections, maxsize=maxsize, block=block, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise OutboundBlocked(_("不经代理发送。"))


def outbound_session() -> requests.Session:
    """A requests session that only connects to allowed addresses, ignores proxy settings from the
    environment and follows no redirects on its own (callers pass allow_redirects=False)."""
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def outbound_failure(exc: BaseException) -> str:
    """What a person is told when a send failed at the network level: never whether a port is open."""
    if isinstance(exc, OutboundBlocked):
        return str(exc)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OutboundBlocked):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    # Refused, reset and timed out read the same: the answer must not map the receiver's ports.
    return _("无法连接到该地址，或对方在限定时间内没有响应。")
