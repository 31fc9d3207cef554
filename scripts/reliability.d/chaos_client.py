"""Load generator for scripts/chaos: keep-alive HTTP/1.1 clients that check every response.

Each client connection belongs to one route and sends GET requests on it one after another
(no pipelining), each with its own `X-Request-Id`, and reads every response in full. A
response is classified as:

- `200`: a complete 200 whose body starts with the request's own id and a server name the
  route may use (so a response meant for another request is caught);
- `<status> <code>`: a gateway-made error whose status matches its code (README.md, "Errors
  made by the gateway"), with `Content-Type: application/json`, `X-Gateway-Error: <code>` and
  the JSON body `{"error":code,"message":...,"requestId":<our id>}`;
- `truncated`: the head of a 200 for this request arrived but the connection ended (FIN or
  RST) before the body its framing promised -- acceptable only where the fault happens after
  the head (README.md, "Failures after the response head");
- anything else is `invalid: ...` (wrong id or server, bad error body, a cut gateway error,
  a head that never comes: `no response`, or `client timeout` when nothing ends the request).

After a response with `Connection: close`, or any failure, the connection is closed and
a new one opened.
"""
import asyncio
import collections
import json
import time

# Every gateway error code and its status (README.md, "Errors made by the gateway").
ERROR_STATUS = {
    "bad_request": 400, "no_route": 404, "request_timeout": 408, "payload_too_large": 413,
    "uri_too_long": 414, "headers_too_large": 431, "rate_limited": 429, "not_implemented": 501,
    "version_not_supported": 505, "upstream_connect_failed": 502, "upstream_reset": 502,
    "upstream_bad_response": 502, "no_healthy_upstream": 503, "circuit_open": 503,
    "upstream_overloaded": 503, "deadline_exceeded": 504,
}


# One per request; `server` is the fake upstream that answered a 200. The clients hand the
# recorder plain tuples (Record(*t) reads them): the garbage collector stops tracking a plain
# tuple of strings and numbers, while a million tracked records made each full collection
# stall every client for over half a second, and the clients time the gateway's timeouts.
class Record(collections.namedtuple("Record", "route rid start end kind detail server")):
    __slots__ = ()

    @property
    def latency(self):
        return self.end - self.start


class Truncated(Exception):
    pass


