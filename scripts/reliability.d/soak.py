#!/usr/bin/env python3
"""Soak test of the gateway, driven by scripts/soak (see that script and docs/reliability.md).

Usage: soak.py PORTICO_BIN WORK_DIR (DURATION | --quick)

Starts three `portico echo` upstreams, a Python upstream (soak_upstream.py: errors, slow
answers, large and chunked bodies, a cut body, a flaky server) and the gateway (2 workers,
admin on, access log to a file rotated at every reload), then runs a steady mixed load for
DURATION while reloading every ~10 s, sampling the gateway every 5 s into WORK_DIR/samples.csv.
At the end it stops the load, waits for the gateway to be idle, compares it with its idle
baseline from before the load, prints the slopes of every series after the warm-up, sends
SIGTERM and checks the exit status. Exit status 0 when every check passed.

Environment: BASE_PORT (27600; uses BASE_PORT..BASE_PORT+6), SOAK_RATE (requests/s of the
paced clients; 150, or 40 with --quick), SOAK_SEED (1).
"""
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak_http import MAX_BODY, PATTERN, Closed, Malformed, Reader, Truncated, chunked, field  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "soak-admin-token"
SAMPLE_EVERY = 5.0
RELOAD_EVERY = 10.0
IDLE_MS = 15000  # timeouts.idleMs: the sleepy client's long gaps go past it on purpose
POOL_IDLE_MS = 5000  # pool.idleTimeoutMs: pooled connections go once the load stops
LONG_RUN = 600  # seconds of load from which the slope criteria apply

# Pass criteria (see scripts/soak).
RSS_SLOPE_MAX = 1.0  # KiB/min after the warm-up, long runs
FD_SLOPE_MAX = 0.5  # descriptors/min after the warm-up, long runs
GAUGE_SLOPE_MAX = 0.5  # per min after the warm-up, long runs
FD_IDLE_TOLERANCE = 2  # descriptors at rest after the load vs before it
GAUGES_AT_REST = ("conns_active", "requests_active", "up_active_requests", "up_active_conns",
                  "up_idle_conns", "up_pending")


def parse_duration(text):
    if text == "--quick":
        return 60
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?", text)
    if not text or not m or not any(m.groups()):
        raise SystemExit(f"soak: bad duration {text!r} (examples: 90s, 30m, 1h, 1h30m, 45)")
    h, mi, s = (int(g or 0) for g in m.groups())
    return h * 3600 + mi * 60 + s


BIN, WORK = sys.argv[1], sys.argv[2]
QUICK = sys.argv[3] == "--quick"
DURATION = parse_duration(sys.argv[3])
BASE = int(os.environ.get("BASE_PORT", "27600"))
RATE = float(os.environ.get("SOAK_RATE", "40" if QUICK else "150"))
SEED = int(os.environ.get("SOAK_SEED", "1"))
CLIENT_TIMEOUT = 60 if QUICK else 30  # no answer within this is a failure (a hang)
IDLE_WAIT = 120 if QUICK else 60  # how long the gateway may take to be at rest again
GW, ADMIN, ECHO_A, ECHO_B, ECHO_C, PY, FLAKY = (BASE + i for i in range(7))
CONFIG = os.path.join(WORK, "gateway.json")
ACCESS_LOG = os.path.join(WORK, "access.log")
CSV = os.path.join(WORK, "samples.csv")
T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def addr(port):
    return {"address": f"127.0.0.1:{port}"}


def config(v):
    """Two valid configurations, alternated at every reload: a server removed and one
    added, a balancer, a health-check interval, deadlines, breaker, retry budget and rate
    limit changed, a rewrite added and removed."""
    pool = {"idleTimeoutMs": POOL_IDLE_MS}
    return {
        "workers": 2,
        "listeners": [{"name": "main", "address": f"127.0.0.1:{GW}"}],
        "admin": {"address": f"127.0.0.1:{ADMIN}", "token": TOKEN},
        "accessLog": {"path": ACCESS_LOG},
        "timeouts": {"idleMs": IDLE_MS, "requestHeaderMs": 10000, "drainMs": 10000},
        "upstreams": {
            "app": {"servers": [addr(ECHO_A), addr(ECHO_B)] if v == 0 else [addr(ECHO_B), addr(ECHO_C)],
                    "balance": "round_robin" if v == 0 else "least_request", "pool": pool,
                    "healthCheck": {"path": "/healthz", "intervalMs": 1000 if v == 0 else 1500}},
            "py": {"servers": [addr(PY)], "pool": pool},
            "pycut": {"servers": [addr(PY)], "pool": pool, "circuitBreaker": {"failureThreshold": 65535}},
            "pyerr": {"servers": [addr(PY)], "pool": pool,
                      "circuitBreaker": {"failureThreshold": 8 if v == 0 else 10, "openMs": 1000 if v == 0 else 1500}},
            "pyslow": {"servers": [addr(PY)], "pool": pool, "circuitBreaker": {"failureThreshold": 65535}},
            "flaky": {"servers": [addr(FLAKY), addr(ECHO_A)], "pool": pool,
                      "circuitBreaker": {"failureThreshold": 5, "openMs": 3000}},
        },
        "routes": [
            {"name": "echo", "match": {"pathPrefix": "/echo"}, "upstream": "app",
             **({"prefixRewrite": "/"} if v == 1 else {})},
            {"name": "big", "match": {"pathPrefix": "/py"}, "upstream": "py", "prefixRewrite": "/",
             "timeoutMs": 30000},
            {"name": "cut", "match": {"pathPrefix": "/cut"}, "upstream": "pycut"},
            {"name": "errors", "match": {"pathPrefix": "/err"}, "upstream": "pyerr",
             "prefixRewrite": "/status", "retries": {"maxRetries": 0}},
            {"name": "slow", "match": {"pathPrefix": "/slow"}, "upstream": "pyslow",
             "timeoutMs": 800 if v == 0 else 900, "retries": {"maxRetries": 0}},
            {"name": "retry", "match": {"pathPrefix": "/retry"}, "upstream": "flaky",
             "retries": {"maxRetries": 2, "retryOn": ["5xx", "reset"], "budgetPercent": 50 if v == 0 else 60}},
            {"name": "limited", "match": {"path": "/limited"}, "upstream": "app",
             "rateLimit": {"requestsPerSecond": 3 if v == 0 else 4, "burst": 3 if v == 0 else 4, "key": "global"}},
            {"name": "keyed", "match": {"pathPrefix": "/keyed"}, "upstream": "app",
             "rateLimit": {"requestsPerSecond": 1, "burst": 2, "key": "header:X-Soak-Key"}},
            {"name": "health", "match": {"path": "/health"}, "directResponse": {"status": 200, "body": "ok"}},
        ],
    }


