#!/usr/bin/env python3
"""Paced open-loop HTTP/1.1 load for scripts/cluster-bench (one process per call).

Every request has a scheduled send time fixed before the run starts; it goes out at that
time on an idle keep-alive connection to its gateway, or on a new one when none is idle,
whatever happened to the requests before it (open loop: a slow or refusing gateway does not
slow the offered load down). Per request it records the scheduled time, the time it was
written, the time its response was complete (CLOCK_MONOTONIC, the same clock in every
process, so the orchestrator's fault times compare directly) and the status: the HTTP status,
or ERR_CONN (the connection broke first), ERR_TIMEOUT, ERR_UNSENT (never written: no
connection could be had) or ERR_PROTO (a response this client cannot frame).

Usage: loadgen.py load  --ports P,P,.. --gateways 0,1 --rate R --t0 T --duration D --out FILE
       loadgen.py probe --ports P,P,.. --plan FILE --out FILE
The `load` schedule: request i of the whole fleet's stream (rate R) is due at T + i/R and
goes to gateway i mod len(ports); a process sends only its own gateways' share. The `probe`
plan is JSON: [[due, gateway, path, header value or null], ...] sorted by due time.
The result file is a pickle: {"gw", "sched", "send", "recv", "status"} arrays by request,
plus "conns" (connections opened).
"""
import argparse
import array
import asyncio
import collections
import gc
import json
import pickle
import socket
import sys
import time

ERR_CONN, ERR_TIMEOUT, ERR_UNSENT, ERR_PROTO = -1, -2, -3, -4
TIMEOUT = 2.0        # a response later than this is a hang, far past anything the limiter may add
MAX_CONNS = 96       # per gateway; at ~1 ms per answer a handful are in use
PREOPEN = 6          # connections opened per gateway before the first request is due

monotonic = time.monotonic


class Conn(asyncio.Protocol):
    """One keep-alive connection; at most one request in flight (no pipelining, so a late
    response never delays the next scheduled request: that one takes another connection)."""

    __slots__ = ("engine", "gw", "transport", "buf", "slot")

    def __init__(self, engine, gw):
        self.engine = engine
        self.gw = gw
        self.transport = None
        self.buf = bytearray()
        self.slot = -1

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        buf = self.buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        if self.slot < 0:
            self.engine.broken(self, ERR_PROTO)
            return
        head = bytes(buf[:end]).lower()
        try:
            status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            length = 0
            if at >= 0:
                eol = head.find(b"\r\n", at + 2)
                length = int(head[at + 17:eol if eol > 0 else len(head)])
        except ValueError:
            self.engine.broken(self, ERR_PROTO)
            return
        if at < 0 and b"transfer-encoding" in head:
            self.engine.broken(self, ERR_PROTO)  # the gateway and echo always send Content-Length
            return
        total = end + 4 + length
        if len(buf) < total:
            return
        if len(buf) > total:  # nothing was asked for past this response
            self.engine.broken(self, ERR_PROTO)
            return
        buf.clear()
        self.engine.answered(self, status, b"\r\nconnection: close" in head)

    def connection_lost(self, exc):
        self.engine.lost(self)


