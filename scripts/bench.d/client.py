#!/usr/bin/env python3
"""HTTP/1.1 clients for scripts/bench that wrk cannot play.

  client.py fixed --port P --path /small --requests N --conns C [--accept 200,429]
      Sends exactly N GET requests over C keep-alive connections (one request in flight per
      connection) and checks every response has an accepted status (default 200). Used by the
      callgrind and ratelimit scenarios.

  client.py idle --port P --path /small --conns N --pids "PID ..." [--batch B] [--warmup W]
      Sends W warm-up requests over one connection, reads the summed VmRSS of PIDS, then opens
      N connections B at a time: each batch of B connections sends its B requests before any
      response is read (so B requests are in flight at once and the proxy's upstream pool
      grows to about B), then reads the B responses; every connection stays open and idle.
      Reads VmRSS again and prints "rss_before_kb=.. rss_after_kb=.. conns=.. batch=..
      upstream_conns=.. bytes_per_conn=.."; upstream_conns counts the established connections
      to --upstream-port (-1 without it), i.e. the proxy's upstream pool.
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
        return self.read_response()

    def read_response(self):
        """Reads one response (Content-Length framed); returns the status code."""
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
    accepted = {int(s) for s in args.accept.split(",")}

    def worker(count):
        try:
            conn = Connection(args.port)
            for _ in range(count):
                status = conn.exchange(request)
                if status not in accepted:
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


def established_to(port):
    """Established TCP connections on this host whose remote port is `port` (IPv4 loopback)."""
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[3] == "01" and int(fields[2].split(":")[1], 16) == port:
                count += 1
    return count


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
    for start in range(0, args.conns, args.batch):
        batch = []
        for i in range(start, min(start + args.batch, args.conns)):
            try:
                conn = Connection(args.port)
                conn.sock.sendall(request)
            except Exception as error:
                print(f"client: connection {i} failed: {error!r}", file=sys.stderr)
                return 1
            batch.append(conn)
        for offset, conn in enumerate(batch):
            try:
                status = conn.read_response()
            except Exception as error:
                print(f"client: connection {start + offset} failed: {error!r}", file=sys.stderr)
                return 1
            if status != 200:
                print(f"client: connection {start + offset} got status {status}", file=sys.stderr)
                return 1
        conns.extend(batch)
    time.sleep(args.settle)
    after = rss_kb(pids)
    upstream = established_to(args.upstream_port) if args.upstream_port else -1
    per_conn = (after - before) * 1024 / args.conns
    print(f"rss_before_kb={before} rss_after_kb={after} conns={args.conns} batch={args.batch} "
          f"upstream_conns={upstream} bytes_per_conn={per_conn:.0f}")
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
    f.add_argument("--accept", default="200")
    i = sub.add_parser("idle")
    i.add_argument("--port", type=int, required=True)
    i.add_argument("--path", default="/small")
    i.add_argument("--conns", type=int, default=10000)
    i.add_argument("--pids", required=True)
    i.add_argument("--batch", type=int, default=200)
    i.add_argument("--upstream-port", type=int, default=0)
    i.add_argument("--warmup", type=int, default=200)
    i.add_argument("--settle", type=float, default=1.0)
    args = parser.parse_args()
    return fixed(args) if args.mode == "fixed" else idle(args)


if __name__ == "__main__":
    sys.exit(main())
