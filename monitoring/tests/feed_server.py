"""A local feed server for tests and the bench: fixture feeds with ETag/Last-Modified (304 when
they match) and the misbehaving servers a feed reader meets.

    with feed_server() as server:
        feed_fetch(server.url("rss2.xml"))
        server.requests[-1].if_none_match

Paths:
  /<fixture>                 a file of monitoring/tests/fixtures/feeds/; `?type=` overrides its Content-Type
  (anything added)           `server.add(path, body, content_type)` serves a body built by the test
  /status/<code>             that status (429 and 503 with Retry-After)
  /slow?seconds=N&file=F     waits N seconds before answering with fixture F (rss2.xml)
  /trickle?every=0.5&seconds=60&head=0   a feed, one byte every `every` seconds (`head=1`: the
                             status line and headers too)
  /huge?bytes=N&length=1     an endless-looking feed of N bytes (6 MiB); `length=1` announces its size
  /redirect?to=U&hops=N&code=302  N redirects, the last one to U
  /redirect-loop             redirects to itself

It listens on 127.0.0.1 on a free port: the outbound policy refuses loopback unless the test
allows it (override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.0/8"])). Sleeping handlers wake
up when the server stops, so leaving the block is immediate.
"""

import hashlib
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"

CONTENT_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}

HUGE_DEFAULT = 6 * 1024 * 1024
FEED_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>示范区教育局</title>'
    "<link>https://edu.example.cn/</link><description>通知公告</description>\n"
).encode()
FEED_ITEM = (
    "<item><title>关于规范中小学食堂收费的通知</title><link>https://edu.example.cn/tzgg/{n}.html</link>"
    "<guid>https://edu.example.cn/tzgg/{n}.html</guid><description>各学校食堂收费须公示，接受家长监督。</description></item>\n"
)
FEED_TAIL = b"</channel></rss>\n"


@dataclass(frozen=True)
class LoggedRequest:
    path: str  # with the query string
    if_none_match: str
    if_modified_since: str
    user_agent: str


@dataclass(frozen=True)
class Document:
    body: bytes
    content_type: str
    etag: str
    last_modified: str


def document(body: bytes, content_type: str, modified: float | None = None) -> Document:
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    return Document(body, content_type, etag, formatdate(modified, usegmt=True))


class FeedServer:
    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.requests: list[LoggedRequest] = []
        self.documents: dict[str, Document] = {}
        self.stopping = threading.Event()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def add(self, path: str, body: bytes, content_type: str = "application/rss+xml; charset=utf-8") -> str:
        """Serve `body` at `path` (replacing what was there, with a new ETag); returns its URL."""
        self.documents["/" + path.lstrip("/")] = document(body, content_type)
        return self.url(path)

    def lookup(self, path: str) -> Document | None:
        path = "/" + path.lstrip("/")
        if path in self.documents:
            return self.documents[path]
        file = (FIXTURES / path.lstrip("/")).resolve()
        if file.parent != FIXTURES or not file.is_file():
            return None
        content_type = (
            CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        return document(file.read_bytes(), content_type, file.stat().st_mtime)


class FeedHandler(BaseHTTPRequestHandler):
    server: Any  # a ThreadingHTTPServer carrying `.feeds`
    error_message_format = "%(code)d %(message)s\n"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read server.requests instead

    @property
    def feeds(self) -> FeedServer:
        return self.server.feeds

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        self.feeds.requests.append(
            LoggedRequest(
                path=self.path,
                if_none_match=self.headers.get("If-None-Match", ""),
                if_modified_since=self.headers.get("If-Modified-Since", ""),
                user_agent=self.headers.get("User-Agent", ""),
            )
        )
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        path = parts.path
        with suppress(ConnectionError):  # the client gave up (a fetch past its deadline, a size limit)
            if path.startswith("/status/"):
                self.status(int(path.removeprefix("/status/") or 500))
            elif path == "/slow":
                if not self.feeds.stopping.wait(float(query.get("seconds", "5"))):
                    self.serve(path, self.feeds.lookup(query.get("file", "rss2.xml")), query)
            elif path == "/trickle":
                every, seconds = float(query.get("every", "0.5")), float(query.get("seconds", "60"))
                self.trickle(every, seconds, head=query.get("head") == "1")
            elif path == "/huge":
                self.huge(int(query.get("bytes", HUGE_DEFAULT)), announce=query.get("length") == "1")
            elif path == "/redirect":
                self.redirect(query.get("to", "/rss2.xml"), int(query.get("hops", "1")), int(query.get("code", "302")))
            elif path == "/redirect-loop":
                self.redirect("/redirect-loop", 1, 302)
            else:
                self.serve(path, self.feeds.lookup(path), query)

    def status(self, code: int) -> None:
        body = f"status {code}\n".encode()
        self.send_response(code)
        if code in (429, 503):
            self.send_header("Retry-After", "120")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def serve(self, path: str, doc: Document | None, query: dict[str, str]) -> None:
        if doc is None:
            self.status(404)
            return
        if self.unchanged(doc):
            self.send_response(304)
            self.send_header("ETag", doc.etag)
            self.send_header("Last-Modified", doc.last_modified)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", query.get("type", doc.content_type))
        self.send_header("Content-Length", str(len(doc.body)))
        self.send_header("ETag", doc.etag)
        self.send_header("Last-Modified", doc.last_modified)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(doc.body)

    def unchanged(self, doc: Document) -> bool:
        """RFC 9110: If-None-Match decides when present, else If-Modified-Since."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
            return "*" in tags or doc.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if not if_modified_since:
            return False
        try:
            return parsedate_to_datetime(doc.last_modified) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False

    def trickle(self, every: float, seconds: float, *, head: bool) -> None:
        body = FEED_HEAD + FEED_ITEM.format(n=1).encode() + FEED_TAIL
        if head:
            body = b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n\r\n" + body
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.end_headers()
        for i in range(max(1, int(seconds / every))):
            self.wfile.write(body[i % len(body) : i % len(body) + 1])
            if self.feeds.stopping.wait(every):
                return

    def huge(self, size: int, *, announce: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        if announce:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        block = b"".join(FEED_ITEM.format(n=n).encode() for n in range(300))
        sent = 0
        self.wfile.write(FEED_HEAD)
        sent += len(FEED_HEAD)
        while sent < size and not self.feeds.stopping.is_set():
            chunk = block[: size - sent]
            self.wfile.write(chunk)
            sent += len(chunk)

    def redirect(self, to: str, hops: int, code: int) -> None:
        location = to if hops <= 1 else f"/redirect?hops={hops - 1}&code={code}&to={quote(to, safe='')}"
        self.send_response(code)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    feeds: FeedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-answer is what half of these paths are for


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    """A started server; stopped (and every sleeping handler woken) when the block ends."""
    httpd = _QuietServer(("127.0.0.1", 0), FeedHandler)
    server = FeedServer(httpd)
    httpd.feeds = server
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