class Engine:
    def __init__(self, ports, payloads, gw, sched):
        self.ports = ports
        self.payloads = payloads      # request bytes by slot (a shared one for load runs)
        self.gw = gw
        self.sched = sched
        n = len(sched)
        self.send = array.array("d", bytes(8 * n))
        self.recv = array.array("d", bytes(8 * n))
        self.status = array.array("i", [ERR_UNSENT]) * n
        self.idle = [[] for _ in ports]
        self.queue = [collections.deque() for _ in ports]
        self.count = [0] * len(ports)     # open or opening
        self.busy = set()
        self.opened = 0
        self.loop = asyncio.get_running_loop()

    def payload(self, slot):
        p = self.payloads
        return p if isinstance(p, bytes) else p[slot]

    def submit(self, slot):
        g = self.gw[slot]
        idle = self.idle[g]
        if idle:
            self.fire(idle.pop(), slot)
            return
        self.queue[g].append(slot)
        if self.count[g] < MAX_CONNS:
            self.open(g)

    def fire(self, conn, slot):
        conn.slot = slot
        self.busy.add(conn)
        self.send[slot] = monotonic()
        conn.transport.write(self.payload(slot))

    def open(self, g):
        self.count[g] += 1
        self.opened += 1
        self.loop.create_task(self._open(g))

    async def _open(self, g):
        try:
            _, conn = await self.loop.create_connection(lambda: Conn(self, g), "127.0.0.1", self.ports[g])
        except OSError:
            self.count[g] -= 1
            await asyncio.sleep(0.05)  # queued requests wait for a later connection
            if self.queue[g] and self.count[g] < MAX_CONNS:
                self.open(g)
            return
        self.release(conn)

    def release(self, conn):
        q = self.queue[conn.gw]
        if q:
            self.fire(conn, q.popleft())
        else:
            self.idle[conn.gw].append(conn)

    def answered(self, conn, status, close):
        slot = conn.slot
        conn.slot = -1
        self.busy.discard(conn)
        self.recv[slot] = monotonic()
        self.status[slot] = status
        if close:
            conn.transport.close()  # lost() does the bookkeeping
        else:
            self.release(conn)

    def broken(self, conn, code):
        if conn.slot >= 0:
            self.recv[conn.slot] = monotonic()
            self.status[conn.slot] = code
            conn.slot = -1
        self.busy.discard(conn)
        conn.transport.abort()

    def lost(self, conn):
        if conn.slot >= 0:
            self.recv[conn.slot] = monotonic()
            self.status[conn.slot] = ERR_CONN
            conn.slot = -1
        self.busy.discard(conn)
        idle = self.idle[conn.gw]
        if conn in idle:
            idle.remove(conn)
        self.count[conn.gw] -= 1
        if self.queue[conn.gw] and self.count[conn.gw] < MAX_CONNS:
            self.open(conn.gw)

    async def watchdog(self, stop):
        while not stop.is_set():
            now = monotonic()
            for conn in [c for c in self.busy if now - self.send[c.slot] > TIMEOUT]:
                self.recv[conn.slot] = now
                self.status[conn.slot] = ERR_TIMEOUT
                conn.slot = -1
                self.busy.discard(conn)
                conn.transport.abort()
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
            except asyncio.TimeoutError:
                pass

    async def run(self):
        for g in sorted(set(self.gw)):
            for _ in range(PREOPEN):
                self.count[g] += 1
                self.opened += 1
                try:
                    _, conn = await self.loop.create_connection(lambda g=g: Conn(self, g), "127.0.0.1", self.ports[g])
                except OSError:
                    self.count[g] -= 1
                    continue
                self.idle[g].append(conn)
        stop = asyncio.Event()
        dog = asyncio.ensure_future(self.watchdog(stop))
        sched, n, i = self.sched, len(self.sched), 0
        while i < n:
            now = monotonic()
            while i < n and sched[i] <= now:
                self.submit(i)
                i += 1
            if i < n:
                # The selector rounds timeouts up to whole milliseconds, so requests leave in
                # small batches at most ~1 ms late; the send time records when each really went.
                await asyncio.sleep(max(0.0, sched[i] - monotonic()))
        end = monotonic() + TIMEOUT + 0.5
        while (self.busy or any(self.queue)) and monotonic() < end:
            await asyncio.sleep(0.01)
        stop.set()
        await dog
        for g, idle in enumerate(self.idle):
            for conn in idle:
                conn.transport.close()
        for conn in list(self.busy):
            conn.transport.abort()
        await asyncio.sleep(0.05)


def load_schedule(args, ports):
    mine = set(int(g) for g in args.gateways.split(","))
    total = int(round(args.rate * args.duration))
    gw = array.array("b")
    sched = array.array("d")
    for i in range(total):
        g = i % len(ports)
        if g in mine:
            gw.append(g)
            sched.append(args.t0 + i / args.rate)
    return gw, sched


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["load", "probe"])
    parser.add_argument("--ports", required=True)
    parser.add_argument("--gateways")
    parser.add_argument("--rate", type=float)
    parser.add_argument("--t0", type=float)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--plan")
    parser.add_argument("--path", default="/")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    if args.mode == "load":
        gw, sched = load_schedule(args, ports)
        payloads = ("GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % args.path).encode()
    else:
        with open(args.plan) as f:
            plan = json.load(f)
        gw = array.array("b", [p[1] for p in plan])
        sched = array.array("d", [p[0] for p in plan])
        payloads = [("GET %s HTTP/1.1\r\nHost: bench\r\n%s\r\n" % (
            p[2], "X-Probe: %s\r\n" % p[3] if p[3] else "")).encode() for p in plan]
    # Records are flat arrays, so the collector has nothing to walk; its pauses would show
    # as pacing lag.
    gc.disable()

    async def go():
        engine = Engine(ports, payloads, gw, sched)
        await engine.run()
        return engine

    engine = asyncio.run(go())
    with open(args.out, "wb") as f:
        pickle.dump({"gw": gw, "sched": sched, "send": engine.send, "recv": engine.recv,
                     "status": engine.status, "conns": engine.opened}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
