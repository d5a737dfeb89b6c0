"""Starts a real redis-server and the redis-gateway binary on free loopback ports for the SDK tests,
and stops both by PID afterwards."""
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FULL_TOKEN = "sdk-full-token"
READONLY_TOKEN = "sdk-readonly-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not come up within {seconds} s")


@pytest.fixture(scope="session")
def gateway_url():
    binary = Path(os.environ.get("GATEWAY_BINARY", ROOT / ".build/debug/redis-gateway"))
    assert binary.exists(), f"build the gateway first: {binary} is missing"
    redis_port, gateway_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="sdk-test-")
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
    )
    gateway = None
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", redis_port), timeout=1).close() is None, "redis-server")
        env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", GATEWAY_PORT=str(gateway_port),
                   GATEWAY_TOKENS=FULL_TOKEN, GATEWAY_READONLY_TOKENS=READONLY_TOKEN, GATEWAY_LOG_LEVEL="warning")
        gateway = subprocess.Popen([str(binary)], env=env)
        url = f"http://127.0.0.1:{gateway_port}"
        wait_until(lambda: urllib.request.urlopen(f"{url}/healthz", timeout=1).status == 200, "redis-gateway")
        yield url
    finally:
        for process in (gateway, redis):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
