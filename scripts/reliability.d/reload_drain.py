#!/usr/bin/env python3
"""Reload and drain under load (issue 12), driven by scripts/reload-drain.

Clients send GET requests through the gateway (half keep-alive, half a new connection per
request; some of the new connections go to a second listener that reloads add and remove)
while a reloader rewrites the config file every 100 ms (valid and invalid files
alternating) and sends SIGHUP. Once REQUESTS requests were answered, the clients stop
starting new ones and the gateway gets SIGTERM: every request sent before that must get
its 200, and no connection may close with a request in flight. Prints the counts and
exits 1 on any lost request.
"""
import json
import os
import signal
import socket
import sys
import threading
import time

gateway_pid = int(sys.argv[1])
config_path = sys.argv[2]
port = int(sys.argv[3])
extra_port = int(sys.argv[4])
upstreams = sys.argv[5].split(",")
admin_port = int(sys.argv[6])
target = int(os.environ.get("REQUESTS", "100000"))
threads_keepalive = int(os.environ.get("KEEPALIVE_CLIENTS", "6"))
threads_fresh = int(os.environ.get("FRESH_CLIENTS", "4"))

stop = threading.Event()
lock = threading.Lock()
counts = {"sent": 0, "ok": 0, "refused_connects": 0, "raced_removal": 0}
# When the reloader last asked for the extra listener's removal (time.monotonic()).
last_removal = [float("-inf")]


def raced_removal():
    """True within 300 ms of a reload that removes the extra listener."""
    return time.monotonic() - last_removal[0] < 0.3
failures = []  # (kind, detail)


def config(with_extra_listener, valid=True):
    listeners = [{"name": "main", "address": f"127.0.0.1:{port}"}]
    if with_extra_listener:
        listeners.append({"name": "extra", "address": f"127.0.0.1:{extra_port}"})
    body = {
        "workers": 2,
        "listeners": listeners,
        "admin": {"address": f"127.0.0.1:{admin_port}"},
        "accessLog": {"path": "off"},
        "timeouts": {"drainMs": 10000},
        "upstreams": {"app": {"servers": [{"address": a} for a in upstreams]}},
        "routes": [{"name": "all", "match": {"pathPrefix": "/"}, "upstream": "app"}],
    }
    if not valid:
        body["routes"][0]["upstream"] = "missing"
    return json.dumps(body)


def read_response(sock, buffer):
    """Reads one Content-Length response; returns (status, closes, rest) or raises."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response")
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    length = 0
    closes = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection" and value.strip().lower() == b"close":
            closes = True
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of a response")
        rest += chunk
    return status, closes, rest[length:]


def request_bytes(n):
    return f"GET /item/{n} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def record(ok, kind=None, detail=None):
    with lock:
        if ok:
            counts["ok"] += 1
        else:
            failures.append((kind, detail))


def keepalive_client(index):
    sock, buffer = None, b""
    n = 0
    while not stop.is_set():
        if sock is None:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError:
                if stop.is_set():
                    return
                with lock:
                    counts["refused_connects"] += 1
                time.sleep(0.01)
                continue
            buffer = b""
        n += 1
        with lock:
            counts["sent"] += 1
        try:
            sock.sendall(request_bytes(n))
            status, closes, buffer = read_response(sock, buffer)
        except (OSError, ConnectionError, ValueError) as error:
            phase = "after SIGTERM" if stop.is_set() else "before the drain"
            record(False, f"keep-alive request lost {phase}", repr(error))
            sock.close()
            sock = None
            continue
        if status == 200:
            record(True)
        else:
            record(False, f"status {status}", "")
        if closes:
            sock.close()
            sock = None
    if sock:
        sock.close()


def fresh_client(index):
    n = 0
    while not stop.is_set():
        n += 1
        ports = [extra_port, port] if n % 3 == 0 else [port]
        sock = None
        for p in ports:
            try:
                sock = socket.create_connection(("127.0.0.1", p), timeout=10)
                break
            except OSError:
                continue
        if sock is None:
            if stop.is_set():
                return
            with lock:
                counts["refused_connects"] += 1
            continue
        with lock:
            counts["sent"] += 1
        try:
            sock.sendall(request_bytes(n))
            status, _, _ = read_response(sock, b"")
            record(status == 200, f"status {status}", "")
        except (OSError, ConnectionError, ValueError) as error:
            if p == extra_port and isinstance(error, ConnectionResetError) and raced_removal():
                # The kernel completed the handshake into the socket of a listener a reload
                # was closing, after the gateway took the last connection from its queue: the
                # gateway never accepted it (docs/reliability.md). Counted, not lost.
                with lock:
                    counts["sent"] -= 1
                    counts["raced_removal"] += 1
                continue
            phase = "after SIGTERM" if stop.is_set() else "before the drain"
            where = "the reloaded listener" if p == extra_port else "the main listener"
            record(False, f"request on a new connection to {where} lost {phase}", repr(error))
        finally:
            sock.close()


def reloader(results):
    flip = 0
    while not stop.is_set():
        flip += 1
        valid = flip % 2 == 1
        text = config(with_extra_listener=(flip % 4 == 1), valid=valid)
        with open(config_path + ".tmp", "w") as f:
            f.write(text)
        os.replace(config_path + ".tmp", config_path)
        if valid and flip % 4 == 3:
            last_removal[0] = time.monotonic()
        os.kill(gateway_pid, signal.SIGHUP)
        results["valid" if valid else "invalid"] += 1
        time.sleep(0.1)


def main():
    reloads = {"valid": 0, "invalid": 0}
    workers = [threading.Thread(target=keepalive_client, args=(i,)) for i in range(threads_keepalive)]
    workers += [threading.Thread(target=fresh_client, args=(i,)) for i in range(threads_fresh)]
    reload_thread = threading.Thread(target=reloader, args=(reloads,))
    started = time.monotonic()
    for t in workers:
        t.start()
    reload_thread.start()
    while True:
        time.sleep(0.05)
        with lock:
            done = counts["ok"] + len(failures)
        if done >= target:
            break
    # The drain begins: no new requests from here; those in flight must be answered.
    stop.set()
    os.kill(gateway_pid, signal.SIGTERM)
    drain_started = time.monotonic()
    for t in workers:
        t.join()
    reload_thread.join()
    elapsed = time.monotonic() - started
    with lock:
        sent, ok = counts["sent"], counts["ok"]
    print(f"requests sent: {sent}, answered 200: {ok}, lost or failed: {len(failures)}")
    print(f"reloads: {reloads['valid']} valid, {reloads['invalid']} invalid (every 100 ms)")
    print(f"new connections refused (not accepted, not counted): {counts['refused_connects']}")
    print(f"new connections reset by a listener a reload was removing (handshake done after "
          f"the gateway's last accept; not counted): {counts['raced_removal']}")
    print(f"load ran {elapsed - (time.monotonic() - drain_started):.1f} s; clients done "
          f"{time.monotonic() - drain_started:.2f} s after SIGTERM")
    kinds = {}
    for kind, detail in failures:
        kinds.setdefault(kind, []).append(detail)
    for kind, details in kinds.items():
        print(f"  {len(details)} x {kind}: {details[0]}")
    return 0 if not failures and ok == sent else 1


if __name__ == "__main__":
    sys.exit(main())
