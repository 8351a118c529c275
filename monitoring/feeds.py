"""RSS and Atom feeds: fetch one through the outbound policy and read its entries as plain text.

Pure functions, no models. The poller keeps, per source, the validators and the schedule:

    result = feed_fetch(source.url, etag=source.etag, last_modified=source.last_modified)
    source.etag, source.last_modified = result.etag, result.last_modified   # always safe to store
    if result.status == "failed": failures += 1, record result.error (Chinese, for the health view)
    else: failures = 0, ingest result.items (deduplicated by external_id), note result.skipped
    source.next_fetch_at = now + feed_retry_delay(source.interval, failures)

- `feed_fetch` never raises for anything the network or the feed can do; every outcome is a
  `FetchResult`. `transient` marks failures worth retrying sooner (timeouts, connection errors,
  HTTP 5xx, 408, 429); a refused address, a 404 or a page that is not a feed is not.
- Time: connecting and each read wait at most `timeout`; the whole fetch, redirects included, at
  most 2 × timeout, even against a server that trickles a byte at a time.
- Size: at most `max_bytes` of (decompressed) body are read; past that the fetch fails.
- Before any HTTP answer arrives, every failure reads the same (`outbound_failure`): the message
  never tells an open port from a closed one.
"""

import codecs
import hashlib
import io
import logging
import re
import socket
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import feedparser
import requests
from django.utils import timezone
from django.utils.translation import gettext as _

from opinion_ops.errors import DomainError
from opinion_ops.links_policy import OutboundBlocked, http_url_check, outbound_failure, outbound_session

logger = logging.getLogger(__name__)

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_FEED_ENTRIES = 500
MAX_ITEM_TEXT = 20_000
MAX_TITLE = 500
MAX_AUTHOR = 255
MAX_EXTERNAL_ID = 255
MAX_VALIDATOR = 255  # a longer ETag / Last-Modified is not kept (the model stores 255)
MAX_REDIRECTS = 3
MAX_RETRY_DELAY = timedelta(hours=6)
MIN_RETRY_DELAY = timedelta(minutes=1)
FUTURE_TOLERANCE = timedelta(days=1)
USER_AGENT = "OpinionOps/1.0 (feed reader; +RSS/Atom)"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
# The sources are Chinese sites: a date written without a zone is Beijing time, not UTC.
SOURCE_ZONE = ZoneInfo("Asia/Shanghai")

FetchStatus = Literal["ok", "not_modified", "failed"]


@dataclass(frozen=True)
class FeedItem:
    external_id: str  # guid/id, else link, else "sha256:" of title and text; at most 255 characters
    url: str  # "" unless a valid http(s) URL
    title: str  # plain text, one line, at most MAX_TITLE characters
    text: str  # plain text of the content or summary, at most MAX_ITEM_TEXT characters
    author: str = ""
    published_at: datetime | None = None  # aware UTC; None when absent, unreadable or in the future
    truncated: bool = False  # the text was cut at MAX_ITEM_TEXT


@dataclass
class FetchResult:
    status: FetchStatus
    items: list[FeedItem] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (entry id or 第 N 条, reason)
    etag: str = ""  # what to send next time; on failure the values passed in
    last_modified: str = ""
    http_status: int | None = None  # of the last answer received, None when none came
    error: str = ""
    transient: bool = False
    bytes_read: int = 0
    elapsed_ms: int = 0
    final_url: str = ""  # after redirects


# --- fetching


