"""Opens COUNT keep-alive HTTP connections to 127.0.0.1:PORT, sends one request on each and reads
its whole response (so the server has served it and the connection is idle, as an SDK's pooled
connection is between requests), touches FLAG, then holds them for HOLD_S seconds (or until killed).

Usage: python3 hold_connections.py PORT COUNT FLAG [PATH] [HOLD_S]
"""
import resource
import selectors
import socket
import sys
import time

port, count, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
path = sys.argv[4] if len(sys.argv) > 4 else "/healthz"
hold_s = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))

request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
selector = selectors.DefaultSelector()
held, pending = [], 0
deadline = time.monotonic() + 60
for index in range(count):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(request)
    sock.setblocking(False)
    selector.register(sock, selectors.EVENT_READ, bytearray())
    held.append(sock)
    pending += 1
    # Read answers as they come, 200 connections at a time, so the server's backlog never fills.
    while pending >= 200 or (index == count - 1 and pending > 0):
        if time.monotonic() > deadline:
            sys.exit(f"only {count - pending} of {count} answered within 60 s")
        for key, _ in selector.select(timeout=1):
            data = key.fileobj.recv(65536)
            if not data:
                sys.exit("the server closed a connection")
            key.data.extend(data)
            head, sep, rest = key.data.partition(b"\r\n\r\n")
            if not sep:
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) >= length:
                selector.unregister(key.fileobj)
                pending -= 1
open(flag, "w").close()
time.sleep(hold_s)
