"""A real browser as the caller: Debian's chromium, headless, loads a page from another origin (a
second loopback port) that reads and writes through the gateway with a read-only and a full token
and opens an EventSource; the page posts what it saw back to its own server, which this test reads.

The gateway runs with GATEWAY_CORS_ORIGINS naming PAGE_ORIGIN (conftest.py); a second page server on
another port is an origin it does not name, whose page must be refused."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import FULL_TOKEN, READONLY_TOKEN, TLS, page_port

PAGE = (Path(__file__).parent / "browser" / "page.html").read_bytes()


class PageServer:
    """Serves the page on `port` and keeps the first result the page posts."""

    def __init__(self, port: int):
        self.result = None
        self.arrived = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.result = json.loads(body)
                owner.arrived.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *arguments):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is missing: bash scripts/setup.sh chromium"
    return found


def what_the_page_saw(gateway_url: str, port: int) -> dict:
    """Loads the page from 127.0.0.1:`port` in headless chromium; the page's report (30 s at most)."""
    pages = PageServer(port)
    key = "browser-" + uuid.uuid4().hex[:8]
    url = (f"http://127.0.0.1:{port}/page.html?gateway={quote(gateway_url)}&key={key}"
           f"&full={FULL_TOKEN}&readonly={READONLY_TOKEN}")
    profile = tempfile.mkdtemp(prefix="gateway-chromium-")
    browser = subprocess.Popen(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={profile}", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert pages.arrived.wait(30), "the page never reported"
        return pages.result
    finally:
        os.killpg(browser.pid, signal.SIGKILL)  # the browser and its helpers, by process group
        browser.wait()
        pages.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.skipif(TLS, reason="the page's origin is plain HTTP; the TLS pass runs the SDK and SSE files only")
def test_a_page_on_an_allowed_origin_reads_writes_and_streams(gateway_url):
    seen = what_the_page_saw(gateway_url, page_port())
    assert seen["write"]["status"] == 200 and seen["write"]["body"] == {"result": "OK"}, seen
    assert seen["write"]["syncToken"], "upstash-sync-token is exposed to the page"
    assert seen["read"]["body"] == {"result": "from-the-page"}, seen
    # A refusal is readable too: the page sees the 403 and its JSON error, not a CORS failure.
    assert seen["readOnlyWrite"]["status"] == 403 and "error" in seen["readOnlyWrite"]["body"], seen
    assert seen["cacheRead"]["status"] == 200 and seen["cacheRead"]["etag"].startswith('"'), seen
    assert seen["event"] == {"data": f"message,{seen['cacheRead']['body']['key']},hello-page"}, seen


@pytest.mark.skipif(TLS, reason="the page's origin is plain HTTP; the TLS pass runs the SDK and SSE files only")
def test_a_page_on_another_origin_is_refused(gateway_url):
    from conftest import free_port
    seen = what_the_page_saw(gateway_url, free_port())
    assert "blocked" in seen["write"], seen
    assert "blocked" in seen["read"], seen
    assert "event" not in seen