class _FetchFailed(Exception):
    def __init__(self, error: str, *, transient: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.transient = transient


@dataclass
class _Transfer:
    url: str
    http_status: int | None = None
    bytes_read: int = 0
    reading: bool = False  # the final answer's headers arrived and its body is being read


class _Deadline:
    """requests' timeout bounds each wait, not the whole fetch: a server sending a byte every few
    seconds would hold a worker for hours. When the time is up this shuts the fetch's sockets down,
    which ends any read in progress."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.001, self.at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the time is up (now, if it already is)."""
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # The socket object, not the connection's attribute: http.client drops `connection.sock` once a
        # body without a length starts, while the response keeps reading from it. socket.socket's own
        # shutdown: SSLSocket.shutdown would drop its TLS state under a reader. A closed socket: OSError.
        with suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _watched_pool(pool_class: type[Any], deadline: _Deadline) -> type[Any]:
    """The pool class of the outbound policy, its connections registered with the deadline."""
    base: Any = pool_class.ConnectionCls

    class WatchedConnection(base):  # type: ignore[misc,valid-type]
        def connect(self) -> None:
            if deadline.expired:
                raise TimeoutError("feed fetch past its deadline")
            super().connect()
            deadline.watch(self.sock)

    return type(pool_class.__name__, (pool_class,), {"ConnectionCls": WatchedConnection})


def _session_within(deadline: _Deadline) -> requests.Session:
    session = outbound_session()
    adapters = {id(adapter): adapter for adapter in session.adapters.values()}
    for adapter in adapters.values():
        manager: Any = getattr(adapter, "poolmanager", None)
        if manager is None:  # the policy changed its shape: fail loudly in tests rather than run unbounded
            raise RuntimeError("outbound_session() adapters have no poolmanager to watch")
        manager.pool_classes_by_scheme = {
            scheme: _watched_pool(pool_class, deadline) for scheme, pool_class in manager.pool_classes_by_scheme.items()
        }
    return session


def _validator(value: str | None) -> str:
    value = (value or "").strip()
    return value if len(value) <= MAX_VALIDATOR and value.isascii() and value.isprintable() else ""


def _too_large(max_bytes: int) -> _FetchFailed:
    return _FetchFailed(
        _("订阅内容超过 %(size)s 上限，本次未读取。请确认订阅地址，或减少每页条目数。") % {"size": _size(max_bytes)}
    )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def _http_failure(code: int) -> _FetchFailed:
    if code in (401, 403):
        reason = _("对方拒绝访问")
    elif code in (404, 410):
        reason = _("订阅地址不存在或已删除")
    elif code == 429:
        reason = _("请求过于频繁，被对方限流")
    elif code >= 500:
        reason = _("对方服务器出错")
    else:
        reason = _("不是可读取的订阅")
    transient = code in (408, 425, 429) or code >= 500
    return _FetchFailed(
        _("对方返回 HTTP %(code)s（%(reason)s）。") % {"code": code, "reason": reason}, transient=transient
    )


def _get(
    session: requests.Session, transfer: _Transfer, headers: dict[str, str], timeout: float, deadline: _Deadline
) -> requests.Response:
    """GET, following at most MAX_REDIRECTS redirects to http(s) addresses (each connection checked
    by the outbound policy)."""
    seen = {transfer.url}
    for hop in range(MAX_REDIRECTS + 1):
        wait = min(timeout, deadline.remaining())
        response = session.get(transfer.url, headers=headers, timeout=(wait, wait), stream=True, allow_redirects=False)
        transfer.http_status = response.status_code
        target = session.get_redirect_target(response)
        if not target:
            return response
        response.close()
        if hop == MAX_REDIRECTS:
            raise _FetchFailed(_("重定向超过 %(n)s 次，已停止。请改用最终的订阅地址。") % {"n": MAX_REDIRECTS})
        location = urljoin(transfer.url, target)
        try:
            location = http_url_check(location, field="url")
        except DomainError as exc:
            raise _FetchFailed(_("重定向到了不能读取的地址：%(why)s") % {"why": exc.message}) from exc
        if location in seen:
            raise _FetchFailed(_("重定向形成循环（%(url)s），已停止。") % {"url": location[:200]})
        seen.add(location)
        transfer.url = location
    raise AssertionError("unreachable")


def _read_body(response: requests.Response, transfer: _Transfer, max_bytes: int, deadline: _Deadline) -> bytes:
    length = response.headers.get("Content-Length", "").strip()
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes)
    transfer.reading = True
    body = bytearray()
    for chunk in response.iter_content(chunk_size=64 * 1024):
        body += chunk
        transfer.bytes_read = len(body)
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
        if deadline.expired:
            break
    if deadline.expired:  # a shut-down socket can look like the end of a body without a length
        raise TimeoutError("feed fetch past its deadline")
    return bytes(body)


