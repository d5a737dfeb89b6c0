"""Commands newer than Redis 7.0 pass through the gateway and render like any other: tested where
the server has them (Valkey 9.1 has hash-field expiry). Where the server does not list a command
name, the gateway refuses it before sending (400, `ERR unknown command 'NAME'` as Redis words it);
where the name exists but an argument is new (`BITOP DIFF` on 7.0), the server's own error reaches
the client unchanged. Skipped by name, with the reason, never silently."""
import json
import urllib.request
import uuid

import pytest

from conftest import FULL_TOKEN, server_command

HASH_FIELD_EXPIRY = ["HSETEX", "HGETEX", "HEXPIRE", "HTTL", "HPERSIST", "HGETDEL"]


def has(server, command: str) -> bool:
    return server_command(server["port"], "COMMAND", "INFO", command).strip() != ""


def raw(gateway_url: str, command: list) -> tuple:
    """POST / without the SDK: the status and the JSON body exactly as the gateway sent them."""
    request = urllib.request.Request(gateway_url + "/", data=json.dumps(command).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {FULL_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_hash_field_expiry(redis, gateway_url, server):
    missing = [name for name in HASH_FIELD_EXPIRY if not has(server, name)]
    if missing:
        for name in missing:
            status, body = raw(gateway_url, [name, "k"])
            assert status == 400 and body["error"].lower().startswith(f"err unknown command '{name.lower()}'"), body
        pytest.skip(f"{server['name']} {server['version']} lacks {', '.join(missing)}: refused as unknown, never sent")
    key = f"hfe:{uuid.uuid4().hex[:12]}"
    assert redis.execute(["HSETEX", key, "EX", "100", "FIELDS", "2", "f", "v", "g", "w"]) == 1
    assert redis.execute(["HTTL", key, "FIELDS", "2", "f", "missing"])[1] == -2
    assert 0 < redis.execute(["HTTL", key, "FIELDS", "1", "f"])[0] <= 100
    assert redis.execute(["HGETEX", key, "PERSIST", "FIELDS", "1", "f"]) == ["v"]
    assert redis.execute(["HTTL", key, "FIELDS", "1", "f"]) == [-1]
    assert redis.execute(["HEXPIRE", key, "50", "FIELDS", "1", "f"]) == [1]
    assert redis.execute(["HPERSIST", key, "FIELDS", "1", "f"]) == [1]
    assert redis.execute(["HGETDEL", key, "FIELDS", "1", "g"]) == ["w"]
    assert redis.hgetall(key) == {"f": "v"}


@pytest.mark.parametrize("command", [["XACKDEL", "s", "g", "IDS", "1", "0-1"], ["XDELEX", "s", "IDS", "1", "0-1"],
                                     ["BITOP", "DIFF", "d", "a", "b"], ["BITOP", "ONE", "d", "a", "b"]])
def test_commands_the_server_may_lack_are_refused_or_answer_with_its_own_error(gateway_url, server, command):
    direct = server_command(server["port"], *command).rstrip("\n")
    status, body = raw(gateway_url, command)
    if not direct.startswith("ERR"):
        assert status == 200, body  # the server has it: it passed through
        pytest.skip(f"{server['name']} {server['version']} has {' '.join(command[:2])}")
    assert status == 400
    if not has(server, command[0]):
        # A name the server does not list is never sent: the gateway answers as Redis would word it.
        assert body["error"].startswith(f"ERR unknown command '{command[0]}'"), body
        assert "does not list it" in body["error"], body
    else:
        assert body == {"error": direct}, "the server's error, unchanged"
