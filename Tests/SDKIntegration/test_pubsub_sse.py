"""Event streams read by a standards-following SSE client (httpx-sse parses by the Server-Sent
Events rules: `data:` lines joined with newlines, `event:` names, comments skipped), while the
official SDK publishes: what an `EventSource` in a browser or a serverless function would see."""
import threading

import httpx
from httpx_sse import connect_sse

from conftest import READONLY_TOKEN


def first_events(url, path, count, token=READONLY_TOKEN, on_open=None, headers=None):
    """Opens the stream, calls `on_open` once the first event (the subscription) arrived, and
    returns the first `count` events as (event name, data)."""
    events = []
    with httpx.Client(timeout=10) as client:
        with connect_sse(client, "GET", url + path,
                         headers={"Authorization": f"Bearer {token}", **(headers or {})}) as source:
            assert source.response.status_code == 200
            assert source.response.headers["content-type"] == "text/event-stream"
            for event in source.iter_sse():
                events.append((event.event, event.data))
                if len(events) == 1 and on_open:
                    threading.Thread(target=on_open).start()
                if len(events) == count:
                    return events
    return events


def test_messages_arrive_whole_for_an_sse_client(gateway_url, redis):
    def publish():
        redis.publish("sse-news", "first line\nsecond line")
        redis.publish("sse-news", '{"json":"as the SDK sends it"}')

    events = first_events(gateway_url, "/subscribe/sse-news", 3, on_open=publish)
    assert events == [
        ("message", "subscribe,sse-news,1"),
        ("message", "message,sse-news,first line\nsecond line"),
        ("message", 'message,sse-news,{"json":"as the SDK sends it"}'),
    ]


def test_patterns_and_base64(gateway_url, redis):
    def publish():
        redis.publish("sse-p.one", "a\r\nb")

    events = first_events(gateway_url, "/psubscribe/sse-p.*", 2, on_open=publish,
                          headers={"Upstash-Encoding": "base64"})
    # base64 of the pattern, the channel and the payload: the exact bytes, \r\n included.
    assert events == [("message", "psubscribe,c3NlLXAuKg==,1"), ("message", "pmessage,c3NlLXAuKg==,c3NlLXAub25l,YQ0KYg==")]


def test_tokens_are_checked(gateway_url):
    response = httpx.get(gateway_url + "/subscribe/anything", headers={"Accept": "text/event-stream"})
    assert response.status_code == 401
    assert "error" in response.json()
