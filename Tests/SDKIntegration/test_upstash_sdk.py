"""The official Python SDK (upstash-redis, base64 encoding on as by default) against a running
redis-gateway: the SDK is the real client of the Upstash-compatible API."""
import uuid

import pytest
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from conftest import FULL_TOKEN, READONLY_TOKEN


@pytest.fixture
def key():
    return f"sdk:{uuid.uuid4().hex[:12]}"


def test_strings(redis, key):
    assert redis.set(key, "héllo ✓") is True
    assert redis.get(key) == "héllo ✓"
    assert redis.set(key, "x", nx=True) is False  # the SDK maps a nil reply to False
    assert redis.incr(f"{key}:n") == 1
    assert redis.incrby(f"{key}:n", 41) == 42
    assert redis.mset({f"{key}:a": "1", f"{key}:b": "2"}) is True
    assert redis.mget(f"{key}:a", f"{key}:b", f"{key}:missing") == ["1", "2", None]
    assert redis.append(key, "!") == len("héllo ✓!".encode())
    assert redis.strlen(key) == len("héllo ✓!".encode())


def test_hashes(redis, key):
    assert redis.hset(key, values={"f1": "v1", "f2": "v2"}) == 2
    assert redis.hget(key, "f1") == "v1"
    assert redis.hgetall(key) == {"f1": "v1", "f2": "v2"}
    assert redis.hincrby(key, "n", 5) == 5
    assert sorted(redis.hkeys(key)) == ["f1", "f2", "n"]


def test_lists_and_sets(redis, key):
    assert redis.rpush(key, "a", "b", "c") == 3
    assert redis.lrange(key, 0, -1) == ["a", "b", "c"]
    assert redis.lpop(key) == "a"
    assert redis.sadd(f"{key}:s", "x", "y", "x") == 2
    assert sorted(redis.smembers(f"{key}:s")) == ["x", "y"]
    assert redis.sismember(f"{key}:s", "y") == 1


def test_sorted_sets(redis, key):
    assert redis.zadd(key, {"a": 1.5, "b": 2.25}) == 2
    assert redis.zscore(key, "b") == 2.25
    assert redis.zrange(key, 0, -1, withscores=True) == [("a", 1.5), ("b", 2.25)]
    assert redis.zincrby(key, 1, "a") == 2.5


def test_expiry(redis, key):
    redis.set(key, "v", ex=100)
    assert 90 <= redis.ttl(key) <= 100
    assert redis.persist(key) == 1
    assert redis.ttl(key) == -1
    assert redis.expire(key, 50) == 1
    assert 40 <= redis.ttl(key) <= 50
    assert redis.delete(key) == 1
    assert redis.exists(key) == 0


def test_scan(redis, key):
    for index in range(30):
        redis.set(f"{key}:{index}", str(index))
    cursor, found = 0, set()
    while True:
        cursor, keys = redis.scan(cursor, match=f"{key}:*", count=10)
        found.update(keys)
        if cursor == 0:
            break
    assert found == {f"{key}:{index}" for index in range(30)}


def test_pipeline(redis, key):
    pipeline = redis.pipeline()
    pipeline.set(key, "1")
    pipeline.incr(key)
    pipeline.get(key)
    pipeline.hset(f"{key}:h", "f", "v")
    assert pipeline.exec() == [True, 2, "2", 1]


def test_multi_exec(redis, key):
    transaction = redis.multi()
    transaction.set(key, "10")
    transaction.decrby(key, 3)
    transaction.get(key)
    assert transaction.exec() == [True, 7, "7"]


def test_scripts(redis, key):
    script = "return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[1])}"
    assert redis.eval(script, keys=[key], args=["5"]) == [key, "5", 5]
    sha = redis.script_load(script)
    assert redis.evalsha(sha, keys=[key], args=["2"]) == [key, "2", 7]
    assert redis.script_exists(sha) == [1]


def test_custom_command_and_errors(redis, key):
    assert redis.execute(["XADD", key, "*", "field", "value"]).count("-") == 1
    assert redis.execute(["XLEN", key]) == 1
    with pytest.raises(UpstashError, match="WRONGTYPE"):
        redis.incr(key)
    with pytest.raises(UpstashError, match="NOPERM"):
        redis.execute(["FLUSHALL"])


def test_read_only_token(gateway_url, redis, key):
    redis.set(key, "v")
    reader = Redis(url=gateway_url, token=READONLY_TOKEN, rest_retries=0)
    try:
        assert reader.get(key) == "v"
        with pytest.raises(UpstashError, match="NOPERM"):
            reader.set(key, "other")
    finally:
        reader.close()
    assert redis.get(key) == "v"


def test_wrong_token(gateway_url):
    client = Redis(url=gateway_url, token="wrong", rest_retries=0)
    try:
        with pytest.raises(UpstashError, match="WRONGPASS"):
            client.get("anything")
    finally:
        client.close()
