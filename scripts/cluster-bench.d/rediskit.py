"""Redis for scripts/cluster-bench: the server process, a raw RESP client (no redis-py: the
scripts use the standard library only), the operation counters and a MONITOR recorder."""
import os
import signal
import socket
import subprocess
import threading
import time

# The calls the cluster limiter makes: EVALSHA, and EVAL once after NOSCRIPT. TIME, GET and
# SET inside the script are not round trips and are not counted.
LIMITER_COMMANDS = ("evalsha", "eval")


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespError(Exception):
    pass


class Client:
    """A blocking RESP2 connection with a timeout (a stopped Redis must not stall a caller)."""

    def __init__(self, port, timeout=0.5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ConnectionError("not RESP: %r" % line[:40])

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.read()


def command_calls(port, timeout=0.5):
    """{command: calls + rejected calls} from INFO commandstats, or None when Redis does not
    answer in time (dead or stopped)."""
    try:
        c = Client(port, timeout)
        try:
            text = c.call("INFO", "commandstats").decode()
        finally:
            c.close()
    except (OSError, ConnectionError, RespError):
        return None
    out = {}
    for line in text.splitlines():
        if line.startswith("cmdstat_"):
            name, _, fields = line[8:].partition(":")
            kv = dict(f.split("=", 1) for f in fields.split(","))
            out[name] = int(kv.get("calls", 0)) + int(kv.get("rejected_calls", 0))
    return out


def limiter_ops(calls):
    return None if calls is None else sum(calls.get(c, 0) for c in LIMITER_COMMANDS)


class Server:
    """One redis-server process, stopped and killed by its own pid only."""

    def __init__(self, port, workdir, log_path):
        self.port = port
        self.workdir = workdir
        self.log_path = log_path
        self.proc = None
        self.stopped = False

    def start(self, ready_within=10.0):
        """Starts it; returns (monotonic time of the spawn, of the first PONG)."""
        log = open(self.log_path, "ab")
        t_spawn = time.monotonic()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.workdir, "--loglevel", "warning"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = t_spawn + ready_within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited at start (status %s); see %s" % (
                    self.proc.returncode, self.log_path))
            try:
                c = Client(self.port, 0.2)
                try:
                    if c.call("PING") == "PONG":
                        return t_spawn, time.monotonic()
                finally:
                    c.close()
            except (OSError, ConnectionError, RespError):
                pass
            time.sleep(0.002)
        raise RuntimeError("redis-server not ready after %.0f s" % ready_within)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def signal(self, sig):
        """Sends `sig`; returns the monotonic time just after it was sent."""
        os.kill(self.proc.pid, sig)
        t = time.monotonic()
        if sig == signal.SIGSTOP:
            self.stopped = True
        elif sig == signal.SIGCONT:
            self.stopped = False
        return t

    def kill(self):
        """SIGKILL and reap; returns the time of the signal."""
        t = self.signal(signal.SIGKILL)
        self.proc.wait()
        self.stopped = False
        return t

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        if self.stopped:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Monitor(threading.Thread):
    """Records the limiter calls Redis receives (MONITOR), with the time Redis stamped on
    each (its wall clock, turned into CLOCK_MONOTONIC with an offset taken at start) and the
    client address, so a call can be traced to the gateway process that made it."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.calls = []       # (monotonic, "ip:port", command)
        self.error = None
        self.offset = time.time() - time.monotonic()
        self.client = Client(port, timeout=1.0)
        if self.client.call("MONITOR") != "OK":
            raise RuntimeError("MONITOR refused")
        self.client.sock.settimeout(None)
        self.halt = False

    def run(self):
        try:
            while not self.halt:
                line = self.client._line().decode("utf-8", "replace")
                # +1733383800.123456 [0 127.0.0.1:53412] "EVALSHA" "..." ...
                if not line.startswith("+") or "[" not in line:
                    continue
                stamp, _, rest = line[1:].partition(" [")
                where, _, command = rest.partition("] ")
                addr = where.split(" ", 1)[-1]
                name = command.split(" ", 1)[0].strip('"').lower()
                if name in LIMITER_COMMANDS:
                    self.calls.append((float(stamp) - self.offset, addr, name))
        except (OSError, ConnectionError, ValueError) as e:
            if not self.halt:
                self.error = str(e)

    def close(self):
        self.halt = True
        self.client.close()


def socket_owner(local_port, pids):
    """The pid among `pids` that owns the TCP socket bound to 127.0.0.1:`local_port` (a
    gateway's connection to Redis, as MONITOR names it), or None."""
    inode = None
    want = ":%04X" % local_port
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1].endswith(want):
                    inode = fields[9]
                    break
    except OSError:
        return None
    if inode is None:
        return None
    target = "socket:[%s]" % inode
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None
