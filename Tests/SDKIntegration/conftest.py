"""Starts a real Redis (or Valkey) server and the redis-gateway binary on free loopback ports for the
SDK tests, and stops both by PID afterwards.

REDIS_SERVER_BIN names the server binary (default `redis-server`; `scripts/test.sh` also runs the
suite against Valkey's `valkey-server`). REDIS_TOPOLOGY=cluster starts a Redis Cluster instead (3
primaries, 3 replicas, joined with `redis-cli --cluster create`) and points the gateway at it
through `redis+cluster://`. GATEWAY_TEST_TLS=1 puts TLS on both sides: the server also listens on
a TLS port that the gateway reaches through `rediss://`, and the gateway serves HTTPS, which the
SDK (httpx) and the event-stream client trust through SSL_CERT_FILE (certificates made here with
the openssl CLI). The gateway allows one browser origin (GATEWAY_CORS_ORIGINS, the port `page_port()`
gives, used by test_browser.py), so every SDK test also runs with CORS on."""
import os
import random
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


HANDED_OUT: set = set()


def free_port() -> int:
    """A bindable port below the kernel's ephemeral range (which outgoing connections may take at any
    moment), never the same twice; as LoopbackPort.free() does for the Swift tests."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_start = int(f.read().split()[0])
    while True:
        port = random.randrange(10_000, max(11_000, ephemeral_start))
        if port in HANDED_OUT:
            continue
        HANDED_OUT.add(port)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


_PAGE_PORT = []


def page_port() -> int:
    """The port of the one browser origin the gateway allows (chosen once per session)."""
    if not _PAGE_PORT:
        _PAGE_PORT.append(free_port())
    return _PAGE_PORT[0]


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


TLS = os.environ.get("GATEWAY_TEST_TLS") == "1"


def certificates() -> dict:
    """A CA and a certificate it signed for localhost and 127.0.0.1 (made once): their paths."""
    global _CERTIFICATES
    if _CERTIFICATES is None:
        directory = tempfile.mkdtemp(prefix="sdk-tls-")
        key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        Path(directory, "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        for arguments in (
            ["req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=sdk test CA"],
            ["req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "30", "-extfile", "server.ext"],
        ):
            subprocess.run(["openssl", *arguments], cwd=directory, check=True, capture_output=True)
        _CERTIFICATES = {"ca": os.path.join(directory, "ca.crt"), "server": os.path.join(directory, "server.crt"),
                         "key": os.path.join(directory, "server.key")}
    return _CERTIFICATES


_CERTIFICATES = None


def start_node(binary: str, *extra: str):
    """One server process on a free port: (process, port); with TLS also a TLS port, in
    NODE_TLS_PORTS[port]."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="sdk-test-")
    secure = []
    if TLS:
        files = certificates()
        NODE_TLS_PORTS[port] = free_port()
        secure = ["--tls-port", str(NODE_TLS_PORTS[port]), "--tls-cert-file", files["server"],
                  "--tls-key-file", files["key"], "--tls-ca-cert-file", files["ca"], "--tls-auth-clients", "no"]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--daemonize", "no", *secure, *extra],
        stdout=subprocess.DEVNULL,
    )
    wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, binary)
    wait_until(lambda: "PONG" in server_command(port, "PING"), f"{binary} PING")
    return process, port


def start_cluster(binary: str, processes: list) -> list:
    """Six cluster nodes joined as 3 primaries with a replica each; their ports."""
    ports = []
    for _ in range(6):
        process, port = start_node(binary, "--cluster-enabled", "yes", "--cluster-node-timeout", "1000",
                                   "--cluster-port", str(free_port()))
        processes.append(process)
        ports.append(port)
    subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{port}" for port in ports],
                    "--cluster-replicas", "1", "--cluster-yes"], check=True, capture_output=True)
    wait_until(lambda: all("cluster_state:ok" in server_command(port, "CLUSTER", "INFO") for port in ports),
               "the cluster", seconds=30)
    return ports


NODE_TLS_PORTS: dict = {}


@pytest.fixture(scope="session")
def server():
    """The Redis or Valkey server under test: its port (a cluster: the first node's), name, version
    and the gateway's REDIS_URL."""
    binary = os.environ.get("REDIS_SERVER_BIN", "redis-server")
    processes = []
    try:
        if os.environ.get("REDIS_TOPOLOGY") == "cluster":
            ports = start_cluster(binary, processes)
            port = ports[0]
            url = f"redis+cluster://127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}/"
        else:
            process, port = start_node(binary)
            processes.append(process)
            url = f"rediss://127.0.0.1:{NODE_TLS_PORTS[port]}/0" if TLS else f"redis://127.0.0.1:{port}/0"
        info = server_command(port, "INFO", "server")
        name = "valkey" if "valkey_version" in info else "redis"
        version = next(line.split(":", 1)[1].strip() for line in info.splitlines()
                       if line.startswith(f"{name}_version:"))
        yield {"port": port, "name": name, "version": version, "url": url,
               "cluster": os.environ.get("REDIS_TOPOLOGY") == "cluster"}
    finally:
        for process in processes:
            stop(process)


@pytest.fixture(scope="session")
def gateway_url(server):
    binary = Path(os.environ.get("GATEWAY_BINARY", ROOT / ".build/debug/redis-gateway"))
    assert binary.exists(), f"build the gateway first: {binary} is missing"
    gateway_port = free_port()
    gateway = None
    try:
        env = dict(os.environ, REDIS_URL=server["url"], GATEWAY_PORT=str(gateway_port),
                   GATEWAY_CORS_ORIGINS=f"http://127.0.0.1:{page_port()}",
                   GATEWAY_TOKENS=FULL_TOKEN, GATEWAY_READONLY_TOKENS=READONLY_TOKEN, GATEWAY_LOG_LEVEL="warning",
                   GATEWAY_DATABASE_PATH=os.path.join(tempfile.mkdtemp(prefix="sdk-gateway-"), "users.sqlite"))
        url = f"http://127.0.0.1:{gateway_port}"
        if TLS:
            files = certificates()
            env.update(GATEWAY_REDIS_TLS_CA_FILE=files["ca"], GATEWAY_TLS_CERT_FILE=files["server"],
                       GATEWAY_TLS_KEY_FILE=files["key"])
            # httpx (the SDK, httpx-sse) and urllib trust the test CA through SSL_CERT_FILE.
            os.environ["SSL_CERT_FILE"] = files["ca"]
            url = f"https://localhost:{gateway_port}"
        gateway = subprocess.Popen([str(binary)], env=env)
        wait_until(lambda: urllib.request.urlopen(f"{url}/readyz", timeout=1).status == 200, "redis-gateway")
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
