#!/usr/bin/env python3
"""The Python upstream of scripts/soak: errors, slow answers, large and chunked bodies,
a cut body, and a flaky server. One thread per connection, keep-alive.

Usage: soak_upstream.py MAIN_PORT FLAKY_PORT

MAIN_PORT
  GET  /status/N        status N, body {"server":"py","status":N}
  GET  /slow/MS         sleeps MS ms, then 200 {"server":"py","slept":MS}
  GET  /bytes/N/OFF     200 with PATTERN[OFF:OFF+N]; with ?chunked=1 in random chunks
  POST|PUT /mirror      200 with the request body as it arrived (Content-Length)
  GET  /cut/N           200 with Content-Length N+4096, then N bytes, then closes
  GET  /healthz         200
FLAKY_PORT, any request: 30% 503 {"server":"flaky","status":503}, 15% a reset before any
byte of a response, else 200 {"server":"flaky","bodyBytes":N}; after one 200 in ten
the connection is closed without notice (the gateway must see it and never reuse it).
"""
import json
import random
import socket
import socketserver
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, __import__("os").path.dirname(__file__))
from soak_http import PATTERN, Closed, Malformed, Reader, Truncated, chunked  # noqa: E402

rng_lock = threading.Lock()
rng = random.Random(7)


def draw():
    with rng_lock:
        return rng.random()


def respond(sock, status, body, content_type="application/json", extra=b"", chunk_rng=None):
    reason = {200: "OK", 500: "Internal Server Error", 502: "Bad Gateway",
              503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Status")
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n" % (status, reason.encode(), content_type.encode())
    if chunk_rng is not None:
        sock.sendall(head + extra + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body, chunk_rng))
    else:
        sock.sendall(head + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Handler(socketserver.BaseRequestHandler):
    flaky = False

    def handle(self):
        sock = self.request
        sock.settimeout(300)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = Reader(sock)
        local_rng = random.Random()
        try:
            while True:
                try:
                    line, fields = reader.read_head()
                except Closed:
                    return
                method, target, _ = line.split(" ", 2)
                body = reader.read_body(fields)
                if self.flaky:
                    if not self.serve_flaky(sock, body):
                        return
                elif not self.serve_main(sock, method, target, body, local_rng):
                    return
        except (OSError, Truncated, Malformed, ValueError):
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def serve_flaky(self, sock, body):
        r = draw()
        if r < 0.30:
            respond(sock, 503, b'{"server":"flaky","status":503}')
            return True
        if r < 0.45:
            reset(sock)
            return False
        respond(sock, 200, json.dumps({"server": "flaky", "bodyBytes": len(body)}).encode())
        return draw() >= 0.1  # else: close without notice

    def serve_main(self, sock, method, target, body, local_rng):
        path, _, query = target.partition("?")
        parts = path.strip("/").split("/")
        if parts[0] == "status":
            status = int(parts[1])
            respond(sock, status, json.dumps({"server": "py", "status": status}).encode())
        elif parts[0] == "slow":
            ms = int(parts[1])
            time.sleep(ms / 1000)
            respond(sock, 200, json.dumps({"server": "py", "slept": ms}).encode())
        elif parts[0] == "bytes":
            n, off = int(parts[1]), int(parts[2])
            respond(sock, 200, PATTERN[off : off + n], "application/octet-stream",
                    chunk_rng=local_rng if "chunked=1" in query else None)
        elif parts[0] == "mirror" and method in ("POST", "PUT"):
            respond(sock, 200, body, "application/octet-stream")
        elif parts[0] == "cut":
            n = int(parts[1])
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % (n + 4096))
            time.sleep(0.05)  # the head goes out on its own, then the short body
            sock.sendall(PATTERN[:n])
            time.sleep(0.05)
            return False
        elif parts[0] == "healthz":
            respond(sock, 200, b"ok", "text/plain")
        else:
            respond(sock, 404, b'{"server":"py","status":404}')
        return True


class FlakyHandler(Handler):
    flaky = True


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 256


def main():
    main_port, flaky_port = int(sys.argv[1]), int(sys.argv[2])
    servers = [Server(("127.0.0.1", main_port), Handler), Server(("127.0.0.1", flaky_port), FlakyHandler)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