async def read_head(reader):
    data = await reader.readuntil(b"\r\n\r\n")
    lines = data[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ValueError("bad status line %r" % lines[0][:80])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ValueError("bad header line %r" % line[:80])
        key = name.strip().lower().decode("latin-1")
        value = value.strip().decode("latin-1")
        if key in headers:
            headers[key] += ", " + value
        else:
            headers[key] = value
    return int(parts[1]), headers


async def read_body(reader, headers, status):
    if status in (204, 304) or 100 <= status < 200:
        return b""
    te = headers.get("transfer-encoding", "").lower()
    if te:
        if te != "chunked":
            raise ValueError("transfer-encoding %r" % te)
        chunks = []
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            if await reader.readexactly(2) != b"\r\n":
                raise ValueError("bad chunk end")
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    # close-delimited
    return await reader.read()


class Client:
    def __init__(self, port, route, servers, name, timeout, recorder, stop, pause):
        self.port = port
        self.pause = pause  # think time between requests (routes whose errors come back at once)
        self.route = route
        self.servers = servers  # allowed server names (bytes) in a 200 body
        self.name = name
        self.timeout = timeout
        self.record = recorder
        self.stop = stop
        self.seq = 0
        self.connections = 0

    async def run(self):
        reader = writer = None
        while not self.stop.is_set():
            if writer is None:
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20), 5)
                    self.connections += 1
                except OSError as error:  # TimeoutError included
                    now = time.monotonic()
                    self.record((self.route, "-", now, now, "invalid: connect failed", repr(error), None))
                    await asyncio.sleep(0.1)
                    continue
            self.seq += 1
            rid = "c%s-%s-%d" % (self.route, self.name, self.seq)
            start = time.monotonic()
            keep, kind, detail, server = await self.exchange(reader, writer, rid)
            self.record((self.route, rid, start, time.monotonic(), kind, detail, server))
            if self.pause and kind != "200":
                await asyncio.sleep(self.pause)
            if not keep:
                writer.close()
                try:
                    await writer.wait_closed()
                except Exception:
                    pass
                writer = None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except Exception:
                pass

    async def exchange(self, reader, writer, rid):
        """Returns (keep connection, kind, detail, server name of a 200)."""
        request = ("GET /%s/item?n=%d HTTP/1.1\r\nHost: chaos.test\r\nX-Request-Id: %s\r\n"
                   "User-Agent: chaos\r\n\r\n" % (self.route, self.seq, rid)).encode()
        got = {}

        async def read():
            got["head"] = await read_head(reader)
            status, headers = got["head"]
            try:
                return await read_body(reader, headers, status)
            except asyncio.IncompleteReadError as error:
                got["body"] = error.partial
                raise Truncated()

        try:
            writer.write(request)
            body = await asyncio.wait_for(read(), self.timeout)
        # First: TimeoutError is an OSError, and a hang must not pass for a cut response.
        except asyncio.TimeoutError:
            where = "head" if "head" not in got else "body"
            return False, "invalid: client timeout", "no end of the %s after %.1f s" % (where, self.timeout), None
        except (Truncated, asyncio.IncompleteReadError, OSError) as error:
            head = got.get("head")
            if head is None:
                if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                    return False, "invalid: cut inside the head", repr(error.partial[:80]), None
                return False, "invalid: no response", "connection ended before a response head (%s)" % (
                    type(error).__name__), None
            status, headers = head
            partial = got.get("body", b"")
            detail = "status %d, %d of %s body bytes, %s" % (
                status, len(partial), headers.get("content-length", "?"), type(error).__name__)
            # Only an upstream's 200 can be cut (a gateway-made error is whole or not sent), and
            # what came of its body must be this request's.
            mine = rid.encode() + b" "
            if status != 200 or headers.get("x-request-id") != rid or "x-gateway-error" in headers \
                    or partial[:len(mine)] != mine[:len(partial)]:
                return False, "invalid: cut response", "%s, X-Request-Id %r, body %r" % (
                    detail, headers.get("x-request-id"), partial[:60]), None
            return False, "truncated", detail, None
        except (ValueError, asyncio.LimitOverrunError) as error:
            return False, "invalid: malformed response", str(error), None
        status, headers = got["head"]
        keep = "close" not in headers.get("connection", "").lower()
        if headers.get("x-request-id") != rid:
            return False, "invalid: wrong X-Request-Id", "got %r" % headers.get("x-request-id"), None
        code = headers.get("x-gateway-error")
        if code is not None:
            problem = check_error(status, headers, body, code, rid)
            if problem:
                return False, "invalid: bad error response", problem, None
            return keep, "%d %s" % (status, code), "", None
        if status != 200:
            return False, "invalid: status %d" % status, body[:120].decode("latin-1"), None
        parts = body.split(b" ", 2)
        if len(parts) < 3 or parts[0] != rid.encode():
            return False, "invalid: body of another request", repr(body[:80]), None
        if parts[1] not in self.servers:
            return False, "invalid: unexpected server", repr(parts[1]), None
        if parts[2].strip(b"x"):
            return False, "invalid: body content", "not what the server sent: %r" % body[:80], None
        return keep, "200", "", parts[1].decode()


def check_error(status, headers, body, code, rid):
    if ERROR_STATUS.get(code) != status:
        return "status %d with X-Gateway-Error %s" % (status, code)
    if not headers.get("content-type", "").startswith("application/json"):
        return "content-type %r" % headers.get("content-type")
    try:
        doc = json.loads(body)
    except ValueError:
        return "body is not JSON: %r" % body[:80]
    if not isinstance(doc, dict) or doc.get("error") != code or doc.get("requestId") != rid \
            or not isinstance(doc.get("message"), str):
        return "body %r" % body[:160]
    return None


async def run_clients(port, plan, stop, recorder, timeout, phase):
    """plan: [(route, connections, allowed server names, pause)]; runs until `stop` is set and every
    client finished its request in flight. `phase` goes into every request id, which must
    not repeat across loads of one gateway (the fake upstreams log attempts by id). Returns
    the number of connections opened."""
    clients = []
    for route, count, servers, pause in plan:
        allowed = {s.encode() for s in servers}
        for i in range(count):
            clients.append(Client(port, route, allowed, "%s%d" % (phase, i), timeout, recorder, stop, pause))
    await asyncio.gather(*(c.run() for c in clients))
    return sum(c.connections for c in clients)