def _network_failure(exc: BaseException, transfer: _Transfer, deadline: _Deadline, timeout: float) -> _FetchFailed:
    blocked = outbound_failure(exc) if _is_blocked(exc) else ""
    if blocked:
        return _FetchFailed(blocked)
    if not transfer.reading:  # no answer to read yet: say the same for refused, reset and silent
        return _FetchFailed(outbound_failure(exc), transient=True)
    if deadline.expired or isinstance(exc, requests.Timeout | TimeoutError):
        return _FetchFailed(
            _("对方在 %(seconds)s 秒内没有发完订阅内容（响应过慢），本次未读取。") % {"seconds": f"{2 * timeout:g}"},
            transient=True,
        )
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return _FetchFailed(_("对方返回的压缩内容无法解压，本次未读取。"))
    return _FetchFailed(_("读取订阅内容时连接中断，本次未读取。"), transient=True)


def _is_blocked(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OutboundBlocked):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def feed_fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float = 10.0,
    max_bytes: int = MAX_FEED_BYTES,
) -> FetchResult:
    """Fetch and read one feed. A conditional GET with the stored validators (304 → not_modified);
    never raises. See the module docstring for the bounds on time and size."""
    started = time.monotonic()
    transfer = _Transfer(url=(url or "").strip())
    deadline = _Deadline(2 * timeout)
    try:
        result = _fetch(
            transfer, etag=etag, last_modified=last_modified, timeout=timeout, max_bytes=max_bytes, deadline=deadline
        )
    except _FetchFailed as exc:
        result = FetchResult("failed", etag=etag, last_modified=last_modified, error=exc.error, transient=exc.transient)
    except Exception:  # a bug must not stop the poller's batch; it is logged with its traceback
        logger.exception("feed fetch of %s failed unexpectedly", transfer.url[:200])
        error = _("读取订阅时发生意外错误，已记录在系统日志中，请联系运维。")
        result = FetchResult("failed", etag=etag, last_modified=last_modified, error=error, transient=True)
    finally:
        deadline.cancel()
    result.http_status = transfer.http_status
    result.bytes_read = transfer.bytes_read
    result.final_url = transfer.url
    result.elapsed_ms = round((time.monotonic() - started) * 1000)
    return result


def _fetch(
    transfer: _Transfer, *, etag: str, last_modified: str, timeout: float, max_bytes: int, deadline: _Deadline
) -> FetchResult:
    try:
        transfer.url = http_url_check(transfer.url, field="url")
    except DomainError as exc:
        raise _FetchFailed(str(exc.message)) from exc
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if _validator(etag):
        headers["If-None-Match"] = _validator(etag)
    if _validator(last_modified):
        headers["If-Modified-Since"] = _validator(last_modified)
    try:
        with _session_within(deadline) as session, _get(session, transfer, headers, timeout, deadline) as response:
            code = response.status_code
            if code == 304:
                return FetchResult(
                    "not_modified",
                    etag=_validator(response.headers.get("ETag")) or etag,
                    last_modified=_validator(response.headers.get("Last-Modified")) or last_modified,
                )
            if not 200 <= code < 300:
                raise _http_failure(code)
            body = _read_body(response, transfer, max_bytes, deadline)
            content_type = response.headers.get("Content-Type", "")
            new_etag = _validator(response.headers.get("ETag"))
            new_last_modified = _validator(response.headers.get("Last-Modified"))
    except (requests.RequestException, OutboundBlocked, OSError) as exc:
        raise _network_failure(exc, transfer, deadline, timeout) from exc
    items, skipped, error = feed_parse(body, content_type=content_type, base_url=transfer.url)
    if error:
        raise _FetchFailed(error)
    return FetchResult("ok", items, skipped, etag=new_etag, last_modified=new_last_modified)


