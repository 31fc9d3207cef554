"""Fault-injecting fake upstreams for scripts/chaos (standard library only).

Every fake upstream is one listening port with one behaviour. They all run on one asyncio
loop in a process of their own (`serve`), driven by the orchestrator over a pipe: it can stop
a server's listener (and drop its connections, as a process that dies would) and start it
again, and ask for a report.

Each server keeps, per connection, whether a fault happened on it ("tainted"). A faulted
connection is kept open where the fault allows it (hang: never answered; garbage: left open;
close-after-head and trickles: only the write side is shut with FIN or the connection is
left open), and every byte that arrives on it afterwards is a request the gateway sent on a
connection it should have discarded: counted as a violation ("reused after a fault").

Healthy responses are `200` with `Content-Length`, no `Connection` field, and a body that
starts with `<X-Request-Id> <server name> ` so the client can check that each response is
the answer to its own request.
"""
import asyncio
import itertools
import os
import random
import socket
import struct
import time

LINGER_RESET = struct.pack("ii", 1, 0)
PAD = 1500            # healthy bodies carry 0..PAD bytes of padding, so sizes vary
MIXED_FAULTS = 0.25   # share of the mixed servers' requests that meet a fault
# Orders the attempts every server of the process logs (a retry may go to another server).
ATTEMPTS = itertools.count(1)

# Garbage sent instead of a status line (mixed route and garbage servers). None of them
# starts like "HTTP/", so no lenient reading can take them for a response.
GARBAGE = [
    b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\r\n",
    b"hello, this is not http\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 binary junk\r\n\r\n",
    b"<html><body>oops</body></html>\r\n\r\n",
    b"\x00\xff\xfe\xfd garbage without a line end",
    b"ERROR 42\r\n",
]


def ok_response(rid, name, pad):
    body = b"%s %s " % (rid, name) + b"x" * pad
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nX-Fake: %s\r\n\r\n%s" % (
        len(body), name, body)


class Stats:
    def __init__(self, breaker):
        self.open = 0
        self.faults = 0
        # The gateway's breaker for this server counts at most one failure per fault, so it
        # cannot open before the fault that reaches its failureThreshold (`breaker`).
        self.breaker = breaker
        self.breaker_at = None
        self.violations = 0
        self.violation_details = []
        self.closes = 0  # closes the server made on purpose after healthy answers (close_after)

    def violation(self, detail):
        self.violations += 1
        if len(self.violation_details) < 5:
            self.violation_details.append(detail)


