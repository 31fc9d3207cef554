#!/usr/bin/env python3
"""Clients for scripts/adversarial: the well-behaved victim, the attackers and a large-body
upstream. Each subcommand runs as its own process (so one client's Python work never
delays another's timing) and prints one JSON object on stdout when it ends.

  victim       keep-alive and new-connection clients sending paced GETs until SIGTERM;
               every answer must be a 200 whose echoed path is the one asked for
  slowloris    request heads dribbled one header line at a time, never finished
  slowbody     POST bodies trickled (faster than idleMs) or stalled (R-U-D-Y)
  slowread     GETs of a large response with a tiny receive window, never read
  flood        silent connections held open, many more than limits.maxConnections
  pipeline     batches of pipelined requests, then a half-close, a close or a reset
  bigupstream  an HTTP/1.1 keep-alive upstream answering GET /big with a multi-MiB body

Standard library only.
"""
import argparse
import collections
import errno
import heapq
import json
import os
import random
import resource
import selectors
import signal
import socket
import struct
import sys
import threading
import time

now = time.monotonic


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def percentiles(values):
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)

    def pick(q):
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"n": len(ordered), "p50": pick(0.50), "p99": pick(0.99), "max": ordered[-1]}


# ----------------------------------------------------------------------------------------
# Response parsing


def parse_head(data):
    """(status, {lowercase name: value}, body start) or None while the head is incomplete."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = data[:end].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"bad status line {lines[0][:80]!r}")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return int(parts[1]), fields, end + 4


def split_responses(data):
    """Complete Content-Length responses at the start of data: ([(status, fields, body)], rest)."""
    out = []
    while True:
        head = parse_head(data)
        if head is None:
            return out, data
        status, fields, start = head
        if "content-length" not in fields:
            raise ValueError("response without Content-Length")
        length = int(fields["content-length"])
        if len(data) < start + length:
            return out, data
        out.append((status, fields, data[start:start + length]))
        data = data[start + length:]


class Reader:
    """Blocking response reader over one socket. Every response it reads (the echo server's
    and the gateway's own errors) has a Content-Length; any other framing is a failure."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.received = 0

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("closed")
        self.received += len(chunk)
        self.buf += chunk

    def response(self):
        while (head := parse_head(self.buf)) is None:
            try:
                self.fill()
            except EOFError:
                raise EOFError("closed before a response head" if not self.buf else
                               "closed in the middle of a response head") from None
        status, fields, start = head
        self.buf = self.buf[start:]
        if "content-length" not in fields:
            raise ValueError(f"status {status} without Content-Length")
        length = int(fields["content-length"])
        while len(self.buf) < length:
            try:
                self.fill()
            except EOFError:
                raise EOFError("closed in the middle of a response body") from None
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, fields, body


# ----------------------------------------------------------------------------------------
# victim


def cmd_victim(args):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lock = threading.Lock()
    results = {
        "keepalive": {"ok": 0, "lat": [], "fail": collections.Counter()},
        "new": {"ok": 0, "lat": [], "fail": collections.Counter(), "refused": 0},
    }
    examples = []
    started = now()

    def failure(kind, what, detail):
        with lock:
            results[kind]["fail"][what] += 1
            if len(examples) < 8:
                examples.append(f"{kind} t={now() - started:.2f}s {what}: {detail}")

    def check(kind, path, status, fields, body, elapsed):
        if status != 200:
            failure(kind, f"status {status}",
                    f"{path} -> {status} {fields.get('x-gateway-error', '')}")
        elif f'"path":"{path}"'.encode() not in body:
            failure(kind, "wrong body", f"{path} -> {body[:120]!r}")
        else:
            with lock:
                results[kind]["ok"] += 1
                results[kind]["lat"].append(elapsed * 1000)

    def keepalive(index):
        sock = reader = None
        n = 0
        while not stop.is_set():
            if sock is None:
                try:
                    sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    reader = Reader(sock)
                except OSError as error:
                    failure("keepalive", "connect failed", repr(error))
                    time.sleep(0.1)
                    continue
            n += 1
            path = f"/victim/ka{index}/{n}"
            t0 = now()
            try:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: victim\r\n\r\n".encode())
                status, fields, body = reader.response()
            except (OSError, EOFError, ValueError) as error:
                failure("keepalive", type(error).__name__, f"{path}: {error}")
                sock.close()
                sock = None
                continue
            check("keepalive", path, status, fields, body, now() - t0)
            if fields.get("connection", "").lower() == "close":
                failure("keepalive", "closed by gateway", path)
                sock.close()
                sock = None
            time.sleep(args.ka_interval)
        if sock:
            sock.close()

    def fresh(index):
        n = 0
        while not stop.is_set():
            n += 1
            path = f"/victim/new{index}/{n}"
            t0 = now()
            try:
                sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
            except OSError as error:
                failure("new", "connect failed", repr(error))
                time.sleep(args.fresh_interval)
                continue
            reader = Reader(sock)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: victim\r\nConnection: close\r\n\r\n".encode())
                status, fields, body = reader.response()
                check("new", path, status, fields, body, now() - t0)
            except (OSError, EOFError, ValueError) as error:
                # Closed (or reset) right after accept, before any byte: what the gateway
                # does to a connection over limits.maxConnections.
                refused = reader.received == 0 and isinstance(error, (ConnectionResetError, EOFError))
                if refused and args.refusal_expected:
                    with lock:
                        results["new"]["refused"] += 1
                else:
                    failure("new", type(error).__name__, f"{path}: {error}")
            finally:
                sock.close()
            time.sleep(args.fresh_interval)

    threads = [threading.Thread(target=keepalive, args=(i,)) for i in range(args.keepalive)]
    threads += [threading.Thread(target=fresh, args=(i,)) for i in range(args.fresh)]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.2)
    for t in threads:
        t.join()
    out = {"seconds": now() - started, "examples": examples}
    for kind, r in results.items():
        out[kind] = {"ok": r["ok"], "failures": sum(r["fail"].values()),
                     "failureKinds": dict(r["fail"]), "latencyMs": percentiles(r["lat"])}
        if "refused" in r:
            out[kind]["refusedAtLimit"] = r["refused"]
    out["all"] = {"latencyMs": percentiles(results["keepalive"]["lat"] + results["new"]["lat"])}
    print(json.dumps(out))


