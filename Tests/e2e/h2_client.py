"""A minimal HTTP/2 client over a raw socket (TLS with ALPN h2, or h2c with prior knowledge),
standard library only, for the tests that must do what well-behaved clients do not: open
more streams than the server allows, stall a request body, never read what it asked for.

Request headers are sent as HPACK literals (no table, no Huffman); response headers are not
decoded: the tests look at frames, stream ids and bodies (the server's JSON errors name their code)."""
import collections
import socket
import ssl
import struct
import time
import urllib.parse

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
SETTINGS_HEADER_TABLE_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE = 1, 3, 4, 6
NO_ERROR, PROTOCOL_ERROR, CANCEL, REFUSED_STREAM = 0, 1, 8, 7


def _integer(n, prefix_bits):
    limit = (1 << prefix_bits) - 1
    if n < limit:
        return bytes([n])
    out, n = [limit], n - limit
    while n >= 128:
        out.append((n & 127) | 128)
        n >>= 7
    return bytes(out + [n])


def hpack_literals(headers):
    """Each field as a literal without indexing, with a new name, without Huffman (RFC 7541 §6.2.2)."""
    out = b""
    for name, value in headers:
        name, value = name.encode(), value.encode()
        out += b"\x00" + _integer(len(name), 7) + name + _integer(len(value), 7) + value
    return out


