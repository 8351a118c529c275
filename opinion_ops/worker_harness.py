"""What the worker integration test and bench/deadlines.py share: real processes started in a
session of their own (so a worker and its pool children die together) and a chat-robot stand-in
that records each message's idempotency key and arrival time."""

import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class WebhookSink(BaseHTTPRequestHandler):
    received: list[tuple[str, float]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with WebhookSink.lock:
            WebhookSink.received.append((self.headers.get("X-Idempotency-Key", ""), time.time()))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def process_start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle, start_new_session=True)  # noqa: S603


def process_stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Signal the whole session; SIGKILL whatever is still alive after `timeout` seconds."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
