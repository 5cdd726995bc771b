"""A minimal EventSource client over a raw socket, for the end-to-end tests that cut,
resume and count streams."""
import socket
import urllib.parse


class EventSourceConnection:
    """The part of a browser's EventSource that matters here, over a raw socket:
    it sends Last-Event-ID, parses id:/data: lines and blank-line dispatch, and
    remembers the last id even from an id-only event."""

    def __init__(self, url, path, last_event_id=None, receive_buffer=None):
        """`receive_buffer`: the socket's receive buffer in bytes, set before it connects (a
        small one makes the server's writes wait while the client reads nothing)."""
        u = urllib.parse.urlsplit(url)
        if receive_buffer:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            self.sock.settimeout(10)
            self.sock.connect((u.hostname, u.port))
        else:
            self.sock = socket.create_connection((u.hostname, u.port), timeout=10)
        head = "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n" % (path, u.netloc)
        if last_event_id:
            head += "Last-Event-ID: %s\r\n" % last_event_id
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        status_head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert b" 200 " in status_head.split(b"\r\n")[0], status_head
        assert b"chunked" in status_head.lower()
        self.chunk_left = 0
        self.text = b""

    def _dechunk(self):
        out = b""
        while True:
            if self.chunk_left == 0:
                i = self.buf.find(b"\r\n")
                if i < 0:
                    break
                line = self.buf[:i]
                if line == b"":      # the CRLF that ends a chunk
                    self.buf = self.buf[2:]
                    continue
                self.chunk_left = int(line.split(b";")[0], 16)
                self.buf = self.buf[i + 2:]
                if self.chunk_left == 0:
                    break
            take = min(self.chunk_left, len(self.buf))
            if take == 0:
                break
            out += self.buf[:take]
            self.buf = self.buf[take:]
            self.chunk_left -= take
        return out

    def events(self):
        """Yields (id, data) per dispatched block; id-only blocks yield data None."""
        event_id, data = None, []
        while True:
            self.text += self._dechunk()
            while b"\n" in self.text:
                line, self.text = self.text.split(b"\n", 1)
                line = line.decode()
                if line == "":
                    if event_id is not None or data:
                        yield event_id, ("\n".join(data) if data else None)
                    event_id, data = None, []
                elif line.startswith("id:"):
                    event_id = line[3:].lstrip(" ")
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            self.buf += chunk

    def cut(self):
        """Drops the connection abruptly, as a network failure would."""
        self.sock.close()