def feed_retry_delay(interval: timedelta, failures: int) -> timedelta:
    """How long to wait before fetching a source again after `failures` consecutive failures.

    0 failures: the interval. Then doubling from it (× 2, × 4, × 8 …) up to 6 hours; a source whose
    own interval is longer than that keeps its interval. An interval under a minute counts as a
    minute. Deterministic: no jitter (sources are spread by their own next_fetch_at).
    """
    base = max(interval, MIN_RETRY_DELAY)
    ceiling = max(base, MAX_RETRY_DELAY)
    delay = base
    for _failure in range(max(0, failures)):
        if delay >= ceiling:
            break
        delay *= 2
    return min(delay, ceiling)


# --- reading


class _PlainText(HTMLParser):
    """Text of an HTML fragment: tags removed, entities decoded, script and style dropped with their
    content, block elements as line breaks."""

    DROPPED = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg", "head"})
    BLOCKS = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "tr", "table", "blockquote", "section", "article", "pre", "hr"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "dd", "dt", "dl", "figure", "figcaption"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.DROPPED:
            self.dropping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.DROPPED:
            self.dropping = max(0, self.dropping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(data)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # PostgreSQL refuses NUL; the rest is noise
_SPACES = re.compile(r"[^\S\n]+")
_ALL_SPACES = re.compile(r"\s+")


def _plain_text(value: str) -> str:
    """Plain text, lines kept, spaces collapsed, empty lines dropped."""
    if not value:
        return ""
    if "<" in value or "&" in value:
        parser = _PlainText()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    value = _CONTROL.sub("", value)
    lines = (_SPACES.sub(" ", line).strip() for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def _plain_line(value: str) -> str:
    return _ALL_SPACES.sub(" ", _plain_text(value)).strip()


_ZONELESS_DATE = re.compile(
    r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?\s*$"
)


def _date(raw: str, parsed: Any) -> datetime | None:
    match = _ZONELESS_DATE.match(raw or "")
    try:
        if match:
            y, mo, d, h, mi, s = (int(part or 0) for part in match.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=SOURCE_ZONE).astimezone(UTC)
        if parsed:
            year, month, day, hour, minute, second = parsed[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        pass
    return None


def _published_at(entry: dict[str, Any], now: datetime) -> datetime | None:
    for key in ("published", "updated", "created"):
        # dict.get: FeedParserDict.get("updated") falls back to "published" with a DeprecationWarning.
        value = _date(dict.get(entry, key, ""), dict.get(entry, f"{key}_parsed"))
        if value is not None:
            # A date ahead of now would sort the item above everything for days: treat it as unknown.
            return value if value <= now + FUTURE_TOLERANCE else None
    return None


def _entry_text(entry: Mapping[str, Any]) -> str:
    sources = [part.get("value", "") for part in entry.get("content", []) or []]
    sources.append(entry.get("summary", ""))
    return max((_plain_text(source) for source in sources if source), key=len, default="")


def _hash_id(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def _external_id(guid: str, link: str, title: str, text: str) -> str:
    value = guid or link or _hash_id(f"{title}\n{text}")
    return value if len(value) <= MAX_EXTERNAL_ID else _hash_id(value)


def _web_url(link: str) -> str:
    try:
        return http_url_check(link, field="url")
    except DomainError:
        return ""


def _joined(base_url: str, link: str) -> str:
    try:
        return urljoin(base_url, link) if base_url and link else link
    except ValueError:
        return link


def _link_scheme(link: str) -> str:
    try:
        return urlsplit(link).scheme.lower()
    except ValueError:
        return "?"


_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?\sencoding\s*=", re.IGNORECASE)
_HTML_PAGE = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=", re.IGNORECASE)


def _undeclared_gb18030(content: bytes, content_type: str) -> bytes:
    """Many Chinese sites serve GBK with no charset anywhere; feedparser would then guess a Western
    encoding. Undeclared, not UTF-8 and valid GB18030 (a superset of GBK): transcoded to UTF-8."""
    if _CHARSET.search(content_type) or content.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content
    if _XML_ENCODING.match(content[:500]):
        return content
    try:
        content.decode("utf-8")
        return content
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError:
        return content


def feed_parse(
    content: bytes, *, content_type: str = "", base_url: str = ""
) -> tuple[list[FeedItem], list[tuple[str, str]], str]:
    """The items of a feed, the entries skipped with the reason, and an error when this is not a
    feed at all (empty, a web page, garbage). A malformed feed that can still be read yields what
    it can. The charset of `content_type` and the XML declaration are honoured; relative links are
    resolved against `base_url`. At most MAX_FEED_ENTRIES entries are read.

    Entries skipped: no title and no text; a link that is not a web address (javascript:, data:
    …); the same id as an earlier entry. A web link that fails http_url_check is dropped (url "")."""
    if not content.strip():
        return [], [], _("内容为空，没有可读取的订阅。")
    # No content-location: feedparser would resolve ids against it, and an id must not change when
    # the feed's address does. Links are resolved below.
    headers = {"content-type": content_type} if content_type else {}
    content = _undeclared_gb18030(content, content_type)
    # A file-like object: feedparser opens a bytes or str argument as a file name or URL if it can.
    try:
        parsed = feedparser.parse(io.BytesIO(content), response_headers=headers, sanitize_html=True)
    except Exception:  # whatever a hostile document does to the parser, it is not a feed we can read
        logger.warning("feedparser failed on a %s-byte document", len(content), exc_info=True)
        return [], [], _("内容无法识别为 RSS 或 Atom 订阅。")
    if not parsed.get("version") and not parsed.entries:
        if content_type.lower().startswith("text/html") or _HTML_PAGE.search(content[:4096]):
            return [], [], _("这是一个网页，不是 RSS 或 Atom 订阅。请改用网页上“RSS 订阅”链接指向的地址。")
        return [], [], _("内容无法识别为 RSS 或 Atom 订阅。")

    now = timezone.now()
    items: list[FeedItem] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    entries = parsed.entries
    for position, entry in enumerate(entries[:MAX_FEED_ENTRIES], start=1):
        guid = _CONTROL.sub("", str(entry.get("id") or "")).strip()
        label = guid[:100] or _("第 %(n)s 条") % {"n": position}
        link = _CONTROL.sub("", str(entry.get("link") or "")).strip()
        scheme = _link_scheme(link)
        # A link element may be relative to the feed; an RSS guid standing in for a link may not.
        url = _web_url(_joined(base_url, link) if entry.get("links") else link)
        if scheme and scheme not in ("http", "https"):
            skipped.append((label, _("链接不是网页地址（%(link)s），已跳过。") % {"link": link[:80]}))
            continue
        title = _plain_line(entry.get("title", ""))[:MAX_TITLE]
        text = _entry_text(entry)
        if not title and not text:
            skipped.append((label, _("没有标题也没有正文，已跳过。")))
            continue
        truncated = len(text) > MAX_ITEM_TEXT
        text = text[:MAX_ITEM_TEXT]
        external_id = _external_id(guid, link, title, text)
        if external_id in seen:
            skipped.append((label, _("与本订阅中前面的条目重复，只读取一次。")))
            continue
        seen.add(external_id)
        items.append(
            FeedItem(
                external_id=external_id,
                url=url,
                title=title,
                text=text,
                author=_plain_line(entry.get("author", ""))[:MAX_AUTHOR],
                published_at=_published_at(entry, now),
                truncated=truncated,
            )
        )
    if len(entries) > MAX_FEED_ENTRIES:
        rest = _("第 %(first)s–%(last)s 条") % {"first": MAX_FEED_ENTRIES + 1, "last": len(entries)}
        skipped.append((rest, _("每次最多读取 %(n)s 条，其余未读取。") % {"n": MAX_FEED_ENTRIES}))
    return items, skipped, ""