class H2Connection:
    """One HTTP/2 connection. Frames the tests do not wait for are recorded: DATA bodies per
    stream (acknowledged with WINDOW_UPDATE unless `update_windows` is False), resets, GOAWAY."""

    def __init__(self, url, cafile=None, settings=None, update_windows=True, timeout=10, sock=None):
        """`sock`: a connection already made (a ``TLSRecordSocket``), else one is made to `url`."""
        u = urllib.parse.urlsplit(url)
        if sock is None:
            sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        if u.scheme == "https" and not isinstance(sock, TLSRecordSocket):
            context = ssl.create_default_context(cafile=cafile)
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(sock, server_hostname=u.hostname)
            assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        self.sock, self.scheme, self.authority = sock, u.scheme, u.netloc
        self.buf = b""
        self.update_windows = update_windows
        self.next_stream = 1
        self.bodies = collections.defaultdict(bytes)
        self.headers_seen = collections.Counter()
        self.ended = set()
        self.resets = {}
        self.goaway = None
        self.closed = False
        self.server_settings = {}
        self.sock.sendall(PREFACE)
        self.send_frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in (settings or {}).items()))
        frame = self.wait_for(lambda f: f[0] == SETTINGS and not f[1] & ACK)
        for i in range(0, len(frame[3]), 6):
            key, value = struct.unpack(">HI", frame[3][i:i + 6])
            self.server_settings[key] = value

    def send_frame(self, kind, flags, stream, payload):
        self.sock.sendall(struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload)

    def request(self, method, path, headers=(), end_stream=True):
        """Opens a stream with a request head; returns its id."""
        stream, self.next_stream = self.next_stream, self.next_stream + 2
        block = hpack_literals([(":method", method), (":scheme", self.scheme), (":authority", self.authority),
                                (":path", path)] + list(headers))
        self.send_frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream, block)
        return stream

    def data(self, stream, payload, end_stream=False):
        self.send_frame(DATA, END_STREAM if end_stream else 0, stream, payload)

    def ping(self, payload=b"12345678"):
        self.send_frame(PING, 0, 0, payload)
        return self.wait_for(lambda f: f[0] == PING and f[1] & ACK and f[3] == payload)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                self.closed = True
                raise EOFError("the server closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _reply(self, kind, flags, stream, payload):
        """An automatic answer (window update, SETTINGS or PING ack): when the server already
        closed the connection, as it does right after a GOAWAY, there is no one to answer,
        and the next read sees the close."""
        try:
            self.send_frame(kind, flags, stream, payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read_frame(self):
        head = self._read(9)
        length = struct.unpack(">I", b"\x00" + head[:3])[0]
        kind, flags, stream = head[3], head[4], struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
        payload = self._read(length)
        if kind == DATA:
            body = payload
            if flags & 0x8:  # PADDED
                body = payload[1:len(payload) - payload[0]]
            self.bodies[stream] += body
            if self.update_windows and payload:
                increment = struct.pack(">I", len(payload))
                self._reply(WINDOW_UPDATE, 0, 0, increment)
                if not flags & END_STREAM:
                    self._reply(WINDOW_UPDATE, 0, stream, increment)
        elif kind == HEADERS:
            self.headers_seen[stream] += 1
        elif kind == RST_STREAM:
            self.resets[stream] = struct.unpack(">I", payload)[0]
        elif kind == GOAWAY:
            self.goaway = struct.unpack(">II", payload[:8])
        elif kind == SETTINGS and not flags & ACK:
            self._reply(SETTINGS, ACK, 0, b"")
        elif kind == PING and not flags & ACK:
            self._reply(PING, ACK, 0, payload)
        if kind in (DATA, HEADERS) and flags & END_STREAM:
            self.ended.add(stream)
        return kind, flags, stream, payload

    def wait_for(self, predicate, seconds=10):
        """Reads frames until one satisfies `predicate` (given the frame, or None when the
        connection closed); returns it."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                frame = self.read_frame()
            except socket.timeout:
                break
            except (EOFError, ConnectionResetError):
                self.closed = True
                try:
                    accepted = predicate(None)
                except (TypeError, IndexError):
                    accepted = False
                if accepted:
                    return None
                raise
            if predicate(frame):
                return frame
        raise AssertionError("no such frame within %ss; resets %r, goaway %r" % (seconds, self.resets, self.goaway))

    def body_contains(self, stream, text, seconds=10):
        """Waits until the body received on `stream` so far contains `text`."""
        if text.encode() not in self.bodies[stream]:
            self.wait_for(lambda f: text.encode() in self.bodies[stream], seconds)

    def wait_ended(self, stream, seconds=10):
        """Waits until the server ends `stream` (END_STREAM or RST_STREAM)."""
        if stream not in self.ended and stream not in self.resets:
            self.wait_for(lambda f: stream in self.ended or stream in self.resets, seconds)

    def close(self):
        self.sock.close()


class TLSRecordSocket:
    """A TLS client over memory BIOs, for the tests that look at how the server seals what it
    sends: `recv` takes one TLS record at a time off the socket, decrypts it, and notes the size
    of its plaintext in `records` (records without application data, such as TLS 1.3 session
    tickets, are not noted). `sendall`, `recv`, `settimeout` and `close` as a socket's."""

    def __init__(self, url, cafile, alpn, timeout=10):
        u = urllib.parse.urlsplit(url)
        self.raw = socket.create_connection((u.hostname, u.port), timeout=timeout)
        context = ssl.create_default_context(cafile=cafile)
        context.set_alpn_protocols([alpn])
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=u.hostname)
        self.records = []
        self.raw_buf = b""
        self.plain = b""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._send_pending()
                if not self._feed_record():
                    raise EOFError("the server closed the connection in the handshake")
        self._send_pending()
        assert self.tls.selected_alpn_protocol() == alpn, self.tls.selected_alpn_protocol()

    def _send_pending(self):
        data = self.outgoing.read()
        if data:
            self.raw.sendall(data)

    def _fill(self, n):
        """Reads until `n` bytes are buffered; False when the server closed first."""
        while len(self.raw_buf) < n:
            chunk = self.raw.recv(65536)
            if not chunk:
                return False
            self.raw_buf += chunk
        return True

    def _feed_record(self):
        """Moves one whole TLS record from the socket into the TLS object; False at the end."""
        if not self._fill(5):
            return False
        length = 5 + struct.unpack(">H", self.raw_buf[3:5])[0]
        if not self._fill(length):
            return False
        record, self.raw_buf = self.raw_buf[:length], self.raw_buf[length:]
        self.incoming.write(record)
        return True

    def sendall(self, data):
        self.tls.write(data)
        self._send_pending()

    def recv(self, n):
        while not self.plain:
            if not self._feed_record():
                return b""
            got = b""
            try:
                while True:
                    chunk = self.tls.read(65536)
                    if not chunk:
                        break
                    got += chunk
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                return b""
            self._send_pending()
            if got:
                self.records.append(len(got))
                self.plain += got
        out, self.plain = self.plain[:n], self.plain[n:]
        return out

    def settimeout(self, seconds):
        self.raw.settimeout(seconds)

    def close(self):
        self.raw.close()