# ----------------------------------------------------------------------------------------
# Event-driven engine for the attackers that hold many connections


class Conn:
    __slots__ = ("sock", "id", "state", "t_open", "t_mark", "buf", "out", "data", "registered")

    def __init__(self, sock, ident):
        self.sock = sock
        self.id = ident
        self.state = "connecting"
        self.t_open = None
        self.t_mark = None
        self.buf = b""
        self.out = b""
        self.data = {}
        self.registered = 0


class Engine:
    """Keeps `target` connections to the gateway (opening at most `rate` a second), each
    driven by the handler's callbacks, for `duration` seconds."""

    def __init__(self, port, target, rate, duration, rcvbuf=None, connect_timeout=5.0):
        self.port = port
        self.target = target
        self.rate = rate
        self.duration = duration
        self.rcvbuf = rcvbuf
        self.connect_timeout = connect_timeout
        self.sel = selectors.DefaultSelector()
        self.conns = {}
        self.timers = []
        self.seq = 0
        self.opened = 0
        self.connect_failures = collections.Counter()
        self.max_open = 0

    def timer(self, c, delay, tag=None):
        self.seq += 1
        heapq.heappush(self.timers, (now() + delay, self.seq, c, tag))

    def _interest(self, c, read, write):
        mask = (selectors.EVENT_READ if read else 0) | (selectors.EVENT_WRITE if write else 0)
        if mask == c.registered:
            return
        if c.registered and mask:
            self.sel.modify(c.sock, mask, c)
        elif mask:
            self.sel.register(c.sock, mask, c)
        else:
            self.sel.unregister(c.sock)
        c.registered = mask

    def open_one(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if self.rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.opened += 1
        c = Conn(sock, self.opened)
        rc = sock.connect_ex(("127.0.0.1", self.port))
        if rc not in (0, errno.EINPROGRESS):
            self.connect_failures[errno.errorcode.get(rc, str(rc))] += 1
            sock.close()
            return
        self.conns[c.id] = c
        self._interest(c, False, True)
        self.timer(c, self.connect_timeout, "connect-timeout")

    def send(self, c, data):
        if c.state != "open":
            return
        c.out += data
        self._flush(c)

    def _flush(self, c):
        try:
            while c.out:
                n = c.sock.send(c.out)
                c.out = c.out[n:]
        except BlockingIOError:
            pass
        except OSError as error:
            self._drain_then_close(c, "reset" if isinstance(error, (BrokenPipeError, ConnectionResetError))
                                   else "error")
            return
        self._interest(c, self.handler.want_read, bool(c.out))

    def _drain_then_close(self, c, how):
        # What the gateway sent before closing may still wait in our receive buffer.
        try:
            while True:
                chunk = c.sock.recv(65536)
                if not chunk:
                    break
                c.buf += chunk
        except OSError:
            pass
        self.close(c, how)

    def close(self, c, how, notify=True):
        if c.state == "closed":
            return
        was_open = c.state == "open"
        c.state = "closed"
        if c.registered:
            self.sel.unregister(c.sock)
            c.registered = 0
        try:
            c.sock.close()
        except OSError:
            pass
        del self.conns[c.id]
        if notify and was_open:
            self.handler.on_close(c, how)

    def run(self, handler):
        self.handler = handler
        start = now()
        end = start + self.duration
        tokens = 1.0
        last = start
        while True:
            t = now()
            if t >= end:
                break
            tokens = min(tokens + (t - last) * self.rate, max(1.0, self.rate * 0.05))
            last = t
            while len(self.conns) < self.target and tokens >= 1:
                tokens -= 1
                self.open_one()
            self.max_open = max(self.max_open, len(self.conns))
            timeout = 0.02
            if self.timers:
                timeout = max(0.0, min(timeout, self.timers[0][0] - t))
            for key, mask in self.sel.select(timeout):
                c = key.data
                if c.state == "closed":
                    continue
                if c.state == "connecting":
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        self.connect_failures[errno.errorcode.get(err, str(err))] += 1
                        self.close(c, "connect-failed", notify=False)
                        continue
                    c.state = "open"
                    c.t_open = now()
                    self._interest(c, handler.want_read, False)
                    handler.on_open(c)
                    continue
                if mask & selectors.EVENT_WRITE:
                    self._flush(c)
                    if c.state == "closed":
                        continue
                if mask & selectors.EVENT_READ:
                    try:
                        chunk = c.sock.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError as error:
                        self.close(c, "reset" if isinstance(error, ConnectionResetError) else "error")
                        continue
                    if not chunk:
                        self.close(c, "eof")
                    else:
                        c.buf += chunk
                        handler.on_data(c)
            t = now()
            while self.timers and self.timers[0][0] <= t:
                _, _, c, tag = heapq.heappop(self.timers)
                if c.state == "closed":
                    continue
                if tag == "connect-timeout":
                    if c.state == "connecting":
                        self.connect_failures["timeout"] += 1
                        self.close(c, "connect-timeout", notify=False)
                    continue
                handler.on_timer(c, tag)
        for c in list(self.conns.values()):
            if c.state == "open":
                handler.at_end(c)
            self.close(c, "end", notify=False)


class Outcomes:
    def __init__(self):
        self.counts = collections.Counter()
        self.times = collections.defaultdict(list)
        self.anomalies = []
        self.anomaly_count = 0

    def add(self, what, elapsed=None):
        self.counts[what] += 1
        if elapsed is not None:
            self.times[what].append(elapsed * 1000)

    def anomaly(self, text):
        self.anomaly_count += 1
        if len(self.anomalies) < 8:
            self.anomalies.append(text)

    def report(self, opened, max_open, connect_failures, extra=None):
        out = {"opened": opened, "maxOpen": max_open, "connectFailures": dict(connect_failures),
               "outcomes": dict(self.counts),
               "timesMs": {k: percentiles(v) for k, v in self.times.items()},
               "anomalies": self.anomaly_count, "anomalyExamples": self.anomalies}
        out.update(extra or {})
        return out


def gateway_error(c):
    """(status, X-Gateway-Error, closes) of a complete response in c.buf, or None."""
    try:
        responses, _ = split_responses(c.buf)
    except ValueError:
        return None
    if not responses:
        return None
    status, fields, body = responses[0]
    return status, fields.get("x-gateway-error"), fields.get("connection", "").lower() == "close"


# ----------------------------------------------------------------------------------------
# slowloris


class Slowloris:
    """Sends a request line and Host, then one more header line every `interval` seconds,
    never the blank line that ends the head. Expected: 408 request_timeout with
    Connection: close about requestHeaderMs after connecting, then the close."""

    want_read = True

    def __init__(self, args, engine):
        self.args, self.engine, self.o = args, engine, Outcomes()

    def on_open(self, c):
        self.engine.send(c, f"GET /slowloris/{c.id} HTTP/1.1\r\nHost: attacker\r\n".encode())
        self.engine.timer(c, self.args.interval * random.uniform(0.5, 1.0))

    def on_timer(self, c, tag):
        self.engine.send(c, f"X-Slow-{random.randrange(1 << 30)}: {'a' * random.randrange(1, 16)}\r\n".encode())
        if c.state == "open":
            self.engine.timer(c, self.args.interval * random.uniform(0.5, 1.0))

    def on_data(self, c):
        pass

    def on_close(self, c, how):
        elapsed = now() - c.t_open
        answer = gateway_error(c)
        limit = self.args.header_ms / 1000
        if answer and answer[0] == 408 and answer[1] == "request_timeout" and answer[2]:
            self.o.add("408 request_timeout, then closed", elapsed)
            if not (limit - 0.05 <= elapsed <= limit + self.args.slack):
                self.o.anomaly(f"408 after {elapsed * 1000:.0f} ms (requestHeaderMs {self.args.header_ms})")
        elif answer:
            self.o.add(f"{answer[0]} {answer[1]}", elapsed)
            self.o.anomaly(f"answered {answer} after {elapsed * 1000:.0f} ms, expected 408 request_timeout")
        else:
            self.o.add(f"closed ({how}) without a response", elapsed)
            self.o.anomaly(f"closed ({how}) after {elapsed * 1000:.0f} ms without a 408: {c.buf[:60]!r}")

    def at_end(self, c):
        age = now() - c.t_open
        if age > self.args.header_ms / 1000 + self.args.slack:
            self.o.anomaly(f"still open after {age * 1000:.0f} ms (requestHeaderMs {self.args.header_ms})")
            self.o.add("still open past requestHeaderMs")
        else:
            self.o.add("in progress at the end")


# ----------------------------------------------------------------------------------------
# slow body (R-U-D-Y)


class SlowBody:
    """POST with Content-Length 1,000,000. Even connections trickle one byte every
    `interval` s (< idleMs, so only the route deadline ends them: 504 deadline_exceeded
    timeoutMs after the head); odd ones send 10 bytes and stall (408 request_timeout
    idleMs after the last byte)."""

    want_read = True

    def __init__(self, args, engine):
        self.args, self.engine, self.o = args, engine, Outcomes()

    def on_open(self, c):
        c.data["trickle"] = c.id % 2 == 0
        self.engine.send(c, (f"POST /slowbody/{c.id} HTTP/1.1\r\nHost: attacker\r\n"
                             f"Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n").encode())
        c.t_mark = now()  # head sent
        if c.data["trickle"]:
            self.engine.timer(c, self.args.interval)
        else:
            self.engine.send(c, b"0123456789")
            c.data["last"] = now()

    def on_timer(self, c, tag):
        self.engine.send(c, b"x")
        if c.state == "open":
            self.engine.timer(c, self.args.interval)

    def on_data(self, c):
        pass

    def on_close(self, c, how):
        answer = gateway_error(c)
        slack = self.args.slack
        if c.data["trickle"]:
            elapsed = now() - c.t_mark
            expect, limit = (504, "deadline_exceeded"), self.args.timeout_ms / 1000
            label = "trickle"
        else:
            elapsed = now() - c.data["last"]
            expect, limit = (408, "request_timeout"), self.args.idle_ms / 1000
            label = "stalled"
        if answer and (answer[0], answer[1]) == expect and answer[2]:
            self.o.add(f"{label}: {expect[0]} {expect[1]}, then closed", elapsed)
            if not (limit - 0.05 <= elapsed <= limit + slack):
                self.o.anomaly(f"{label}: {expect[0]} after {elapsed * 1000:.0f} ms, expected ~{limit * 1000:.0f}")
        elif answer:
            self.o.add(f"{label}: {answer[0]} {answer[1]}", elapsed)
            self.o.anomaly(f"{label}: answered {answer} after {elapsed * 1000:.0f} ms, expected {expect}")
        else:
            self.o.add(f"{label}: closed ({how}) without a response", elapsed)
            self.o.anomaly(f"{label}: closed ({how}) after {elapsed * 1000:.0f} ms without {expect}: {c.buf[:60]!r}")

    def at_end(self, c):
        trickle = c.data.get("trickle")
        age = now() - (c.t_mark if trickle else c.data.get("last", c.t_open))
        limit = (self.args.timeout_ms if trickle else self.args.idle_ms) / 1000
        if age > limit + self.args.slack:
            self.o.anomaly(f"{'trickle' if trickle else 'stalled'} still open after {age * 1000:.0f} ms")
            self.o.add("still open past its limit")
        else:
            self.o.add("in progress at the end")


# ----------------------------------------------------------------------------------------
# slow read


class SlowRead:
    """GET of a large body with a 4 KiB receive buffer, never read. The gateway must stop
    when its writes make no progress for idleMs and close the connection. After `hold`
    seconds the attacker reads what is left: a cut connection gives a truncated body and
    EOF (or a reset), never the whole body."""

    want_read = False

    def __init__(self, args, engine):
        self.args, self.engine, self.o = args, engine, Outcomes()

    def on_open(self, c):
        self.engine.send(c, f"GET {self.args.path}?c={c.id} HTTP/1.1\r\nHost: attacker\r\n\r\n".encode())
        self.engine.timer(c, self.args.hold)

    def on_timer(self, c, tag):
        self.drain(c)

    def drain(self, c):
        # Drain: everything still buffered (in our socket, or an orphaned gateway socket
        # that waits for our window), then EOF if the gateway cut us off.
        sock = c.sock
        sock.setblocking(True)
        sock.settimeout(1.0)
        total = 0
        how = "open"
        body_goal = None
        head = b""
        try:
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    how = "eof"
                    break
                if body_goal is None:
                    head += chunk
                    parsed = parse_head(head)
                    if parsed:
                        status, fields, start = parsed
                        body_goal = int(fields.get("content-length", "-1"))
                        c.data["status"] = status
                        total = len(head) - start
                        head = b""
                else:
                    total += len(chunk)
                if body_goal is not None and total >= body_goal:
                    how = "complete"
                    break
        except socket.timeout:
            how = "open"
        except ConnectionResetError:
            how = "reset"
        sock.setblocking(False)
        status = c.data.get("status")
        if how == "complete":
            self.o.add("whole body received: never cut off")
            self.o.anomaly(f"connection {c.id}: got the whole {body_goal}-byte body after holding {self.args.hold}s")
        elif how == "open":
            self.o.add("still open after the hold")
            self.o.anomaly(f"connection {c.id}: still open {self.args.hold}s after a stalled read (idleMs {self.args.idle_ms})")
        elif status is not None and status != 200:
            self.o.add(f"status {status}")
            self.o.anomaly(f"connection {c.id}: status {status}")
        else:
            self.o.add(f"cut off: truncated body, then {how}")
            self.o.times["bytes received before the cut (KiB)"].append(total / 1024)
        self.engine.close(c, "done", notify=False)

    def on_data(self, c):
        pass

    def on_close(self, c, how):
        self.o.add(f"closed ({how}) before the hold ended")

    def at_end(self, c):
        # Held long enough to have been cut off (idleMs after the stall, plus a second for
        # the buffers to fill): judge it now rather than leave it unjudged.
        if now() - c.t_open >= self.args.idle_ms / 1000 + self.args.slack:
            self.drain(c)
        else:
            self.o.add("in progress at the end")


# ----------------------------------------------------------------------------------------
# connection flood


class Flood:
    """Silent connections, `target` of them wanted at once (several times maxConnections),
    each reopened as soon as it closes. Expected: connections over the limit are closed
    right after accept with no byte sent; the others get 408 after requestHeaderMs."""

    want_read = True

    def __init__(self, args, engine):
        self.args, self.engine, self.o = args, engine, Outcomes()

    def on_open(self, c):
        pass

    def on_timer(self, c, tag):
        pass

    def on_data(self, c):
        pass

    def on_close(self, c, how):
        elapsed = now() - c.t_open
        answer = gateway_error(c)
        limit = self.args.header_ms / 1000
        if not c.buf:
            if elapsed < limit - 0.05:
                self.o.add(f"closed at once, no byte ({how})", elapsed)
            else:
                self.o.add(f"held, then closed without a 408 ({how})", elapsed)
        elif answer and answer[0] == 408 and answer[2]:
            self.o.add("held, then 408 request_timeout", elapsed)
            # requestHeaderMs runs from accept; with --late-accept a connection may wait
            # in the accept queue first (descriptors exhausted), so only the lower bound holds.
            late = self.args.late_accept and elapsed > limit
            if not (limit - 0.05 <= elapsed <= limit + self.args.slack) and not late:
                self.o.anomaly(f"408 after {elapsed * 1000:.0f} ms (requestHeaderMs {self.args.header_ms})")
        else:
            self.o.add(f"unexpected answer {answer}", elapsed)
            self.o.anomaly(f"after {elapsed * 1000:.0f} ms: {c.buf[:80]!r}")

    def at_end(self, c):
        age = now() - c.t_open
        if self.args.late_accept:
            self.o.add("in progress at the end")
        elif age > self.args.header_ms / 1000 + self.args.slack + 1.0:
            self.o.add("still open past requestHeaderMs")
            self.o.anomaly(f"still open after {age * 1000:.0f} ms")
        else:
            self.o.add("in progress at the end")


def cmd_engine(args, cls, rcvbuf=None):
    engine = Engine(args.port, args.conns, args.rate, args.duration, rcvbuf=rcvbuf)
    handler = cls(args, engine)
    engine.run(handler)
    print(json.dumps(handler.o.report(engine.opened, engine.max_open, engine.connect_failures)))


# ----------------------------------------------------------------------------------------
# pipelining


def cmd_pipeline(args):
    """Cycles through six ways of ending a batch of `depth` pipelined requests: read-all
    (every response, in order), half-close (shutdown(SHUT_WR) after the batch, then read to
    the end: whatever comes must be the batch's first responses, in order), close and reset
    (SO_LINGER 0) right after the batch, read-one-then-close, and big-then-close (4 large
    responses asked, 256 KiB read, then close)."""
    o = Outcomes()
    variants = ["read-all", "half-close", "close", "reset", "read-one-then-close", "big-then-close"]
    end = now() + args.duration
    n = 0
    served_half_close = []
    while now() < end:
        variant = variants[n % len(variants)]
        n += 1
        try:
            sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        except OSError as error:
            o.add(f"{variant}: connect failed")
            o.anomaly(f"connect failed: {error!r}")
            time.sleep(args.pause)
            continue
        depth = args.depth
        if variant == "big-then-close":
            batch = b"".join(f"GET {args.big_path}?b={n}.{i} HTTP/1.1\r\nHost: attacker\r\n\r\n".encode()
                             for i in range(4))
        else:
            batch = b"".join(f"GET /pipe/{n}/{i} HTTP/1.1\r\nHost: attacker\r\n\r\n".encode()
                             for i in range(depth))
        try:
            sock.sendall(batch)
            if variant in ("read-all", "half-close"):
                if variant == "half-close":
                    sock.shutdown(socket.SHUT_WR)
                data = b""
                responses = []
                closed = False
                while True:
                    try:
                        chunk = sock.recv(1 << 16)
                    except ConnectionResetError:
                        closed = "reset"
                        break
                    if not chunk:
                        closed = "eof"
                        break
                    data += chunk
                    got, data = split_responses(data)
                    responses += got
                    if variant == "read-all" and len(responses) == depth:
                        break
                bad = [i for i, (status, fields, body) in enumerate(responses)
                       if status != 200 or f'"path":"/pipe/{n}/{i}"'.encode() not in body]
                if bad:
                    o.add(f"{variant}: wrong or out-of-order response")
                    i = bad[0]
                    o.anomaly(f"{variant} batch {n}: response {i} is {responses[i][0]} "
                              f"{responses[i][2][:100]!r}, expected 200 for /pipe/{n}/{i}")
                elif variant == "read-all":
                    if len(responses) == depth:
                        o.add("read-all: every response, in order")
                    else:
                        o.add("read-all: connection closed early")
                        o.anomaly(f"read-all batch {n}: {len(responses)} of {depth} responses, then {closed}")
                else:
                    served_half_close.append(len(responses))
                    # The gateway treats a half-close as the client leaving (README, "Choices
                    # where the specification is silent"), so a response it was writing may
                    # be cut: counted, not an anomaly. A wrong or reordered one is.
                    cut = ", then a cut one" if data else ""
                    o.add(f"half-close: complete responses in order{cut}, then {closed}")
            elif variant == "reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                o.add("reset right after the batch")
            elif variant == "read-one-then-close":
                reader = Reader(sock)
                status, fields, body = reader.response()
                if status != 200 or f'"path":"/pipe/{n}/0"'.encode() not in body:
                    o.anomaly(f"read-one batch {n}: first response {status} {body[:80]!r}")
                o.add("read one response, then close")
            elif variant == "big-then-close":
                got = 0
                while got < 256 * 1024:
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        break
                    got += len(chunk)
                if got < 256 * 1024:
                    o.add("big responses: closed early")
                    o.anomaly(f"big-then-close batch {n}: the gateway closed after {got} bytes of 4 × /big")
                else:
                    o.add("big responses: 256 KiB read, then close")
            else:
                o.add("close right after the batch")
        except (OSError, ValueError, EOFError) as error:
            o.add(f"{variant}: {type(error).__name__}")
            o.anomaly(f"{variant} batch {n}: {error!r}")
        finally:
            sock.close()
        time.sleep(args.pause)
    extra = {"batches": n, "depth": args.depth, "halfCloseResponses": percentiles(served_half_close)}
    print(json.dumps(o.report(n, 1, {}, extra)))


# ----------------------------------------------------------------------------------------
# large-body upstream


def cmd_bigupstream(args):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    payload = memoryview(bytes(random.getrandbits(8) for _ in range(1024)) * (args.size // 1024))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            body = payload if self.path.startswith("/big") else memoryview(b'{"ok":true}')
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(0, len(body), 1 << 18):
                    self.wfile.write(body[i:i + (1 << 18)])
            except OSError:
                self.close_connection = True

    class Server(ThreadingHTTPServer):
        request_queue_size = 1024
        daemon_threads = True
        allow_reuse_address = True

        def handle_error(self, request, client_address):
            pass

    server = Server(("127.0.0.1", args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever()


def main():
    raise_nofile()
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("victim")
    v.add_argument("--port", type=int, required=True)
    v.add_argument("--keepalive", type=int, default=2)
    v.add_argument("--fresh", type=int, default=2)
    v.add_argument("--ka-interval", type=float, default=0.01)
    v.add_argument("--fresh-interval", type=float, default=0.02)
    v.add_argument("--refusal-expected", action="store_true",
                   help="count a new connection closed before any byte as refused at the limit")
    for name in ("slowloris", "slowbody", "slowread", "flood"):
        a = sub.add_parser(name)
        a.add_argument("--port", type=int, required=True)
        a.add_argument("--conns", type=int, required=True)
        a.add_argument("--rate", type=float, default=200)
        a.add_argument("--duration", type=float, required=True)
        a.add_argument("--interval", type=float, default=0.5)
        a.add_argument("--header-ms", type=int, default=2000)
        a.add_argument("--idle-ms", type=int, default=5000)
        a.add_argument("--timeout-ms", type=int, default=8000)
        a.add_argument("--slack", type=float, default=1.0, help="seconds allowed past a timeout")
        a.add_argument("--hold", type=float, default=8.0)
        a.add_argument("--path", default="/big")
        a.add_argument("--late-accept", action="store_true",
                       help="connections may wait in the accept queue: no upper bound on the 408")
    pl = sub.add_parser("pipeline")
    pl.add_argument("--port", type=int, required=True)
    pl.add_argument("--duration", type=float, required=True)
    pl.add_argument("--depth", type=int, default=64)
    pl.add_argument("--pause", type=float, default=0.02)
    pl.add_argument("--big-path", default="/big")
    b = sub.add_parser("bigupstream")
    b.add_argument("--port", type=int, required=True)
    b.add_argument("--size", type=int, default=16 << 20)
    args = p.parse_args()
    if args.cmd == "victim":
        cmd_victim(args)
    elif args.cmd == "slowloris":
        cmd_engine(args, Slowloris)
    elif args.cmd == "slowbody":
        cmd_engine(args, SlowBody)
    elif args.cmd == "slowread":
        cmd_engine(args, SlowRead, rcvbuf=4096)
    elif args.cmd == "flood":
        cmd_engine(args, Flood)
    elif args.cmd == "pipeline":
        cmd_pipeline(args)
    elif args.cmd == "bigupstream":
        cmd_bigupstream(args)


if __name__ == "__main__":
    main()
