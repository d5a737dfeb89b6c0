"""The official rate-limit library (upstash-ratelimit 1.2.0, on upstash-redis), unchanged, against
redis-gateway: its Lua scripts start with `#!lua flags=allow-key-locking`, a flag only Upstash's own
server knows; the gateway removes it before Redis or Valkey sees the script.

Version 1.2.0 of the Python library sends EVAL on every call (one round trip per `limit`, no
EVALSHA) and has no `reset_used_tokens`; the counts below check exactly that."""
import asyncio
import time
import uuid

import pytest
from upstash_ratelimit import FixedWindow, Ratelimit, SlidingWindow, TokenBucket
from upstash_ratelimit.asyncio import Ratelimit as AsyncRatelimit
from upstash_redis.asyncio import Redis as AsyncRedis

from conftest import FULL_TOKEN, server_command

LIMITERS = {
    "fixed_window": lambda: FixedWindow(max_requests=5, window=60),
    "sliding_window": lambda: SlidingWindow(max_requests=5, window=60),
    "token_bucket": lambda: TokenBucket(max_tokens=5, refill_rate=1, interval=60),
}


def evals(port: int) -> int:
    """EVAL and EVALSHA calls the server counted so far."""
    stats = server_command(port, "INFO", "commandstats")
    total = 0
    for line in stats.splitlines():
        if line.startswith(("cmdstat_eval:", "cmdstat_evalsha:")):
            total += int(line.split("calls=")[1].split(",")[0])
    return total


@pytest.fixture
def prefix():
    return f"rl:{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("name", LIMITERS)
def test_limit_allows_exactly_the_limit_with_one_round_trip_per_call(redis, server, prefix, name):
    ratelimit = Ratelimit(redis=redis, limiter=LIMITERS[name](), prefix=prefix)
    before = evals(server["port"])
    responses = [ratelimit.limit("user") for _ in range(8)]
    assert [r.allowed for r in responses] == [True] * 5 + [False] * 3
    assert [r.remaining for r in responses[:5]] == [4, 3, 2, 1, 0]
    assert all(r.limit == 5 for r in responses)
    assert evals(server["port"]) - before == 8, "one script call per limit()"
    assert ratelimit.get_remaining("user") == 0
    assert ratelimit.get_reset("user") > time.time()
    assert ratelimit.limit("someone-else").allowed, "identifiers are limited apart"


@pytest.mark.parametrize("name", LIMITERS)
def test_the_async_client_counts_the_same(gateway_url, server, prefix, name):
    async def run():
        client = AsyncRedis(url=gateway_url, token=FULL_TOKEN, rest_retries=0)
        try:
            ratelimit = AsyncRatelimit(redis=client, limiter=LIMITERS[name](), prefix=prefix)
            before = evals(server["port"])
            allowed = [(await ratelimit.limit("user")).allowed for _ in range(7)]
            assert allowed == [True] * 5 + [False] * 2
            assert evals(server["port"]) - before == 7
            assert await ratelimit.get_remaining("user") == 0
            assert await ratelimit.get_reset("user") > time.time()
        finally:
            await client.close()

    asyncio.run(run())


def test_block_until_ready_waits_for_the_next_window(redis, prefix):
    ratelimit = Ratelimit(redis=redis, limiter=FixedWindow(max_requests=1, window=1), prefix=prefix)
    assert ratelimit.limit("user").allowed
    started = time.monotonic()
    response = ratelimit.block_until_ready("user", timeout=5)
    assert response.allowed
    assert time.monotonic() - started < 2.5, "allowed in the next one-second window"
    blocked = Ratelimit(redis=redis, limiter=FixedWindow(max_requests=1, window=60), prefix=f"{prefix}:b")
    assert blocked.limit("user").allowed
    assert not blocked.block_until_ready("user", timeout=0.3).allowed, "gives up at its timeout"


def test_async_block_until_ready(gateway_url, prefix):
    async def run():
        client = AsyncRedis(url=gateway_url, token=FULL_TOKEN, rest_retries=0)
        try:
            ratelimit = AsyncRatelimit(redis=client, limiter=SlidingWindow(max_requests=1, window=1), prefix=prefix)
            assert (await ratelimit.limit("user")).allowed
            assert (await ratelimit.block_until_ready("user", timeout=5)).allowed
        finally:
            await client.close()

    asyncio.run(run())