class Conn(asyncio.Protocol):
    def __init__(self, server):
        self.server = server
        self.transport = None
        self.buffer = b""
        self.tainted = None  # fault kind once a fault happened on this connection
        self.answered = 0
        self.closing = False
        self.write_shut = False
        self.timers = []
        # close_after: answer this many requests, then close (see Server.do_close_after)
        self.budget = random.randint(1, 3)

    # -- plumbing --
    def connection_made(self, transport):
        self.transport = transport
        s = self.server
        s.stats.open += 1
        s.conns.add(self)
        sock = transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def connection_lost(self, exc):
        s = self.server
        s.stats.open -= 1
        s.conns.discard(self)
        for t in self.timers:
            t.cancel()
        self.timers.clear()
        self.closing = True

    def eof_received(self):
        # The gateway closed its side: close ours (keep_open=False).
        return False

    def later(self, delay, fn, *args):
        handle = asyncio.get_running_loop().call_later(delay, self._guarded, fn, args)
        self.timers.append(handle)

    def _guarded(self, fn, args):
        if self.closing or self.transport is None or self.transport.is_closing():
            return
        try:
            fn(*args)
        except (OSError, RuntimeError):
            pass

    def write(self, data):
        if not self.closing and not self.write_shut and not self.transport.is_closing():
            self.transport.write(data)

    def reset(self):
        """Close with RST (SO_LINGER 0)."""
        if self.closing:
            return
        self.closing = True
        sock = self.transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        except OSError:
            pass
        self.transport.abort()

    def reset_when_flushed(self, tries=0):
        """RST once the bytes written so far left the process (not lost in our own buffer)."""
        if self.transport.get_write_buffer_size() and tries < 200:
            self.later(0.01, self.reset_when_flushed, tries + 1)
        else:
            self.reset()

    def fin(self):
        """Close gracefully (FIN after what was written)."""
        if not self.closing:
            self.closing = True
            self.transport.close()

    def shut_write(self):
        """FIN on our write side only; keep reading to catch reuse."""
        if not self.closing and not self.write_shut and self.transport.can_write_eof():
            self.write_shut = True
            self.transport.write_eof()

    # -- requests --
    def data_received(self, data):
        if self.closing:
            return
        if self.tainted is not None:
            self.server.stats.violation(
                "%s: %d bytes arrived on a connection after a %s fault: %r" % (
                    self.server.name, len(data), self.tainted, data[:60]))
            # Answer anyway (a proper response) so no client hangs because of this check.
            self.buffer += data
            while True:
                req = self.take_request()
                if req is None:
                    break
                self.write(ok_response(req, self.server.name_b, 0))
            return
        self.buffer += data
        while not self.closing and self.tainted is None:
            rid = self.take_request()
            if rid is None:
                break
            self.server.handle(self, rid)
        if self.tainted is not None and self.buffer:
            self.server.stats.violation(
                "%s: a request was pipelined behind a %s fault" % (self.server.name, self.tainted))

    def take_request(self):
        """Pops one complete request from the buffer; returns its X-Request-Id (bytes)."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buffer[:end]
        length = 0
        rid = b"-"
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lname = name.strip().lower()
            if lname == b"content-length":
                length = int(value.strip())
            elif lname == b"x-request-id":
                rid = value.strip()
        if len(self.buffer) < end + 4 + length:
            return None
        self.buffer = self.buffer[end + 4 + length:]
        return rid

    def taint(self, kind):
        self.tainted = kind
        stats = self.server.stats
        stats.faults += 1
        if stats.faults == stats.breaker:
            stats.breaker_at = time.monotonic()


class Server:
    """One fake upstream: a port and a behaviour."""

    def __init__(self, name, port, behaviour, breaker, **params):
        self.name = name
        self.name_b = name.encode()
        self.port = port
        self.behaviour = behaviour
        self.params = params
        self.stats = Stats(breaker)
        self.conns = set()
        self.listener = None
        self.fault_log = {}  # mixed: request id -> [(seq, kind)], attempts in order

    async def start(self):
        loop = asyncio.get_running_loop()
        self.listener = await loop.create_server(
            lambda: Conn(self), "127.0.0.1", self.port, reuse_address=True, backlog=1024)

    def stop(self):
        """Vanish: close the listener (connects are refused) and drop every connection."""
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        for conn in list(self.conns):
            conn.closing = True
            conn.transport.abort()

    def log(self, rid, kind):
        self.fault_log.setdefault(rid.decode("ascii", "replace"), []).append((next(ATTEMPTS), kind))

    def pad(self):
        return random.randint(0, PAD)

    # -- behaviours --
    def handle(self, conn, rid):
        getattr(self, "do_" + self.behaviour)(conn, rid)

    def do_ok(self, conn, rid):
        conn.write(ok_response(rid, self.name_b, self.pad()))

    def do_hang(self, conn, rid):
        # Read the request, never answer; the gateway must give up and close.
        conn.taint("hang")

    def do_reset_body(self, conn, rid):
        length = 20000
        part = length // 4
        body = (b"%s %s " % (rid, self.name_b)).ljust(part, b"r")
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (length, body))
        conn.taint("reset_body")
        conn.later(0.02, conn.reset_when_flushed)

    def do_reset_head(self, conn, rid):
        # Read the request, then RST before any byte of a response.
        conn.taint("reset_head")
        conn.reset()

    def do_garbage(self, conn, rid):
        conn.write(random.choice(GARBAGE))
        conn.taint("garbage")  # left open: anything more that arrives is a reuse

    def do_head_close(self, conn, rid):
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n")
        conn.taint("head_close")
        conn.shut_write()

    def do_trickle_head(self, conn, rid):
        data = ok_response(rid, self.name_b, 10)
        conn.taint("trickle_head")
        gap = self.params["gap"]

        def step(i):
            conn.write(data[i:i + 1])
            if i + 1 < len(data):
                conn.later(gap, step, i + 1)
        step(0)

    def do_trickle_body(self, conn, rid):
        length = 100000
        first = (b"%s %s " % (rid, self.name_b)).ljust(100, b"t")
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (length, first))
        conn.taint("trickle_body")
        gap = self.params["gap"]

        def step(left):
            conn.write(b"t")
            if left > 1:
                conn.later(gap, step, left - 1)
        conn.later(gap, step, length - len(first))

    def do_close_after(self, conn, rid):
        """Answer correctly (keep-alive, no Connection: close), then close after 1-3 answers:
        right after the last answer (FIN), a little later (FIN), or when the next request
        arrives, without answering it (RST or FIN) -- the keep-alive race every pool meets."""
        if conn.answered >= conn.budget:
            # The next request arrived on a connection we decided to drop.
            self.stats.closes += 1
            if random.random() < 0.5:
                conn.reset()
            else:
                conn.fin()
            return
        conn.answered += 1
        conn.write(ok_response(rid, self.name_b, self.pad()))
        if conn.answered >= conn.budget:
            mode = random.random()
            if mode < 0.35:
                self.stats.closes += 1
                conn.fin()
            elif mode < 0.7:
                self.stats.closes += 1
                conn.later(random.uniform(0.0005, 0.03), conn.fin)
            # else: close when the next request comes (above)

    def do_mixed(self, conn, rid):
        """Mostly healthy; a share of requests get a fault (recorded by request id)."""
        if random.random() >= MIXED_FAULTS:
            self.log(rid, "ok")
            self.do_ok(conn, rid)
            return
        kind = random.choice(["garbage", "head_close", "reset_body"])
        self.log(rid, kind)
        getattr(self, "do_" + kind)(conn, rid)

    def report(self):
        s = self.stats
        return {"open": s.open, "faults": s.faults, "violations": s.violations,
                "violation_details": s.violation_details, "closes": s.closes, "breaker_at": s.breaker_at}


def serve(specs, pipe):
    """Process entry point: run the servers in `specs` [(name, port, behaviour, params)] (params:
    `breaker`, the failureThreshold of the server's circuit breaker, and the behaviour's own
    settings) until told to exit. Commands on `pipe`: ("stop", name), ("start", name), ("report",),
    ("faultlog", name), ("exit",). Every command is answered."""
    random.seed(os.getpid() ^ int(time.time()))

    async def main():
        servers = {}
        for name, port, behaviour, params in specs:
            servers[name] = Server(name, port, behaviour, **params)
        for server in servers.values():
            await server.start()
        pipe.send(("ready",))
        done = asyncio.get_running_loop().create_future()

        async def command(cmd):
            op = cmd[0]
            # stop and start answer when they began and ended (monotonic, as the clients
            # measure): the server was gone from the first to its return's second at most.
            if op == "stop":
                began = time.monotonic()
                servers[cmd[1]].stop()
                return ("ok", began, time.monotonic())
            if op == "start":
                began = time.monotonic()
                # The port may linger briefly; retry the bind for up to 5 s.
                for _ in range(100):
                    try:
                        await servers[cmd[1]].start()
                        return ("ok", began, time.monotonic())
                    except OSError as error:
                        last = error
                        await asyncio.sleep(0.05)
                return ("error", str(last))
            if op == "report":
                return ("ok", {name: s.report() for name, s in servers.items()})
            if op == "faultlog":
                return ("ok", servers[cmd[1]].fault_log)
            if op == "exit":
                done.set_result(None)
                return ("ok",)
            return ("error", "unknown command %r" % (op,))

        def readable():
            try:
                cmd = pipe.recv()
            except EOFError:
                if not done.done():
                    done.set_result(None)
                return

            async def run():
                pipe.send(await command(cmd))
            asyncio.ensure_future(run())

        asyncio.get_running_loop().add_reader(pipe.fileno(), readable)
        await done

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