def write_config(v):
    with open(CONFIG + ".tmp", "w") as f:
        json.dump(config(v), f, indent=1)
    os.replace(CONFIG + ".tmp", CONFIG)


# ---------------------------------------------------------------------------------------
# Client-side accounting


class Bad(Exception):
    """A response the gateway should not have given."""


lock = threading.Lock()
outcomes = {}  # (kind, outcome) -> count
classes = {"1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "none": 0}
conn_counts = {"opened": 0, "closed_by_gateway_idle": 0, "connection_close": 0}
failures = []  # (time, kind, what, detail)
stop = threading.Event()
abort = threading.Event()  # a fatal condition (crash, hang): stop at once


def count(kind, outcome, status):
    with lock:
        outcomes[(kind, outcome)] = outcomes.get((kind, outcome), 0) + 1
        classes[f"{status // 100}xx" if status else "none"] += 1


def fail(kind, what, detail):
    with lock:
        failures.append((now(), kind, what, detail))
        n = len(failures)
    if n <= 20:
        sys.stdout.write(f"soak: t={now():.0f}s FAILURE {kind}: {what}: {detail}\n")  # one write: threads
        sys.stdout.flush()


def done_requests():
    with lock:
        return sum(outcomes.values())


# ---------------------------------------------------------------------------------------
# Requests


class Req:
    def __init__(self, kind, method, target, headers=(), body=b"", chunked_body=False):
        self.kind, self.method, self.target = kind, method, target
        self.headers, self.body, self.chunked = list(headers), body, chunked_body


def body_size(rng):
    r = rng.random()
    if r < 0.6:
        return rng.randrange(0, 4096)
    if r < 0.88:
        return rng.randrange(4096, 65536)
    return rng.randrange(65536, MAX_BODY + 1)


def pattern_slice(rng, n):
    off = rng.randrange(0, len(PATTERN) - n)
    return off, PATTERN[off : off + n]


KINDS = [  # kind, weight
    ("echo_get", 24), ("echo_upload", 10), ("big_get", 10), ("mirror", 6), ("err", 8),
    ("slow_timeout", 3), ("slow_ok", 4), ("retry_get", 8), ("retry_put", 3), ("keyed", 3),
    ("health", 3), ("noroute", 2), ("cut", 1), ("abort_big", 1), ("abort_slow", 1),
]


def make(kind, rng, n):
    if kind == "echo_get":
        return Req(kind, "GET", f"/echo/k/{n}?q={n}")
    if kind == "echo_upload":
        _, body = pattern_slice(rng, body_size(rng))
        return Req(kind, "POST", f"/echo/up/{n}", body=body, chunked_body=rng.random() < 0.3)
    if kind == "big_get":
        size = body_size(rng)
        off, _ = pattern_slice(rng, size)
        ch = rng.random() < 0.3
        return Req(kind, "GET", f"/py/bytes/{size}/{off}" + ("?chunked=1" if ch else ""))
    if kind == "mirror":
        _, body = pattern_slice(rng, body_size(rng))
        return Req(kind, rng.choice(("POST", "PUT")), "/py/mirror", body=body, chunked_body=rng.random() < 0.3)
    if kind == "err":
        return Req(kind, "GET", f"/err/{rng.choice((500, 502, 503, 504, 200))}")
    if kind == "slow_timeout":
        if rng.random() < 0.5:
            return Req(kind, "GET", "/slow/3000", headers=[("X-Request-Timeout-Ms", "200")])
        return Req(kind, "GET", "/slow/3000")
    if kind == "slow_ok":
        return Req(kind, "GET", "/slow/30")
    if kind == "retry_get":
        return Req(kind, "GET", f"/retry/{n}")
    if kind == "retry_put":
        _, body = pattern_slice(rng, rng.randrange(0, 48 * 1024))
        return Req(kind, "PUT", f"/retry/put/{n}", body=body)
    if kind == "keyed":
        return Req(kind, "GET", f"/keyed/{n}", headers=[("X-Soak-Key", str(rng.randrange(10**9)))])
    if kind == "limited":
        return Req(kind, "GET", "/limited")
    if kind == "health":
        return Req(kind, "GET", "/health")
    if kind == "noroute":
        return Req(kind, "GET", f"/nowhere/{n}")
    if kind == "cut":
        return Req(kind, "GET", f"/cut/{rng.randrange(1, 200000)}")
    if kind == "abort_big":
        return Req(kind, "GET", f"/py/bytes/{MAX_BODY}/0")
    if kind == "abort_slow":
        return Req(kind, "GET", "/slow/3000")
    raise ValueError(kind)


def gateway_error(status, fields, body):
    code = field(fields, "x-gateway-error")
    if code is None:
        return None
    try:
        j = json.loads(body)
    except ValueError:
        raise Bad(f"{status} {code} with a body that is not JSON: {body[:80]!r}")
    if j.get("error") != code or not j.get("requestId"):
        raise Bad(f"{status} X-Gateway-Error {code} but body {body[:120]!r}")
    return code


def as_json(status, body):
    try:
        return json.loads(body)
    except ValueError:
        raise Bad(f"{status} with a body that is not JSON: {body[:80]!r}")


def check_echo(req, status, fields, body, names=("a", "b", "c")):
    if status != 200:
        raise Bad(f"status {status}, body {body[:120]!r}")
    j = as_json(status, body)
    if j.get("name") not in names or j.get("method") != req.method or j.get("bodyBytes") != len(req.body):
        raise Bad(f"echo answered {json.dumps({k: j.get(k) for k in ('name', 'method', 'path', 'bodyBytes')})}"
                  f" for {req.method} {req.target} with {len(req.body)} body bytes")
    path = req.target.split("?")[0]
    if not j.get("path", "").endswith(path[len("/echo"):] if path.startswith("/echo") else path):
        raise Bad(f"echo saw path {j.get('path')!r} for {req.target}")
    return "200"


def check(req, status, fields, body):
    """Returns the outcome's name, or raises Bad."""
    code = gateway_error(status, fields, body)
    k = req.kind
    if k in ("echo_get", "echo_upload"):
        return check_echo(req, status, fields, body)
    if k == "big_get":
        size, off = (int(x) for x in req.target.split("?")[0].split("/")[3:5])
        if status != 200 or body != PATTERN[off : off + size]:
            raise Bad(f"status {status}, {len(body)} body bytes, expected 200 and {size} pattern bytes"
                      f"{' (content differs)' if len(body) == size else ''}")
        return "200"
    if k == "mirror":
        if status != 200 or body != req.body:
            raise Bad(f"status {status}, {len(body)} bytes back for {len(req.body)} sent"
                      f"{' (content differs)' if len(body) == len(req.body) else ''}")
        return "200"
    if k == "err":
        want = int(req.target.rsplit("/", 1)[1])
        if code == "circuit_open" and status == 503:
            return "503 circuit_open"
        if code is None and status == want and as_json(status, body) == {"server": "py", "status": want}:
            return f"{want} from upstream"
        raise Bad(f"status {status} ({code}) for an upstream {want}: {body[:120]!r}")
    if k in ("slow_timeout", "slow_ok"):
        if status == 504 and code == "deadline_exceeded":
            return "504 deadline_exceeded"
        if k == "slow_ok" and status == 200 and as_json(status, body) == {"server": "py", "slept": 30}:
            return "200"
        raise Bad(f"status {status} ({code}): {body[:120]!r}")
    if k in ("retry_get", "retry_put"):
        if status == 200:
            j = as_json(status, body)
            if j.get("server") == "flaky" and j.get("bodyBytes") == len(req.body):
                return "200 from flaky"
            check_echo(req, status, fields, body, names=("a",))
            return "200 from echo after retry or first"
        if status == 503 and code is None and as_json(status, body) == {"server": "flaky", "status": 503}:
            return "503 from flaky (retries exhausted)"
        if status == 502 and code == "upstream_reset":
            return "502 upstream_reset (retries exhausted)"
        raise Bad(f"status {status} ({code}): {body[:120]!r}")
    if k in ("limited", "keyed"):
        if field(fields, "ratelimit-limit") is None or field(fields, "ratelimit") is None:
            raise Bad(f"status {status} without RateLimit fields")
        if status == 429 and code == "rate_limited" and (field(fields, "retry-after") or "").isdigit():
            return "429 rate_limited"
        check_echo(req, status, fields, body)
        return "200"
    if k == "health":
        if status == 200 and body == b"ok":
            return "200"
        raise Bad(f"status {status}: {body[:80]!r}")
    if k == "noroute":
        if status == 404 and code == "no_route":
            return "404 no_route"
        raise Bad(f"status {status} ({code})")
    if k == "cut":
        if status == 502 and code in ("upstream_reset", "upstream_bad_response"):
            return f"502 {code}"
        raise Bad(f"a cut upstream body arrived whole: status {status}, {len(body)} bytes")
    raise Bad(f"unexpected kind {k}")


class Client:
    """One client connection slot. mode: keepalive, fresh (a new connection per request,
    half of them asking Connection: close), sleepy (keep-alive with long idle gaps)."""

    def __init__(self, name, mode, seed):
        self.name, self.mode = name, mode
        self.rng = random.Random(seed)
        self.sock = self.reader = None
        self.on_conn = 0
        self.last_used = 0.0
        self.last_target = ""
        self.n = 0

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = self.reader = None

    def connect(self):
        self.close()
        self.sock = socket.create_connection(("127.0.0.1", GW), timeout=CLIENT_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = Reader(self.sock)
        self.on_conn = 0
        with lock:
            conn_counts["opened"] += 1

    def usable(self):
        """Before reusing a kept-alive connection: did the gateway close it meanwhile?"""
        if self.sock is None:
            return False
        readable, _, _ = select.select([self.sock], [], [], 0)
        if not readable:
            return True
        try:
            data = self.sock.recv(1, socket.MSG_PEEK)
        except OSError as e:
            data = repr(e).encode()
        idle = time.monotonic() - self.last_used
        if data == b"" and idle >= IDLE_MS / 1000 - 0.5:
            with lock:
                conn_counts["closed_by_gateway_idle"] += 1
        else:
            fail("connection", "an idle keep-alive connection was closed or got bytes unasked",
                 f"after {idle:.1f} s idle (idleMs {IDLE_MS}), {self.on_conn} requests on it, "
                 f"read {data[:60]!r}; last request {self.last_target}")
        self.close()
        return False

    def run_one(self, kind):
        self.n += 1
        req = make(kind, self.rng, self.n)
        if self.mode == "fresh" or not self.usable():
            try:
                self.connect()
            except OSError as e:
                fail(kind, "connect refused or failed", f"{req.method} {req.target}: {e!r}")
                return
        self.on_conn += 1
        self.last_target = f"{req.method} {req.target}"
        rid = f"soak-{self.name}-{self.n}"
        ask_close = self.mode == "fresh" and self.n % 2 == 0
        head = [f"{req.method} {req.target} HTTP/1.1", f"Host: soak.test:{GW}", f"X-Request-Id: {rid}"]
        head += [f"{k}: {v}" for k, v in req.headers]
        if ask_close:
            head.append("Connection: close")
        if req.method in ("POST", "PUT"):
            head.append("Transfer-Encoding: chunked" if req.chunked else f"Content-Length: {len(req.body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode()
        data += chunked(req.body, self.rng) if req.chunked else req.body
        started = time.monotonic()
        where = (f"{req.method} {req.target} ({len(req.body)} body bytes{', chunked' if req.chunked else ''}),"
                 f" X-Request-Id {rid}, request {self.on_conn} on a {self.mode} connection")
        status = None
        try:
            self.sock.sendall(data)
            if kind == "abort_slow":
                time.sleep(0.1)
                self.close()
                count(kind, "aborted while waiting", None)
                return
            line, fields = self.reader.read_head()
            parts = line.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise Malformed(f"status line {line[:80]!r}")
            status = int(parts[1])
            if kind == "abort_big":
                if status != 200:
                    raise Bad(f"status {status}")
                self.reader.read_exact(min(len(self.reader.buf) + 1, 1000))
                self.close()
                count(kind, "aborted mid-body", status)
                return
            framed = field(fields, "content-length") is not None or field(fields, "transfer-encoding") is not None
            try:
                body = self.reader.read_body(fields, close_delimited=not framed and status not in (204, 304))
            except (Truncated, ConnectionResetError) as e:
                if kind == "cut" and status == 200:
                    self.close()
                    count(kind, "200 truncated, connection closed", status)
                    return
                raise
            outcome = check(req, status, fields, body)
            count(kind, outcome, status)
            closes = (field(fields, "connection") or "").lower() == "close" or not framed
            if closes or ask_close or self.mode == "fresh":
                if closes:
                    with lock:
                        conn_counts["connection_close"] += 1
                self.close()
            elif self.mode == "keepalive" and self.on_conn >= self.rng.randrange(50, 400):
                self.close()  # churn: a long-lived connection ends now and then
            self.last_used = time.monotonic()
        except Bad as e:
            fail(kind, "wrong answer", f"{where}: {e}")
            self.close()
        except (OSError, Closed, Truncated, Malformed, ValueError) as e:
            what = "no answer in time" if isinstance(e, socket.timeout) else \
                   "connection closed or reset" if isinstance(e, (Closed, Truncated, OSError)) else "malformed answer"
            fail(kind, what, f"{where}: {e!r} after {time.monotonic() - started:.3f} s"
                             f"{'' if status is None else f', status {status}'}")
            self.close()


def paced_worker(client, interval, weights):
    kinds = [k for k, _ in weights]
    w = [x for _, x in weights]
    next_at = time.monotonic() + client.rng.random() * interval
    while not stop.is_set():
        delay = next_at - time.monotonic()
        if delay > 0:
            stop.wait(delay)
            if stop.is_set():
                break
        next_at = max(next_at + interval, time.monotonic() - interval)
        client.run_one(client.rng.choices(kinds, w)[0])
    client.close()


def sleepy_worker(client, weights):
    kinds = [k for k, _ in weights if not k.startswith("abort") and k != "cut"]
    w = [x for k, x in weights if not k.startswith("abort") and k != "cut"]
    while not stop.is_set():
        client.run_one(client.rng.choices(kinds, w)[0])
        # gaps well inside idleMs, and one in four well past it (the gateway closes the
        # connection, which the client must see before it sends again)
        gap = client.rng.uniform(IDLE_MS / 1000 + 3, IDLE_MS / 1000 + 6) if client.rng.random() < 0.25 \
            else client.rng.uniform(0.2, IDLE_MS / 1000 - 5)
        stop.wait(gap)
    client.close()


def limited_worker(client):
    """Bursts of 6 requests each second on one connection to a route limited to 3-4/s."""
    while not stop.is_set():
        for _ in range(6):
            client.run_one("limited")
        stop.wait(1.0)
    client.close()


# ---------------------------------------------------------------------------------------
# Sampling


def admin_get(path, timeout=10):
    with socket.create_connection(("127.0.0.1", ADMIN), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer {TOKEN}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        r = Reader(s)
        line, fields = r.read_head()
        body = r.read_body(fields, close_delimited=True)
        return int(line.split(" ")[1]), body


def get_stats():
    status, body = admin_get("/stats")
    if status != 200:
        raise RuntimeError(f"/stats answered {status}")
    return json.loads(body)


def gauges(s):
    servers = [srv for up in s["upstreams"].values() for srv in up["servers"].values()]
    return {
        "conns_active": s["connections"]["active"],
        "requests_active": s["requests"]["active"],
        "up_active_requests": sum(x["activeRequests"] for x in servers),
        "up_active_conns": sum(x["activeConnections"] for x in servers),
        "up_idle_conns": sum(x["idleConnections"] for x in servers),
        "up_pending": sum(up["pending"] for up in s["upstreams"].values()),
        "circuits_not_closed": sum(x["circuit"] != "closed" for x in servers),
        "servers_unhealthy": sum(not x["healthy"] for x in servers),
        "generation": s["config"]["generation"],
        "requests_total": s["requests"]["total"],
        "log_dropped": s["accessLog"]["dropped"],
    }


def proc_sample(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "Threads"):
                out[k] = int(v.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/stat") as f:
        fields_ = f.read().rsplit(")", 1)[1].split()
    out["cpu_ticks"] = int(fields_[11]) + int(fields_[12])
    return out


def cpu_seconds(procs):
    """CPU seconds used so far: (gateway, echo servers, Python upstream, this client)."""
    def of(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
            return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0
    t = os.times()
    return {"gateway": of(procs[-1].pid), "echo upstreams": sum(of(p.pid) for p in procs[:3]),
            "Python upstream": of(procs[3].pid), "Python client": t.user + t.system}


def system_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


COLUMNS = ["t_s", "phase", "rss_kib", "rss_anon_kib", "fds", "threads", "conns_active", "requests_active",
           "up_active_requests", "up_active_conns", "up_idle_conns", "up_pending", "circuits_not_closed",
           "servers_unhealthy", "generation", "requests_total", "log_dropped", "client_requests",
           "gateway_cpu_pct", "machine_cpu_pct"]
SERIES = [("rss_kib", "KiB"), ("rss_anon_kib", "KiB"), ("fds", "fds"), ("threads", "threads"),
          ("conns_active", "conns"), ("requests_active", "reqs"), ("up_active_requests", "reqs"),
          ("up_active_conns", "conns"), ("up_idle_conns", "conns"), ("up_pending", "reqs"),
          ("circuits_not_closed", "servers"), ("servers_unhealthy", "servers")]
SLOPE_CHECKED = {"fds": FD_SLOPE_MAX, "threads": GAUGE_SLOPE_MAX, "conns_active": GAUGE_SLOPE_MAX,
                 "requests_active": GAUGE_SLOPE_MAX, "up_active_requests": GAUGE_SLOPE_MAX,
                 "up_active_conns": GAUGE_SLOPE_MAX, "up_idle_conns": GAUGE_SLOPE_MAX,
                 "up_pending": GAUGE_SLOPE_MAX}


class Sampler:
    def __init__(self, gateway):
        self.gw = gateway
        self.rows = []
        self.misses = 0
        self.prev = None
        self.file = open(CSV, "w")
        self.file.write(",".join(COLUMNS) + "\n")

    def sample(self, phase):
        """One row; returns False when the gateway is gone or its admin endpoint hangs."""
        if self.gw.poll() is not None:
            fail("gateway", "the gateway process exited", f"status {self.gw.returncode} at t={now():.0f}s")
            return False
        try:
            p = proc_sample(self.gw.pid)
        except OSError as e:
            fail("gateway", "cannot read /proc", repr(e))
            return False
        busy, total = system_busy()
        t = now()
        try:
            g = gauges(get_stats())
            self.misses = 0
        except (OSError, ValueError, RuntimeError, Closed, Truncated, Malformed, KeyError) as e:
            self.misses += 1
            print(f"soak: t={t:.0f}s /stats failed ({e!r}), {self.misses} in a row", flush=True)
            if self.misses >= 3:
                fail("gateway", "the admin endpoint stopped answering /stats", repr(e))
                return False
            return True
        cpu = mcpu = ""
        if self.prev is not None:
            pt, pticks, pbusy, ptotal = self.prev
            cpu = f"{100 * (p['cpu_ticks'] - pticks) / os.sysconf('SC_CLK_TCK') / (t - pt):.1f}"
            mcpu = f"{100 * (busy - pbusy) / max(1, total - ptotal):.1f}"
        self.prev = (t, p["cpu_ticks"], busy, total)
        row = {"t_s": f"{t:.1f}", "phase": phase, "rss_kib": p["VmRSS"], "rss_anon_kib": p["RssAnon"],
               "fds": p["fds"], "threads": p["Threads"], **g, "client_requests": done_requests(),
               "gateway_cpu_pct": cpu, "machine_cpu_pct": mcpu}
        self.rows.append(row)
        self.file.write(",".join(str(row[c]) for c in COLUMNS) + "\n")
        self.file.flush()
        return True


def at_rest(gateway, baseline_fds, timeout, sampler=None):
    """Waits until every gauge is 0 (and the descriptors are back to the baseline, when
    given). Returns (reached, gauges, fds)."""
    deadline = time.monotonic() + timeout
    next_row = time.monotonic() + SAMPLE_EVERY
    g, fds = {}, -1
    while True:
        if gateway.poll() is not None:
            return False, g, fds
        try:
            fds = len(os.listdir(f"/proc/{gateway.pid}/fd"))
            g = gauges(get_stats())
        except (OSError, ValueError, RuntimeError, Closed, Truncated, Malformed):
            g = {}
        if g and all(g[k] == 0 for k in GAUGES_AT_REST) and (baseline_fds is None or fds <= baseline_fds):
            return True, g, fds
        if time.monotonic() > deadline:
            return False, g, fds
        if sampler is not None and time.monotonic() >= next_row:
            sampler.sample("idle")
            next_row += SAMPLE_EVERY
        time.sleep(0.5)


# ---------------------------------------------------------------------------------------
# Reloads


reload_counts = {"sent": 0, "applied": 0}


def reloader(gateway):
    v = 0
    next_at = time.monotonic() + RELOAD_EVERY
    while not stop.is_set():
        if stop.wait(max(0, next_at - time.monotonic())):
            break
        next_at += RELOAD_EVERY
        v ^= 1
        try:
            generation = get_stats()["config"]["generation"]
        except Exception as e:  # noqa: BLE001 - the sampler reports an admin endpoint that hangs
            print(f"soak: reload skipped, /stats failed: {e!r}", flush=True)
            continue
        write_config(v)
        reload_counts["sent"] += 1
        # rotation as an operator does it: rename, then reload (the gateway reopens the path)
        try:
            os.rename(ACCESS_LOG, os.path.join(WORK, f"access-{reload_counts['sent']:05d}.log"))
            os.remove(os.path.join(WORK, f"access-{reload_counts['sent'] - 3:05d}.log"))  # keep the last 3
        except FileNotFoundError:
            pass
        os.kill(gateway.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not stop.is_set():
            time.sleep(0.2)
            try:
                s = get_stats()
            except Exception:  # noqa: BLE001
                continue
            if s["config"]["reloads"]["failed"]:
                fail("reload", "a reload of a valid file failed", repr(s["config"]["lastError"]))
                return
            if s["config"]["generation"] > generation:
                reload_counts["applied"] += 1
                break
        else:
            if not stop.is_set():
                fail("reload", "SIGHUP did not make a new generation within 10 s", f"generation {generation}")


# ---------------------------------------------------------------------------------------
# Analysis


def slope_per_min(points):
    return fit(points)[0]


def fit(points):
    """Least-squares slope per minute of (seconds, value) points, and its standard error
    (white-noise estimate; the RSS noise is not white, so read it as a lower bound)."""
    n = len(points)
    if n < 3:
        return 0.0, 0.0
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return 0.0, 0.0
    b = sum((t - mt) * (y - my) for t, y in points) / var
    resid = sum((y - my - b * (t - mt)) ** 2 for t, y in points)
    return 60 * b, 60 * (resid / (n - 2) / var) ** 0.5


def report(sampler, load_start, load_end, checks):
    load_len = load_end - load_start
    # The heap reaches its working size over the first minutes of this mix (bodies of
    # random sizes up to 1 MiB; glibc raises its mmap threshold as large blocks are freed,
    # so later ones come from the heap): a 30-minute run measured +260 KiB of RssAnon
    # until minute 12, flat after. Judging the last two thirds looks at the steady state.
    warmup = max(load_len / 3, 120) if load_len >= LONG_RUN else min(0.2 * load_len, 120)
    rows = [r for r in sampler.rows if r["phase"] == "load" and float(r["t_s"]) >= load_start + warmup]
    long_run = load_len >= LONG_RUN
    cpu = [float(r["gateway_cpu_pct"]) for r in sampler.rows if r["phase"] == "load" and r["gateway_cpu_pct"]]
    mcpu = [float(r["machine_cpu_pct"]) for r in sampler.rows if r["phase"] == "load" and r["machine_cpu_pct"]]
    if cpu:
        print(f"CPU during the load: gateway {sum(cpu) / len(cpu):.0f}% of one core on average (max {max(cpu):.0f}%),"
              f" whole machine {sum(mcpu) / max(1, len(mcpu)):.0f}% of {os.cpu_count()} cores (max {max(mcpu or [0]):.0f}%)")
    print(f"series after the warm-up ({warmup:.0f} s; {len(rows)} samples from t={load_start + warmup:.0f}s"
          f" to t={load_end:.0f}s; slopes by least squares):")
    print(f"  {'series':<30} {'slope/min':>10} {'± s.e.':>8} {'2nd half':>10} {'min':>8} {'max':>8} {'first':>8}"
          f" {'last':>8}")
    for name, unit in SERIES:
        pts = [(float(r["t_s"]), float(r[name])) for r in rows]
        if not pts:
            continue
        s, se = fit(pts)
        s2 = slope_per_min(pts[len(pts) // 2:])
        ys = [y for _, y in pts]
        print(f"  {name + ' (' + unit + ')':<30} {s:>+10.3f} {se:>8.3f} {s2:>+10.3f} {min(ys):>8.0f} {max(ys):>8.0f}"
              f" {ys[0]:>8.0f} {ys[-1]:>8.0f}")
        if not long_run or len(pts) < 10:
            continue
        if name == "rss_kib":
            checks.append((s < RSS_SLOPE_MAX, f"RSS slope {s:+.3f} KiB/min < {RSS_SLOPE_MAX} KiB/min"))
        elif name in SLOPE_CHECKED:
            lim = SLOPE_CHECKED[name]
            checks.append((abs(s) < lim, f"{name} slope |{s:+.3f}|/min < {lim}/min"))
    if not long_run:
        print(f"  (load shorter than {LONG_RUN // 60} min: slopes reported, not checked; the check is the return"
              " to the idle baseline below)")


def main():
    os.makedirs(WORK, exist_ok=True)
    procs = []
    logs = open(os.path.join(WORK, "upstreams.log"), "w")

    def spawn(args, out=logs):
        p = subprocess.Popen(args, stdout=out, stderr=out, start_new_session=True)
        procs.append(p)
        return p

    def wait_port(port, what):
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"soak: {what} does not listen on port {port}")

    def shutdown():
        for p in procs:
            if p.poll() is None:
                p.kill()
        for p in procs:
            p.wait()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        return run(spawn, wait_port, procs)
    except KeyboardInterrupt:
        print("soak: interrupted", flush=True)
        return 130
    finally:
        stop.set()
        shutdown()


def run(spawn, wait_port, procs):
    for port, name in ((ECHO_A, "a"), (ECHO_B, "b"), (ECHO_C, "c")):
        spawn([BIN, "echo", "--listen", f"127.0.0.1:{port}", "--name", name])
    spawn([sys.executable, os.path.join(HERE, "soak_upstream.py"), str(PY), str(FLAKY)])
    for port in (ECHO_A, ECHO_B, ECHO_C, PY, FLAKY):
        wait_port(port, "an upstream")
    write_config(0)
    gateway_log = open(os.path.join(WORK, "gateway.log"), "w")
    gw = spawn([BIN, "--config", CONFIG], out=gateway_log)
    wait_port(GW, "the gateway")
    print(f"soak: gateway pid {gw.pid} on 127.0.0.1:{GW} (admin :{ADMIN}), {DURATION} s of load at "
          f"~{RATE:g} req/s + bursts to a rate-limited route, a reload every {RELOAD_EVERY:g} s", flush=True)
    print(f"soak: samples every {SAMPLE_EVERY:g} s in {CSV}", flush=True)

    # Priming: every kind once, then the idle baseline (lazily opened descriptors, pools
    # and threads exist by then).
    primer = Client("prime", "keepalive", SEED)
    for kind, _ in KINDS + [("limited", 1)]:
        primer.run_one(kind)
    primer.close()
    if failures:
        print("soak: FAIL (priming requests failed)")
        return 1
    ok, g, _ = at_rest(gw, None, IDLE_WAIT)
    if not ok:
        fail("gateway", "not at rest after the priming requests", json.dumps(g))
        return 1
    fd_readings = []
    for _ in range(6):
        fd_readings.append(len(os.listdir(f"/proc/{gw.pid}/fd")))
        time.sleep(0.25)
    base = proc_sample(gw.pid)
    base_fds = min(fd_readings)
    print(f"soak: idle baseline after priming: RSS {base['VmRSS']} KiB, {base_fds} descriptors, "
          f"{base['Threads']} threads", flush=True)

    sampler = Sampler(gw)
    sampler.sample("baseline")
    weights = KINDS
    per_mode = max(3, -(-int(RATE) // 25))  # threads per mode; a slow request holds one for up to 0.9 s
    paced = [Client(f"k{i}", "keepalive", SEED * 1000 + i) for i in range(per_mode)]
    paced += [Client(f"f{i}", "fresh", SEED * 1000 + 100 + i) for i in range(per_mode)]
    threads = [threading.Thread(target=paced_worker, args=(c, len(paced) / RATE, weights), daemon=True)
               for c in paced]
    threads.append(threading.Thread(target=sleepy_worker, args=(Client("s0", "sleepy", SEED * 1000 + 200), weights),
                                    daemon=True))
    threads.append(threading.Thread(target=limited_worker, args=(Client("l0", "keepalive", SEED * 1000 + 300),),
                                    daemon=True))
    reload_thread = threading.Thread(target=reloader, args=(gw,), daemon=True)
    crashed = threading.Event()

    def watch():
        code = gw.wait()
        if not stop.is_set():
            name = f" ({signal.Signals(-code).name})" if code < 0 else ""
            fail("gateway", "the gateway process exited during the load", f"status {code}{name} at t={now():.1f}s")
            crashed.set()
            stop.set()

    load_start = now()
    threading.Thread(target=watch, daemon=True).start()
    for t in threads:
        t.start()
    reload_thread.start()

    next_sample = time.monotonic() + SAMPLE_EVERY
    next_progress = time.monotonic() + (60 if DURATION >= 300 else 15)
    end_at = time.monotonic() + DURATION
    alive = True
    while time.monotonic() < end_at and not stop.is_set():
        stop.wait(max(0, min(next_sample, end_at) - time.monotonic()))
        if stop.is_set():
            alive = False
            break
        if time.monotonic() >= next_sample:
            next_sample += SAMPLE_EVERY
            if not sampler.sample("load"):
                alive = False
                break
        if time.monotonic() >= next_progress and sampler.rows:
            next_progress += 60 if DURATION >= 300 else 15
            r = sampler.rows[-1]
            print(f"soak: t={now():.0f}s client requests {done_requests()}, failures {len(failures)}, "
                  f"RSS {r['rss_kib']} KiB, fds {r['fds']}, client conns {r['conns_active']}, "
                  f"idle upstream conns {r['up_idle_conns']}, gateway CPU {r['gateway_cpu_pct']}%, "
                  f"reloads {reload_counts['applied']}", flush=True)
    load_end = now()
    cpu_used = cpu_seconds(procs)
    stop.set()
    hung = []
    for t in threads + [reload_thread]:
        t.join(timeout=CLIENT_TIMEOUT + 10)
        if t.is_alive():
            hung.append(t.name)
    if hung:
        fail("client", "client threads still waiting for an answer after the load stopped", ", ".join(hung))

    checks = []
    final_stats = None
    rest_ok, rest_g, rest_fds = False, {}, -1
    if crashed.is_set():
        with open(os.path.join(WORK, "gateway.log")) as f:
            tail = f.readlines()[-10:]
        print("soak: the gateway exited during the load; the end of its log:\n" + "".join("    " + l for l in tail))
    if alive and gw.poll() is None:
        rest_ok, rest_g, rest_fds = at_rest(gw, base_fds, IDLE_WAIT, sampler)
        sampler.sample("idle")
        try:
            final_stats = get_stats()
        except Exception as e:  # noqa: BLE001
            fail("gateway", "/stats failed after the load", repr(e))
    end = proc_sample(gw.pid) if gw.poll() is None else None

    print()
    print(f"soak: load ran {load_end - load_start:.0f} s; samples in {CSV}")
    print("CPU used during the run: " + ", ".join(f"{k} {v:.0f} s ({100 * v / (load_end - load_start):.0f}%"
                                                  " of one core)" for k, v in cpu_used.items()))
    report(sampler, load_start, load_end, checks)

    # client-side outcomes
    with lock:
        total = sum(outcomes.values())
        print(f"client: {total} requests answered as expected ({total / (load_end - load_start):.0f}/s),"
              f" {len(failures)} unexpected failures; "
              f"{conn_counts['opened']} connections opened, {conn_counts['connection_close']} closed by the "
              f"gateway with Connection: close, {conn_counts['closed_by_gateway_idle']} closed by its idle timeout")
        print("client: status classes " + ", ".join(f"{k} {v}" for k, v in classes.items() if v))
        by_kind = {}
        for (kind, outcome), n in sorted(outcomes.items()):
            by_kind.setdefault(kind, []).append(f"{outcome}: {n}")
        for kind, items in by_kind.items():
            print(f"  {kind:<13} " + "; ".join(items))
        kinds_seen = {k for k, _ in outcomes}
        if failures:
            groups = {}
            for t, kind, what, detail in failures:
                groups.setdefault((kind, what), []).append((t, detail))
            print("unexpected failures:")
            for (kind, what), items in groups.items():
                print(f"  {len(items)} x {kind}: {what}")
                for t, detail in items[:3]:
                    print(f"      t={t:.0f}s {detail}")
    if final_stats is not None:
        routes = final_stats["routes"]
        print("gateway /stats: " + "; ".join(
            f"{name} {r['requests']} (retries {r['retries']}, timeouts {r['timeouts']}, "
            f"cancelled {r['cancelled']}, rate-limited {r['rateLimited']})" for name, r in routes.items()))
        ups = final_stats["upstreams"]
        print("gateway /stats upstreams: " + "; ".join(
            f"{name} attempts {u['requests']} failures {u['failures']} stale reuses "
            f"{sum(s.get('staleReuses', 0) for s in u['servers'].values())}" for name, u in ups.items()))
        print(f"gateway /stats: connections accepted {final_stats['connections']['accepted']}, rejected "
              f"{final_stats['connections']['rejected']}; access log written {final_stats['accessLog']['written']}, "
              f"dropped {final_stats['accessLog']['dropped']}; reloads {final_stats['config']['reloads']}")

    # at rest after the load
    if end is not None:
        print(f"at rest after the load: {rest_fds} descriptors (baseline {base_fds}), {end['Threads']} threads "
              f"(baseline {base['Threads']}), RSS {end['VmRSS']} KiB (baseline {base['VmRSS']}, "
              f"+{end['VmRSS'] - base['VmRSS']} KiB, reported only), gauges "
              + ", ".join(f"{k} {rest_g.get(k, '?')}" for k in GAUGES_AT_REST))

    checks.append((alive and end is not None, "the gateway ran through the load (process alive, /stats answering)"))
    checks.append((not failures, "no unexpected client-side failure (resets, hangs, wrong statuses or bodies)"))
    if end is not None:
        checks.append((bool(rest_g) and all(rest_g.get(k) == 0 for k in GAUGES_AT_REST),
                       f"every gauge back to 0 within {IDLE_WAIT} s of the load's end"))
        checks.append((rest_fds - base_fds <= FD_IDLE_TOLERANCE,
                       f"descriptors at rest {rest_fds} - baseline {base_fds} <= {FD_IDLE_TOLERANCE}"))
        checks.append((end["Threads"] == base["Threads"], "threads at rest == baseline"))
    expected = {"err": "503 circuit_open", "slow_timeout": "504 deadline_exceeded", "limited": "429 rate_limited"}
    with lock:
        covered = all(kind in kinds_seen for kind, _ in KINDS) and all(
            (k, o) in outcomes for k, o in expected.items()) and any(
            k == "err" and o.endswith("from upstream") and not o.startswith("200") for k, o in outcomes)
    retries = final_stats["routes"]["retry"]["retries"] if final_stats else 0
    checks.append((covered and retries > 0, "the mix ran: every kind of request, upstream 5xx, circuit_open, "
                                             f"deadline_exceeded, 429 and retries ({retries}) all seen"))
    if DURATION >= 2 * RELOAD_EVERY and final_stats is not None:
        r = final_stats["config"]["reloads"]
        checks.append((r["succeeded"] == reload_counts["sent"] >= 1 and r["failed"] == 0,
                       f"every reload applied ({r['succeeded']} of {reload_counts['sent']}, {r['failed']} failed)"))

    # graceful stop
    if gw.poll() is None:
        gw.send_signal(signal.SIGTERM)
        try:
            code = gw.wait(timeout=20)
        except subprocess.TimeoutExpired:
            code = None
        checks.append((code == 0, f"SIGTERM: the gateway exited {code} (0 expected within 20 s)"))
    warn = {}
    with open(os.path.join(WORK, "gateway.log")) as f:
        for line in f:
            m = re.search(r'level=(warn|error) msg="([^"]*)"', line)
            if m:
                warn[m.groups()] = warn.get(m.groups(), 0) + 1
    if warn:
        print("gateway log: " + "; ".join(f"{n} x {lvl} {msg!r}" for (lvl, msg), n in sorted(warn.items())))

    print()
    for ok, text in checks:
        print(f"  [{'ok' if ok else 'FAIL'}] {text}")
    passed = all(ok for ok, _ in checks)
    if passed:
        # keep the samples and logs, drop the rotated access logs
        for name in os.listdir(WORK):
            if re.fullmatch(r"access-\d+\.log", name):
                os.remove(os.path.join(WORK, name))
    print(f"soak: work dir {WORK} (samples.csv, gateway.log, access logs)")
    print(f"soak: {'PASS' if passed else 'FAIL'}", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
