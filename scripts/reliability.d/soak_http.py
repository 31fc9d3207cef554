"""Minimal HTTP/1.1 message reading and writing shared by scripts/soak's client
(soak.py) and its Python upstream (soak_upstream.py).

Plain sockets rather than http.client, so the soak sees exactly what happened on the
wire: which connection a request used, who closed it, and whether a body was cut.
"""
import random

# The bytes every large body is cut from, identical in the client and the upstream, so
# a response (or a mirrored request) can be checked byte for byte.
PATTERN = random.Random(20261205).randbytes(2 << 20)
MAX_BODY = 1 << 20


class Closed(Exception):
    """The peer closed before any byte of the next message arrived."""


class Truncated(Exception):
    """The peer closed in the middle of a message."""


class Malformed(Exception):
    """Bytes that are not the HTTP/1.1 this peer should send."""


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.received = 0  # bytes of the current message seen so far (head and body)

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            return False
        self.buf += chunk
        self.received += len(chunk)
        return True

    def read_head(self, limit=65536):
        """Returns (start line, [(lowercased name, value)])."""
        self.received = len(self.buf)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > limit:
                raise Malformed("head over %d bytes" % limit)
            if not self._fill():
                if self.buf:
                    raise Truncated("closed within a head (%d bytes)" % len(self.buf))
                raise Closed("closed before a head")
        head = bytes(self.buf[:end])
        del self.buf[: end + 4]
        lines = head.split(b"\r\n")
        fields = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise Malformed("bad field line %r" % line[:80])
            fields.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
        return lines[0].decode("latin-1"), fields

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise Truncated("closed after %d of %d body bytes" % (len(self.buf), n))
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_line(self, limit=4096):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[: end + 2]
                return line
            if len(self.buf) > limit:
                raise Malformed("line over %d bytes" % limit)
            if not self._fill():
                raise Truncated("closed within chunk framing")

    def read_body(self, fields, close_delimited=False, limit=MAX_BODY + 65536):
        """Reads a body framed by Content-Length or chunked; with close_delimited (a
        response without framing) reads to the end of the connection."""
        te = field(fields, "transfer-encoding")
        cl = field(fields, "content-length")
        if te is not None:
            if te.lower() != "chunked":
                raise Malformed("transfer-encoding %r" % te)
            parts = []
            total = 0
            while True:
                size_line = self.read_line()
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise Malformed("chunk size %r" % size_line[:40])
                if size == 0:
                    while self.read_line() != b"":  # trailer fields
                        pass
                    return b"".join(parts)
                total += size
                if total > limit:
                    raise Malformed("chunked body over %d bytes" % limit)
                parts.append(self.read_exact(size))
                if self.read_line() != b"":
                    raise Malformed("chunk data not followed by CRLF")
        if cl is not None:
            if not cl.isdigit() or int(cl) > limit:
                raise Malformed("content-length %r" % cl)
            return self.read_exact(int(cl))
        if close_delimited:
            while self._fill():
                if len(self.buf) > limit:
                    raise Malformed("close-delimited body over %d bytes" % limit)
            data = bytes(self.buf)
            self.buf.clear()
            return data
        return b""


def field(fields, name):
    for n, v in fields:
        if n == name:
            return v
    return None


def chunked(body, rng, trailer=b""):
    """The body as chunked framing, in chunks of random sizes."""
    out = []
    at = 0
    while at < len(body):
        n = min(len(body) - at, rng.choice((1, 7, 100, 1000, 4096, 16384, 65536, 300000)))
        out.append(b"%x\r\n" % n)
        out.append(body[at : at + n])
        out.append(b"\r\n")
        at += n
    out.append(b"0\r\n" + trailer + b"\r\n")
    return b"".join(out)
