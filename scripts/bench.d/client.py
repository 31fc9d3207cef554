#!/usr/bin/env python3
"""HTTP/1.1 clients for scripts/bench that wrk cannot play.

  client.py fixed --port P --path /small --requests N --conns C
      Sends exactly N GET requests over C keep-alive connections (one request in flight per
      connection) and checks every response is a 200. Used by the callgrind scenario.

  client.py idle --port P --path /small --conns N --pids "PID ..." [--warmup W]
      Sends W warm-up requests, reads the summed VmRSS of PIDS, then opens N connections, sends
      one request on each, reads the response and keeps the connection open and idle; reads
      VmRSS again and prints "rss_before_kb=.. rss_after_kb=.. conns=.. bytes_per_conn=..".
"""
import argparse
import resource
import socket
import sys
import threading
import time


def request_bytes(path, port):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: portico-bench\r\n\r\n".encode()


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("connection closed by peer")
        self.buf += chunk

    def exchange(self, request):
        """Sends one request and reads its response; returns the status code."""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding":
                raise ValueError("chunked responses are not expected from the bench upstream")
        if length is None:
            raise ValueError("response without Content-Length")
        while len(self.buf) < length:
            self._fill()
        self.buf = self.buf[length:]
        return status

    def close(self):
        self.sock.close()


def fixed(args):
    request = request_bytes(args.path, args.port)
    counts = [args.requests // args.conns + (1 if i < args.requests % args.conns else 0)
              for i in range(args.conns)]
    failures = []

    def worker(count):
        try:
            conn = Connection(args.port)
            for _ in range(count):
                status = conn.exchange(request)
                if status != 200:
                    failures.append(f"status {status}")
                    return
            conn.close()
        except Exception as error:  # reported below; the bench must not count a failed run
            failures.append(repr(error))

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(c,)) for c in counts if c > 0]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if failures:
        print(f"client: {len(failures)} connection(s) failed: {failures[0]}", file=sys.stderr)
        return 1
    print(f"requests={args.requests} seconds={elapsed:.2f}")
    return 0


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def idle(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.conns + 64 > hard:
        print(f"client: open-file limit {hard} is too low for {args.conns} connections", file=sys.stderr)
        return 1
    pids = args.pids.split()
    request = request_bytes(args.path, args.port)
    warm = Connection(args.port)
    for _ in range(args.warmup):
        warm.exchange(request)
    warm.close()
    time.sleep(args.settle)
    before = rss_kb(pids)
    conns = []
    for i in range(args.conns):
        try:
            conn = Connection(args.port)
            status = conn.exchange(request)
        except Exception as error:
            print(f"client: connection {i} failed: {error!r}", file=sys.stderr)
            return 1
        if status != 200:
            print(f"client: connection {i} got status {status}", file=sys.stderr)
            return 1
        conns.append(conn)
    time.sleep(args.settle)
    after = rss_kb(pids)
    per_conn = (after - before) * 1024 / args.conns
    print(f"rss_before_kb={before} rss_after_kb={after} conns={args.conns} bytes_per_conn={per_conn:.0f}")
    for conn in conns:
        conn.close()
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("fixed")
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--path", default="/small")
    f.add_argument("--requests", type=int, required=True)
    f.add_argument("--conns", type=int, default=8)
    i = sub.add_parser("idle")
    i.add_argument("--port", type=int, required=True)
    i.add_argument("--path", default="/small")
    i.add_argument("--conns", type=int, default=10000)
    i.add_argument("--pids", required=True)
    i.add_argument("--warmup", type=int, default=200)
    i.add_argument("--settle", type=float, default=1.0)
    args = parser.parse_args()
    return fixed(args) if args.mode == "fixed" else idle(args)


if __name__ == "__main__":
    sys.exit(main())
