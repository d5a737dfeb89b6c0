"""Starts a real Redis (or Valkey) server and the redis-gateway binary on free loopback ports for the
SDK tests, and stops both by PID afterwards.

REDIS_SERVER_BIN names the server binary (default `redis-server`; `scripts/test.sh` also runs the
suite against Valkey's `valkey-server`)."""
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


def stop(process: subprocess.Popen) -> None:
    """SIGTERM by PID, then SIGKILL if it has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def server_command(port: int, *arguments: str) -> str:
    """One command straight to the server (not through the gateway), its reply as redis-cli prints it."""
    return subprocess.run(["redis-cli", "-p", str(port), *arguments], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="session")
def server():
    """The Redis or Valkey server under test: its port, name and version."""
    binary = os.environ.get("REDIS_SERVER_BIN", "redis-server")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="sdk-test-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, binary)
        wait_until(lambda: "PONG" in server_command(port, "PING"), f"{binary} PING")
        info = server_command(port, "INFO", "server")
        name = "valkey" if "valkey_version" in info else "redis"
        version = next(line.split(":", 1)[1].strip() for line in info.splitlines()
                       if line.startswith(f"{name}_version:"))
        yield {"port": port, "name": name, "version": version}
    finally:
        stop(process)


@pytest.fixture(scope="session")
def gateway_url(server):
    binary = Path(os.environ.get("GATEWAY_BINARY", ROOT / ".build/debug/redis-gateway"))
    assert binary.exists(), f"build the gateway first: {binary} is missing"
    redis_port, gateway_port = server["port"], free_port()
    gateway = None
    try:
        env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", GATEWAY_PORT=str(gateway_port),
                   GATEWAY_TOKENS=FULL_TOKEN, GATEWAY_READONLY_TOKENS=READONLY_TOKEN, GATEWAY_LOG_LEVEL="warning",
                   GATEWAY_DATABASE_PATH=os.path.join(tempfile.mkdtemp(prefix="sdk-gateway-"), "users.sqlite"))
        gateway = subprocess.Popen([str(binary)], env=env)
        url = f"http://127.0.0.1:{gateway_port}"
        wait_until(lambda: urllib.request.urlopen(f"{url}/healthz", timeout=1).status == 200, "redis-gateway")
        yield url
    finally:
        if gateway is not None:
            stop(gateway)


@pytest.fixture
def redis(gateway_url):
    """The official SDK's client against the gateway, with a full-access token."""
    from upstash_redis import Redis
    client = Redis(url=gateway_url, token=FULL_TOKEN, rest_retries=0)
    yield client
    client.close()
