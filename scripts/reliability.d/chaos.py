#!/usr/bin/env python3
"""Upstream faults under load (driven by scripts/chaos; see docs/reliability.md).

Starts fault-injecting fake upstreams (chaos_upstreams.py, a process of their own) and the
real gateway in front of them (2 workers, admin endpoint on, access log off), one route and
upstream per fault so every outcome is attributable, then drives 74 keep-alive client
connections (chaos_client.py) that check every response against what the documentation
promises for that fault (README.md, docs/configuration.md). The fake upstreams report any
request that arrives on a connection after a fault on it. Afterwards, with the load stopped
and the client connections closed, the gateway must be back where it was after the warm-up:
no client or upstream connection, no request in flight or waiting, no timer armed in any
event loop, no more descriptors or threads, and its RSS within a tolerance. Prints tables
and `chaos: PASS` or `chaos: FAIL` (exit 0 / 1).

Usage: chaos.py PORTICO_BIN [--quick] [--base-port N]
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chaos_client  # noqa: E402
import chaos_upstreams  # noqa: E402

IDLE_MS = 2000           # timeouts.idleMs: keep-alive idle and the longest silence of a response
POOL_IDLE_MS = 1000      # pool.idleTimeoutMs of every upstream, so idle pools empty after a run
NEVER_OPEN = {"failureThreshold": 65535}   # the breaker's maximum: faults stay visible as such
CLIENT_TIMEOUT = 15.0    # a request that no answer, close or gateway timeout ends by then hung
# How much later than its timeout a gateway-made timeout may reach the client: one Python
# process drives every connection, and its own scheduling adds delay under load (the control
# route's latency shows how much: runs measured at most 0.1 s, and timeouts at most 0.05 s
# late). It stays well below what would end the request if the timeout did not (idleMs,
# the next trickled byte).
LATE = 0.5

# Tolerance for RSS after the run over the baseline taken after the warm-up. The warm-up
# ran the same mix, so allocator arenas already had their working size; socket buffers are
# mapped pages that the gateway unmaps 250 ms after traffic stops needing them (BufferPool),
# and idle connections hold none. The whole working set under this load is ~3 MiB over the
# baseline (the "peak" column); runs measured 0.3-1.0 MiB left after the load (malloc
# fragmentation). 4 MiB catches a leak of 4 bytes per request in the full run (~1.1 M
# requests), 23 in the quick one (~180 k), or 64 socket buffers (64 KiB each) left mapped.
RSS_TOLERANCE = 4 << 20


class Plan:
    """Servers, routes, connections and expectations.

    A route: `name`, `fault` (table text), `servers` (fake upstream names, in the order of the
    upstream's servers), `conns` (keep-alive client connections), `pause` (think time after a
    non-200), `route` / `upstream` (config keys added to the route / upstream), `expect` (the
    outcomes allowed; None: judged per request from the servers' fault log), `need` (outcomes
    that must be seen), `latency` ({outcome: (at least, at most) seconds}), `min_faults`
    (quick, full) when the default is too many, `fault_server` (the faulty one of two),
    `vanish` (the first server's port closes and reopens), `reference` (report its latency:
    what the clients themselves add under load), `text` (table text)."""

    def __init__(self, base, quick):
        self.quick = quick
        self.port = base
        self.admin = base + 1
        p = iter(range(base + 10, base + 90))
        # name -> (port, behaviour, params)
        self.servers = {}

        def server(name, behaviour, **params):
            self.servers[name] = (next(p), behaviour, params)
            return name

        S = server
        self.routes = []
        R = self.routes.append
        R(dict(name="control", fault="none (healthy server)", servers=[S("ok-control", "ok")], conns=6,
               expect={"200"}, reference=True, text="200"))
        R(dict(name="hang-retry", fault="(1) accept, never answer; healthy 2nd server",
               servers=[S("hang-a", "hang"), S("ok-hang", "ok")], conns=6,
               route={"timeoutMs": 5000, "retries": {"maxRetries": 1, "retryOn": ["per_try_timeout"],
                                                     "perTryTimeoutMs": 1000, "budgetPercent": 100}},
               upstream={"circuitBreaker": NEVER_OPEN}, fault_server="hang-a",
               expect={"200"}, text="200 (per-try timeout 1 s, retry)"))
        R(dict(name="hang-deadline", fault="(1) accept, never answer; breaker 3/700ms",
               servers=[S("hang-b", "hang")], conns=4, pause=0.01,
               route={"timeoutMs": 400, "retries": {"maxRetries": 0}},
               upstream={"circuitBreaker": {"failureThreshold": 3, "openMs": 700}},
               min_faults=(10, 40),  # the breaker lets through about one attempt per 1.1 s
               expect={"504 deadline_exceeded"}, need=["504 deadline_exceeded", "503 circuit_open"],
               latency={"504 deadline_exceeded": (0.4, 0.4 + LATE)},
               text="504 deadline_exceeded at 400ms, 503 circuit_open after 3"))
        R(dict(name="reset-body", fault="(2) RST after 1/4 of the body", servers=[S("reset", "reset_body")],
               conns=5, upstream={"circuitBreaker": NEVER_OPEN},
               expect={"truncated", "502 upstream_reset"}, need=["truncated"],
               text="truncated + close, or 502 upstream_reset if head unsent"))
        R(dict(name="reset-head", fault="(2) RST after reading the request, no retry",
               servers=[S("reset-head", "reset_head")], conns=3, pause=0.002,
               route={"retries": {"maxRetries": 0}}, upstream={"circuitBreaker": NEVER_OPEN},
               expect={"502 upstream_reset"}, text="502 upstream_reset"))
        R(dict(name="garbage-retry", fault="(3) garbage status line; healthy 2nd server",
               servers=[S("garbage-a", "garbage"), S("ok-garbage", "ok")], conns=5,
               route={"timeoutMs": 5000, "retries": {"maxRetries": 1, "retryOn": ["reset"], "budgetPercent": 100}},
               upstream={"circuitBreaker": NEVER_OPEN}, fault_server="garbage-a",
               expect={"200"}, text="200 (retry)"))
        R(dict(name="garbage", fault="(3) garbage status line", servers=[S("garbage-b", "garbage")], conns=3,
               pause=0.002, route={"timeoutMs": 5000, "retries": {"maxRetries": 0}},
               upstream={"circuitBreaker": NEVER_OPEN},
               expect={"502 upstream_bad_response"}, text="502 upstream_bad_response"))
        R(dict(name="head-close", fault="(4) FIN right after the head (CL 5000)",
               servers=[S("head-close", "head_close")], conns=4, upstream={"circuitBreaker": NEVER_OPEN},
               expect={"502 upstream_reset", "truncated"}, need=["truncated"],
               text="truncated + close, or 502 upstream_reset if head unsent"))
        R(dict(name="trickle-head", fault="(5) head 1 byte/100ms, deadline 600ms",
               servers=[S("trickle-head", "trickle_head", gap=0.1)], conns=4,
               route={"timeoutMs": 600}, upstream={"circuitBreaker": NEVER_OPEN},
               expect={"504 deadline_exceeded"}, latency={"504 deadline_exceeded": (0.6, 0.6 + LATE)},
               text="504 deadline_exceeded at 600ms"))
        # The deadline also ends a response whose head went out (docs/configuration.md,
        # "Deadlines and retries": "after the head, the client connection is closed").
        R(dict(name="trickle-body", fault="(5) body 1 byte/50ms, deadline 1500ms",
               servers=[S("trickle-body", "trickle_body", gap=0.05)], conns=4,
               route={"timeoutMs": 1500}, upstream={"circuitBreaker": NEVER_OPEN},
               expect={"truncated"}, latency={"truncated": (1.5, 1.5 + LATE)},
               text="truncated + close at 1.5s"))
        R(dict(name="stall", fault="(5) body 1 byte/4s > idleMs 2000, no deadline",
               servers=[S("stall", "trickle_body", gap=2 * IDLE_MS / 1000)], conns=4,
               route={"timeoutMs": 0}, upstream={"circuitBreaker": NEVER_OPEN},
               expect={"truncated"}, latency={"truncated": (IDLE_MS / 1000, IDLE_MS / 1000 + LATE)},
               text="truncated + close at idleMs"))
        R(dict(name="close-after", fault="(6) close after 1-3 answers, no Connection: close",
               servers=[S("closer-a", "close_after"), S("closer-b", "close_after")], conns=8,
               route={"retries": {"maxRetries": 0}},
               expect={"200"}, text="200, no failure or retry (maxRetries 0)"))
        R(dict(name="vanish-retry", fault="(7) listener gone and back; healthy 2nd server",
               servers=[S("vanish-a", "ok"), S("ok-vanish", "ok")], conns=6,
               route={"retries": {"maxRetries": 1, "retryOn": ["connect_failure", "reset"], "budgetPercent": 100}},
               upstream={"circuitBreaker": {"failureThreshold": 3, "openMs": 1000}}, vanish=True,
               expect={"200"}, text="200 (retry), vanish-a serves again once back"))
        # Default retries (2 on connect_failure and reset), with nowhere else to go.
        R(dict(name="vanish-only", fault="(7) listener gone and back; breaker 3/1000ms",
               servers=[S("vanish-b", "ok")], conns=4, pause=0.01,
               upstream={"circuitBreaker": {"failureThreshold": 3, "openMs": 1000}}, vanish=True,
               expect={"200", "502 upstream_connect_failed", "503 circuit_open", "502 upstream_reset"},
               need=["200", "502 upstream_connect_failed", "503 circuit_open"],
               text="gone: 502 upstream_connect_failed, 503 circuit_open, 502 upstream_reset if in flight, "
                    "back: 200 from openMs on"))
        R(dict(name="mixed", fault="25% garbage/FIN-after-head/RST-mid-body, same pool",
               servers=[S("mixed-a", "mixed"), S("mixed-b", "mixed")], conns=8,
               route={"retries": {"maxRetries": 2, "retryOn": ["reset"], "budgetPercent": 100}},
               upstream={"circuitBreaker": NEVER_OPEN},
               expect=None, text="per request, from its last attempt"))
        self.by_name = {r["name"]: r for r in self.routes}
        for r in self.routes:
            breaker = r.get("upstream", {}).get("circuitBreaker", {}).get("failureThreshold", 5)
            for name in r["servers"]:
                self.servers[name][2]["breaker"] = breaker
        self.vanishing = [r["servers"][0] for r in self.routes if r.get("vanish")]
        # Outages whose length is not a whole number of openMs (1 s), so the server comes back
        # while its breaker is still open and the requests of that moment get circuit_open.
        if quick:
            self.warmup, self.duration = 3.0, 20.0
            self.vanish_windows = [(5.0, 10.5)]
            self.min_faults = 10
        else:
            self.warmup, self.duration = 6.0, 90.0
            self.vanish_windows = [(10.0, 15.5), (40.0, 45.7), (70.0, 75.3)]
            self.min_faults = 100
        if os.environ.get("CHAOS_SECONDS"):  # longer runs by hand (leak hunting)
            self.duration = float(os.environ["CHAOS_SECONDS"])
            if self.duration < 90:
                raise SystemExit("CHAOS_SECONDS: at least 90 (the full run's length, which its minimum counts need)")
            self.vanish_windows = [(t, t + 5.5) for t in range(10, int(self.duration) - 19, 30)]

    def config(self):
        upstreams = {}
        routes = []
        for r in self.routes:
            up = {"servers": [{"address": "127.0.0.1:%d" % self.servers[s][0]} for s in r["servers"]],
                  "pool": {"idleTimeoutMs": POOL_IDLE_MS}}
            up.update(r.get("upstream", {}))
            upstreams[r["name"]] = up
            route = {"name": r["name"], "match": {"pathPrefix": "/" + r["name"]}, "upstream": r["name"]}
            route.update(r.get("route", {}))
            routes.append(route)
        return {
            "workers": 2,
            "listeners": [{"name": "main", "address": "127.0.0.1:%d" % self.port}],
            "admin": {"address": "127.0.0.1:%d" % self.admin},
            "accessLog": {"path": "off"},
            "timeouts": {"idleMs": IDLE_MS, "drainMs": 5000},
            "upstreams": upstreams,
            "routes": routes,
        }

    def client_plan(self):
        return [(r["name"], r["conns"], r["servers"], r.get("pause", 0.0)) for r in self.routes]


# ---------------------------------------------------------------------------------------

async def http_get(port, path, timeout=5.0):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(("GET %s HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n" % path).encode())
        status, headers = await asyncio.wait_for(chaos_client.read_head(reader), timeout)
        body = await asyncio.wait_for(chaos_client.read_body(reader, headers, status), timeout)
        return status, body
    finally:
        writer.close()


async def stats(plan):
    status, body = await http_get(plan.admin, "/stats")
    if status != 200:
        raise RuntimeError("GET /stats: %d" % status)
    return json.loads(body)


def proc_sample(pid):
    fds = len(os.listdir("/proc/%d/fd" % pid))
    rss = 0
    threads = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return {"fds": fds, "rss": rss, "threads": threads}


# Timers are not in /stats, but an event loop shows whether it has one: it blocks in
# epoll_wait with timeout -1 only when its timer heap is empty and no deferred work waits
# (Reactor/Loop/EventLoop.swift, runOnce), and /proc/PID/task/TID/syscall shows the
# arguments of the call a thread is blocked in (the timeout is the fourth).
EPOLL_WAIT = {"x86_64": ("232", "281"), "aarch64": ("22",)}.get(platform.machine(), ())


def loop_timers(pid):
    """(event loops, loops with a timer armed), or None while a thread is not blocked."""
    loops = armed = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/syscall" % (pid, tid)) as f:
                fields = f.read().split()
        except FileNotFoundError:  # a thread that just ended
            continue
        if fields[0] == "running":
            return None
        if fields[0] in EPOLL_WAIT:
            loops += 1
            if int(fields[4], 16) & 0xFFFFFFFF != 0xFFFFFFFF:
                armed += 1
    return loops, armed


def gauges(st):
    """The gauges that must come back to their resting value."""
    g = {
        "client connections": st["connections"]["active"],
        "requests in flight": st["requests"]["active"],
        "upstream pending": sum(u.get("pending", 0) for u in st["upstreams"].values()),
        "upstream active requests": 0,
        "upstream active connections": 0,
        "upstream idle connections": 0,
    }
    for u in st["upstreams"].values():
        for s in u["servers"].values():
            g["upstream active requests"] += s.get("activeRequests", 0)
            g["upstream active connections"] += s.get("activeConnections", 0)
            g["upstream idle connections"] += s.get("idleConnections", 0)
    return g


class Upstreams:
    def __init__(self, plan):
        specs = [(name, port, behaviour, params) for name, (port, behaviour, params) in plan.servers.items()]
        ctx = multiprocessing.get_context("fork")
        self.lock = threading.Lock()
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=chaos_upstreams.serve, args=(specs, child), daemon=True)
        self.proc.start()
        if not self.pipe.poll(20):
            raise RuntimeError("fake upstreams did not start")
        msg = self.pipe.recv()
        if msg[0] != "ready":
            raise RuntimeError("fake upstreams: %r" % (msg,))

    def call(self, *cmd):
        # One command at a time: callers run on executor threads and share the pipe.
        with self.lock:
            self.pipe.send(cmd)
            if not self.pipe.poll(20):
                raise RuntimeError("fake upstreams do not answer %r" % (cmd,))
            return self.pipe.recv()

    def close(self):
        try:
            self.call("exit")
        except Exception:
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()


async def acall(ups, *cmd):
    return await asyncio.get_running_loop().run_in_executor(None, lambda: ups.call(*cmd))


async def await_quiet(plan, ups, pid, timeout, want_fds=None):
    """Waits until every gauge is 0, no fake upstream has a connection open, no event loop of
    the gateway has a timer armed and (when given) the descriptor count is at most
    `want_fds`, and stays so across two samples. Returns (ok, stats, proc, upstream report),
    proc with `loops` and `armed` (event loops, those with a timer armed)."""
    deadline = time.monotonic() + timeout
    calm = 0
    while True:
        st = await stats(plan)
        g = gauges(st)
        rep = (await acall(ups, "report"))[1]
        # Our /stats connection's own timer goes with it: give the admin loop a moment.
        await asyncio.sleep(0.1)
        for _ in range(50):
            timers = loop_timers(pid)
            if timers is not None:
                break
            await asyncio.sleep(0.01)
        pr = proc_sample(pid)
        pr["loops"], pr["armed"] = timers if timers is not None else (-1, -1)
        quiet = all(v == 0 for v in g.values()) and all(r["open"] == 0 for r in rep.values()) \
            and pr["armed"] == 0
        if want_fds is not None:
            quiet = quiet and pr["fds"] <= want_fds
        calm = calm + 1 if quiet else 0
        if calm >= 2 or time.monotonic() > deadline:
            return calm >= 2, st, pr, rep
        await asyncio.sleep(0.15)


async def run_load(plan, ups, seconds, vanish_windows, sampler, phase):
    """Returns the requests' records and what happened: the outages (events), when the load
    began and stopped, connections opened."""
    stop = asyncio.Event()
    t0 = time.monotonic()
    raw = []
    task = asyncio.ensure_future(chaos_client.run_clients(plan.port, plan.client_plan(), stop, raw.append,
                                                          CLIENT_TIMEOUT, phase))
    # (server, gone from, gone at last by, back from, back at last by), monotonic seconds
    events = []

    async def vanisher():
        for down, up in vanish_windows:
            await asyncio.sleep(max(0.0, t0 + down - time.monotonic()))
            gone = {name: (await acall(ups, "stop", name))[1:] for name in plan.vanishing}
            await asyncio.sleep(max(0.0, t0 + up - time.monotonic()))
            for name in plan.vanishing:
                answer = await acall(ups, "start", name)
                if answer[0] != "ok":
                    raise RuntimeError("restarting %s: %s" % (name, answer[1]))
                events.append((name,) + gone[name] + answer[1:])

    async def sample():
        while not stop.is_set():
            try:
                sampler(await stats(plan))
            except (OSError, ValueError, RuntimeError, asyncio.IncompleteReadError):
                pass  # a missed sample only lowers a peak, which is informative
            await asyncio.sleep(1.0)

    vanishing = asyncio.ensure_future(vanisher())
    sampling = asyncio.ensure_future(sample())
    await asyncio.sleep(seconds)
    stop.set()
    t_stop = time.monotonic()
    connections = await task
    await sampling
    if not vanishing.done():
        vanishing.cancel()
        raise RuntimeError("the load ended before the last vanish window")
    vanishing.result()  # raises what went wrong in it
    records = [chaos_client.Record(*t) for t in raw]
    return records, {"events": events, "t0": t0, "stopped": t_stop, "connections": connections}


# ---------------------------------------------------------------------------------------

def expected_mixed(attempts):
    """The outcomes allowed for a request on the mixed route, from the fault of its last
    attempt (attempts: [(order, kind)] the servers logged). Garbage is retried under `reset`
    (a malformed answer before a complete head, docs/configuration.md "Deadlines and
    retries"); a fault after a complete head is not retried and cuts the response, or is a
    502 while the head has not left yet (README.md, "Failures after the response head")."""
    last = max(attempts)[1]
    return last, {
        "ok": {"200"},
        "garbage": {"502 upstream_bad_response"},
        "head_close": {"502 upstream_reset", "truncated"},
        "reset_body": {"truncated", "502 upstream_reset"},
    }[last]


def judge_mixed(route, recs, fault_log, plan):
    problems = []
    by_last = {}
    injected = {}
    retried = 0
    for r in recs:
        attempts = fault_log.get(r.rid)
        if not attempts:
            problems.append("%s: %s %s, but no attempt reached a server" % (r.rid, r.kind, r.detail))
            continue
        retried += len(attempts) > 1
        for _, kind in attempts:
            injected[kind] = injected.get(kind, 0) + 1
        last, allowed = expected_mixed(attempts)
        by_last[last] = by_last.get(last, 0) + 1
        if r.kind not in allowed:
            problems.append("%s: last attempt %s, got %s %s" % (r.rid, last, r.kind, r.detail))
    for kind in ("garbage", "head_close", "reset_body"):
        if injected.get(kind, 0) < plan.min_faults:
            problems.append("only %d %s faults injected" % (injected.get(kind, 0), kind))
    route["extra"].append("attempts: %s; %d requests retried" % (fmt_counts(injected), retried))
    route["extra"].append("requests by last attempt: %s" % fmt_counts(by_last))
    return problems


def judge_vanish(route, recs, events, expect):
    """A non-200 must fit an outage of the route's first server: the request ended after
    the server began to go and began before it was back (connect failures), or within
    openMs + LATE of its return (circuit_open: the breaker opened while the server was gone
    and lets a trial through openMs later); 502 upstream_reset only if it was in flight when
    the server went. Each outage must show, and the server must serve again after each."""
    server = route["servers"][0]
    open_s = route["upstream"]["circuitBreaker"]["openMs"] / 1000
    windows = [e[1:] for e in events if e[0] == server]  # (gone from, by, back from, by)
    last_start = {kind: limit for kind, limit in {
        "502 upstream_reset": lambda d0, d1, u0, u1: d1,
        "502 upstream_connect_failed": lambda d0, d1, u0, u1: u1,
        "503 circuit_open": lambda d0, d1, u0, u1: u1 + open_s + LATE,
    }.items() if kind in expect}
    bad = []
    per_window = [[] for _ in windows]
    for r in recs:
        if r.kind == "200":
            continue
        fits = [i for i, w in enumerate(windows)
                if r.kind in last_start and r.end >= w[0] and r.start <= last_start[r.kind](*w)]
        if fits:
            per_window[fits[0]].append(r)
        else:
            bad.append(r)
    problems = []
    for i, (d0, d1, u0, u1) in enumerate(windows):
        failed = per_window[i]
        back = [r.end - u1 for r in recs if r.server == server and r.end > u1]
        first_back = min(back) if back else None
        note = "gone %.1f s: %d non-200 (%s)" % (u1 - d0, len(failed), fmt_counts(count(failed)) or "-")
        if failed:
            note += ", the last began %+.2f s from its return" % (max(r.start for r in failed) - u1)
        if first_back is None:
            problems.append("outage %d: %s never answered again" % (i + 1, server))
        else:
            note += "; %s answered again %.2f s after its return" % (server, first_back)
            if first_back > open_s + LATE:
                problems.append("outage %d: %s answered again only %.2f s after its return (openMs %.1f s)" % (
                    i + 1, server, first_back, open_s))
        if len(route["servers"]) == 1 and not failed:  # nowhere else to go: the outage shows
            problems.append("outage %d: no request failed while %s was gone" % (i + 1, server))
        route["extra"].append(note)
    return bad, problems


def judge(route, recs, plan, after_rep, events, fault_log):
    """The problems with a route's outcomes; adds notes to route["extra"]."""
    if route["expect"] is None:
        return judge_mixed(route, recs, fault_log, plan)
    expect = set(route["expect"])
    if route.get("vanish"):
        bad, problems = judge_vanish(route, recs, events, expect)
    else:
        # circuit_open, on a route with one server only once that server failed
        # failureThreshold times (one that is NEVER_OPEN may get there in long runs).
        breaker_at = after_rep[route["servers"][0]]["breaker_at"] if len(route["servers"]) == 1 else None
        bad = [r for r in recs if r.kind not in expect
               and not (r.kind == "503 circuit_open" and breaker_at is not None and r.end >= breaker_at)]
        problems = []
    for r in bad[:3]:
        problems.append("%s: %s %s (%.2fs)" % (r.rid, r.kind, r.detail, r.latency))
    if len(bad) > 3:
        problems.append("... %d unexpected in all" % len(bad))
    if route.get("reference"):
        seen = sorted(r.latency for r in recs if r.kind == "200")
        if seen:
            route["extra"].append("200 after p50 %.3f, p99 %.3f, max %.3f s (the clients' own delay under load)" % (
                seen[len(seen) // 2], seen[len(seen) * 99 // 100], seen[-1]))
    counts = count(recs)
    for kind in route.get("need", []):
        if counts.get(kind, 0) == 0:
            problems.append("no %s seen" % kind)
    for kind, (lo, hi) in route.get("latency", {}).items():
        seen = [r.latency for r in recs if r.kind == kind]
        if seen:
            route["extra"].append("%s after %.3f-%.3f s (allowed %.2f-%.2f)" % (kind, min(seen), max(seen), lo, hi))
        off = [x for x in seen if not lo <= x <= hi]
        if off:
            problems.append("%d %s outside %.2f-%.2f s (first %.3f s)" % (len(off), kind, lo, hi, off[0]))
    return problems


def wrap(items, width):
    lines = [""]
    for item in items:
        piece = item if not lines[-1] else ", " + item
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines[-1] += ","
            lines.append(item)
        else:
            lines[-1] += piece
    return lines


def count(records):
    out = {}
    for r in records:
        out[r.kind] = out.get(r.kind, 0) + 1
    return out


def fmt_counts(c):
    return ", ".join("%s: %d" % (k, v) for k, v in sorted(c.items(), key=lambda kv: -kv[1]))


def server_stat(st, route, server_port, key):
    return st["upstreams"][route]["servers"]["127.0.0.1:%d" % server_port][key]


async def wait_ready(gw, plan, log_path):
    """/ready on the admin port answers 200 once the listeners are bound."""
    for _ in range(300):
        if gw.poll() is not None:
            with open(log_path) as f:
                raise RuntimeError("gateway exited at start-up (%s); log: %s" % (gw.returncode, f.read()))
        try:
            if (await http_get(plan.admin, "/ready", 1.0))[0] == 200:
                return
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("gateway not ready after 30 s")


async def run(plan, args, gw, ups, log_path, failures):
    """The warm-up, the run and every check; prints the tables."""
    await wait_ready(gw, plan, log_path)
    print("chaos: gateway pid %d (%s), %d fake upstreams, %d routes, %d client connections; %s run: "
          "warm-up %.0f s, load %.0f s" % (
              gw.pid, args.bin, len(plan.servers), len(plan.routes), sum(r["conns"] for r in plan.routes),
              "quick" if plan.quick else "full", plan.warmup, plan.duration), flush=True)

    # Warm-up: the same mix, so buffer pools and allocator arenas reach their working size.
    warm, _ = await run_load(plan, ups, plan.warmup, [], lambda st: None, "w")
    ok, base_stats, base_proc, base_rep = await await_quiet(plan, ups, gw.pid, 20)
    if not ok:
        failures.append("not at rest after the warm-up: %s, %d event loops with a timer armed" % (
            gauges(base_stats), base_proc["armed"]))
    # A second sample after a moment: the baseline is the larger one (RSS moves a little).
    await asyncio.sleep(0.3)
    again = proc_sample(gw.pid)
    for k in again:
        base_proc[k] = max(base_proc[k], again[k])
    base_gauges = gauges(base_stats)

    peak = {}

    def sampler(st):
        for k, v in gauges(st).items():
            peak[k] = max(peak.get(k, 0), v)
        pr = proc_sample(gw.pid)
        for k in ("fds", "rss"):
            peak[k] = max(peak.get(k, 0), pr[k])

    records, load = await run_load(plan, ups, plan.duration, plan.vanish_windows, sampler, "r")
    if gw.poll() is not None:
        raise RuntimeError("the gateway exited during the run (status %s)" % gw.returncode)
    t_quiet = time.monotonic()
    ok, after_stats, after_proc, after_rep = await await_quiet(plan, ups, gw.pid, 20, base_proc["fds"])
    quiet_after = time.monotonic() - t_quiet
    if not ok:
        failures.append("not back to rest 20 s after the load")
    fault_log = {}  # request id -> [(order, kind)] over the servers of the mixed route
    for route in plan.routes:
        if route["expect"] is None:
            for name in route["servers"]:
                for rid, attempts in (await acall(ups, "faultlog", name))[1].items():
                    fault_log.setdefault(rid, []).extend(attempts)

    # ---- per-route verdicts ----
    by_route = {}
    for r in records:
        by_route.setdefault(r.route, []).append(r)
    rows = []
    for route in plan.routes:
        recs = by_route.get(route["name"], [])
        route["extra"] = []
        problems = judge(route, recs, plan, after_rep, load["events"], fault_log)
        if len(recs) < plan.min_faults:
            problems.append("only %d requests" % len(recs))
        rows.append((route, recs, count(recs), problems))

    # ---- cross checks with /stats and the fake upstreams ----
    checks = []
    invalid = count(r for r in warm if r.kind.startswith("invalid"))
    checks.append(("warm-up: no invalid response", "%d requests, %s" % (len(warm), fmt_counts(invalid) or "none invalid"),
                   not invalid, [("%s: %s %s" % (r.rid, r.kind, r.detail)) for r in warm if r.kind.startswith("invalid")][:3]))
    violations = sum(r["violations"] for r in after_rep.values())
    details = [d for r in after_rep.values() for d in r["violation_details"]]
    checks.append(("no request on an upstream connection after a fault on it",
                   "%d (faulted connections: %d)" % (violations, sum(r["faults"] for r in after_rep.values())),
                   violations == 0, details[:5]))
    # A request that meets a pooled connection the server closed is sent again on a new one:
    # not a failure, attempt or retry (docs/operations.md, "/stats": staleReuses), and at most
    # once per connection the server closed.
    closer = plan.by_name["close-after"]
    delta = {k: sum(server_stat(after_stats, "close-after", plan.servers[s][0], k)
                    - server_stat(base_stats, "close-after", plan.servers[s][0], k) for s in closer["servers"])
             for k in ("failures", "staleReuses")}
    retries = after_stats["routes"]["close-after"]["retries"] - base_stats["routes"]["close-after"]["retries"]
    closes = sum(after_rep[s]["closes"] - base_rep[s]["closes"] for s in closer["servers"])
    checks.append(("close-after: 0 failures, 0 retries, staleReuses <= closes",
                   "%d failures, %d retries, %d staleReuses, %d closes" % (
                       delta["failures"], retries, delta["staleReuses"], closes),
                   delta["failures"] == 0 and retries == 0 and delta["staleReuses"] <= closes, []))
    mismatch = []
    for route in plan.routes:
        name = route["name"]
        got = after_stats["routes"][name]["requests"] - base_stats["routes"][name]["requests"]
        sent = sum(1 for r in by_route.get(name, []) if r.kind != "invalid: connect failed")
        if got != sent:
            mismatch.append("%s: /stats %d, client %d" % (name, got, sent))
    checks.append(("/stats route requests = requests sent", "%d routes differ" % len(mismatch),
                   not mismatch, mismatch[:5]))
    faulted = {name: after_rep[name]["faults"] - base_rep[name]["faults"]
               for name, (_, behaviour, _) in plan.servers.items() if behaviour not in ("ok", "close_after", "mixed")}
    least = {name: plan.min_faults for name in faulted}
    for route in plan.routes:
        for name in route["servers"]:
            if "min_faults" in route:
                least[name] = route["min_faults"][0 if plan.quick else 1]
        if route.get("fault_server"):
            route["extra"].append("%d attempts faulted, all healed" % faulted[route["fault_server"]])
    few = ["%s %d < %d" % (n, c, least[n]) for n, c in faulted.items() if c < least[n]]
    checks.append(("faults injected per fault server (min %d)" % plan.min_faults,
                   "%d in all, fewest %s %d" % (sum(faulted.values()), min(faulted, key=faulted.get),
                                                min(faulted.values())), not few, few))

    # ---- resources ----
    after_gauges = gauges(after_stats)
    res = []
    for k in base_gauges:
        a, b = base_gauges[k], after_gauges[k]
        res.append((k, a, b, peak.get(k, "-"), "<= %d" % a, b <= a))
    res.append(("descriptors (/proc/PID/fd)", base_proc["fds"], after_proc["fds"], peak.get("fds", "-"),
                "<= %d" % base_proc["fds"], after_proc["fds"] <= base_proc["fds"]))
    res.append(("threads", base_proc["threads"], after_proc["threads"], "-", "<= %d" % base_proc["threads"],
                after_proc["threads"] <= base_proc["threads"]))
    res.append(("event loops with a timer armed", "%d of %d" % (base_proc["armed"], base_proc["loops"]),
                "%d of %d" % (after_proc["armed"], after_proc["loops"]), "-", "0",
                after_proc["armed"] == 0 and after_proc["loops"] == base_proc["loops"] > 0))
    mib = 1 << 20
    res.append(("RSS MiB", "%.1f" % (base_proc["rss"] / mib), "%.1f" % (after_proc["rss"] / mib),
                "%.1f" % (peak.get("rss", 0) / mib), "<= base + %d" % (RSS_TOLERANCE // mib),
                after_proc["rss"] <= base_proc["rss"] + RSS_TOLERANCE))
    rss_note = "RSS: %+.2f MiB after %d requests (%.1f bytes/request; limit %d MiB = %.1f bytes/request)" % (
        (after_proc["rss"] - base_proc["rss"]) / mib, len(records),
        (after_proc["rss"] - base_proc["rss"]) / max(1, len(records)), RSS_TOLERANCE // mib,
        RSS_TOLERANCE / max(1, len(records)))
    open_up = {n: r["open"] for n, r in after_rep.items() if r["open"]}
    res.append(("connections open at fake upstreams", 0, sum(open_up.values()), "-", "0", not open_up))

    # ---- report ----
    print()
    print("%-14s %-48s %8s  %-46s %-36s %s" % ("route", "fault", "requests", "outcomes", "expected", "result"))
    for route, recs, counts, problems in rows:
        outcome_lines = wrap(["%s: %d" % kv for kv in sorted(counts.items(), key=lambda kv: -kv[1])], 46)
        expect_lines = wrap(route["text"].split(", "), 36)
        for i in range(max(len(outcome_lines), len(expect_lines))):
            first = i == 0
            print("%-14s %-48s %8s  %-46s %-36s %s" % (
                route["name"] if first else "", route["fault"] if first else "",
                len(recs) if first else "", outcome_lines[i] if i < len(outcome_lines) else "",
                expect_lines[i] if i < len(expect_lines) else "",
                ("pass" if not problems else "FAIL") if first else ""))
        for note in route["extra"]:
            print("%-14s   %s" % ("", note))
        for p in problems[:6]:
            print("%-14s   ! %s" % ("", p))
        if problems:
            failures.append("route %s" % route["name"])
    print()
    for label, value, good, detail in checks:
        print("%-60s %-50s %s" % (label, value, "pass" if good else "FAIL"))
        for d in detail:
            print("   ! %s" % d)
        if not good:
            failures.append(label)
    print()
    print("%-38s %10s %10s %10s %14s %s" % ("resource", "baseline", "after", "peak", "limit", "result"))
    for name, a, b, pk, limit, good in res:
        print("%-38s %10s %10s %10s %14s %s" % (name, a, b, pk, limit, "pass" if good else "FAIL"))
        if not good:
            failures.append(name)
    if open_up:
        print("   ! still open at: %s" % open_up)
    print(rss_note)
    print()
    print("requests: %d in %.1f s of load (%d/s) over %d client connections (%d opened); back to rest %.1f s "
          "after the load; server gone %s" % (
              len(records), load["stopped"] - load["t0"], len(records) / max(0.001, load["stopped"] - load["t0"]),
              sum(r["conns"] for r in plan.routes), load["connections"], quiet_after,
              ", ".join("%g-%g s" % w for w in plan.vanish_windows)))


async def main_async(args):
    plan = Plan(args.base_port, args.quick)
    work = tempfile.mkdtemp(prefix="portico-chaos.")
    cfg_path = os.path.join(work, "gateway.json")
    with open(cfg_path, "w") as f:
        json.dump(plan.config(), f, indent=1)
    log_path = os.path.join(work, "gateway.log")
    started = time.monotonic()
    failures = []

    ups = Upstreams(plan)
    log = open(log_path, "wb")
    gw = subprocess.Popen([args.bin, "--config", cfg_path], stdout=subprocess.DEVNULL, stderr=log)
    try:
        await run(plan, args, gw, ups, log_path, failures)
    except RuntimeError as error:
        failures.append(str(error))
    finally:
        # Graceful stop: SIGTERM, exit 0 expected.
        if gw.poll() is None:
            gw.send_signal(signal.SIGTERM)
            try:
                status = gw.wait(15)
            except subprocess.TimeoutExpired:
                gw.kill()
                gw.wait()
                status = "killed after 15 s"
        else:
            status = gw.returncode
        ups.close()
        log.close()
    if status != 0:
        failures.append("gateway exit status after SIGTERM: %s" % status)
    with open(log_path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    errors = [l for l in lines if "level=error" in l or "level=fatal" in l or "Fatal error" in l]
    print("gateway: exit status %s after SIGTERM; process log %d lines, %d error lines" % (status, len(lines), len(errors)))
    for l in errors[:5]:
        print("   ! %s" % l)
    if errors:
        failures.append("errors in the gateway log")
    print("wall time %.1f s" % (time.monotonic() - started))
    if failures:
        print("failed: %s" % "; ".join(failures))
        print("(config and gateway log kept in %s)" % work)
        print("chaos: FAIL")
        return 1
    for p in (cfg_path, log_path):
        os.unlink(p)
    os.rmdir(work)
    print("chaos: PASS")
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--base-port", type=int, default=27400)
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
