"""Small HTTP servers, well-behaved and hostile, for the load generator's tests.

Each one listens on 127.0.0.1 port 0 in a background thread of the test process and counts the
connections it accepted and the requests it read. Use as a context manager; leaving it closes
the listener and every connection it holds, so no test can leave a thread or socket behind.

`backlog` is the listen() backlog; `accept_after` seconds pass before the first accept (a small
backlog then overflows: the kernel drops the SYNs beyond it and resends them 1 s later).

Behaviours (the `behaviour` argument):
  ok          200 with a fixed body, keep-alive as the client asks (HTTP/1.1 rules)
  trailing    the same, with bytes after each response that belong to no response
  chunked     200 with a chunked body (keep-alive)
  http10      HTTP/1.0 200 without Content-Length: the body ends when the server closes
  status500   500 with a body, keep-alive
  varlen      200 whose body length alternates (ab's Length failures)
  alternate   200 and 201 in turn: heads of the same length that differ in one byte
  reset       sends half a response, then resets the connection (RST)
  close_early sends the headers and part of a Content-Length body, then closes (FIN)
  garbage     answers with bytes that are not HTTP
  silent      reads the request and never answers
  trickle     sends a correct response a few bytes at a time, `trickle_delay` apart
  one_per_conn answers one request with keep-alive allowed, then closes the connection idle
  one_then_reset the same, but resets the connection (RST) instead of closing it
  interim     100 Continue and 103 Early Hints, each in its own write, then the final 200
  switching   101 Switching Protocols although the request asked for no upgrade
  raw         sends the bytes given as `raw` as the response, then closes
  raw_bytewise the same, one byte per write, `trickle_delay` apart
  early_413   reads only the request head, answers 413 and closes without reading the body
              (the unread body makes the close a reset)
  tls_reset   reads a TLS ClientHello (one whole record), then resets the connection (RST)
"""
import socket
import struct
import threading
import time

BODY = b"hello world\n"


def closed_port():
    """A loopback port with nothing listening (connections to it are refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class HostileServer:
    def __init__(self, behaviour, trickle_delay=0.02, delay=0.0, raw=b"", backlog=1024,
                 accept_after=0.0):
        self.accept_after = accept_after
        self.behaviour = behaviour
        self.raw = raw
        self.trickle_delay = trickle_delay
        self.delay = delay
        self.accepted = 0
        self.requests = 0
        self.accept_times = []   # time.monotonic() of each accept
        self.peers = []          # (address, port) of each accepted connection
        self.last_request = b""  # head and body of the latest request
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns = []
        self._threads = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self):
        self._acceptor.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._acceptor.join(5)
        self.sock.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(5)

    def _accept_loop(self):
        if self._stop.wait(self.accept_after):
            return
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(0.2)
            with self._lock:
                self.accepted += 1
                self.accept_times.append(time.monotonic())
                self.peers.append(conn.getpeername()[:2])
                self._conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _read_request(self, conn, buf):
        """Returns (head bytes, rest) or (None, buf) when the peer closed or we stop."""
        while b"\r\n\r\n" not in buf:
            if self._stop.is_set():
                return None, buf
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return None, buf
            if not chunk:
                return None, buf
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:  # a request body: read and drop it
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                if self._stop.is_set():
                    return None, b""
                continue
            except OSError:
                return None, b""
            if not chunk:
                return None, b""
            rest += chunk
        with self._lock:
            self.requests += 1
            self.last_request = head + b"\r\n\r\n" + rest[:length]
        return head, rest[length:]

    @staticmethod
    def _wants_close(head):
        lines = head.split(b"\r\n")
        http10 = lines[0].endswith(b"HTTP/1.0")
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"connection":
                v = value.strip().lower()
                if v == b"close":
                    return True
                if v == b"keep-alive":
                    return False
        return http10

    def _send(self, conn, data):
        try:
            conn.sendall(data)
            return True
        except OSError:
            return False

    def _serve(self, conn):
        try:
            self._serve_inner(conn)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _recv_until(self, conn, enough):
        """Reads until enough(bytes so far); None when the peer closed or we stop first."""
        buf = b""
        while not enough(buf):
            if self._stop.is_set():
                return None
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _answer_before_the_body(self, conn):
        if self._recv_until(conn, lambda b: b"\r\n\r\n" in b) is None:
            return
        with self._lock:
            self.requests += 1
        self._send(conn, b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\n"
                         b"Connection: close\r\n\r\ntoo large")

    def _reset_after_client_hello(self, conn):
        # A TLS record: 5 bytes of header whose last two give the length of what follows.
        if self._recv_until(conn, lambda b: len(b) >= 5 and len(b) >= 5 + struct.unpack("!H", b[3:5])[0]) is None:
            return
        with self._lock:
            self.requests += 1
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _serve_inner(self, conn):
        if self.behaviour == "early_413":
            return self._answer_before_the_body(conn)
        if self.behaviour == "tls_reset":
            return self._reset_after_client_hello(conn)
        buf = b""
        count = 0
        while not self._stop.is_set():
            head, buf = self._read_request(conn, buf)
            if head is None:
                return
            count += 1
            if self.delay:
                time.sleep(self.delay)
            close = self._wants_close(head)
            conn_hdr = b"Connection: close\r\n" if close else b""
            b = self.behaviour
            if b in ("ok", "status500", "varlen", "one_per_conn", "one_then_reset", "alternate",
                     "trailing"):
                status = b"500 Internal Server Error" if b == "status500" else b"200 OK"
                if b == "alternate" and count % 2 == 0:
                    status = b"201 OK"
                body = BODY + (b"x" * (count % 2) if b == "varlen" else b"")
                resp = (b"HTTP/1.1 " + status + b"\r\nServer: hostile/1\r\nContent-Length: "
                        + str(len(body)).encode() + b"\r\n" + conn_hdr + b"\r\n" + body
                        + (b"JUNK" if b == "trailing" else b""))
                if not self._send(conn, resp) or close or b in ("one_per_conn", "one_then_reset"):
                    if b in ("one_per_conn", "one_then_reset"):
                        time.sleep(0.01)  # close while idle, after the client got its answer
                    if b == "one_then_reset":  # a zero SO_LINGER makes close() send RST, not FIN
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
            elif b == "chunked":
                resp = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + conn_hdr + b"\r\n"
                        b"5\r\nhello\r\n7\r\n world\n\r\n0\r\n\r\n")
                if not self._send(conn, resp) or close:
                    return
            elif b == "interim":
                final = (b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(BODY)).encode()
                         + b"\r\n" + conn_hdr + b"\r\n" + BODY)
                for part in (b"HTTP/1.1 100 Continue\r\n\r\n",
                             b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n",
                             final):
                    if not self._send(conn, part):
                        return
                    time.sleep(0.002)  # separate reads on the client, usually
                if close:
                    return
            elif b == "raw":
                self._send(conn, self.raw)
                return
            elif b == "raw_bytewise":
                for i in range(len(self.raw)):
                    if self._stop.is_set() or not self._send(conn, self.raw[i:i + 1]):
                        return
                    time.sleep(self.trickle_delay)
                return
            elif b == "switching":
                self._send(conn, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 b"Connection: Upgrade\r\n\r\n")
                return
            elif b == "http10":
                self._send(conn, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + BODY)
                return
            elif b == "reset":
                self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf")
                time.sleep(0.01)
                # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            elif b == "close_early":
                self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
                return
            elif b == "garbage":
                self._send(conn, b"\x00\xffSSH-2.0-nonsense\r\n\r\n\x01\x02")
                return
            elif b == "silent":
                while not self._stop.wait(0.05):
                    pass
                return
            elif b == "trickle":
                body = BODY
                resp = (b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
                        + conn_hdr + b"\r\n" + body)
                for i in range(0, len(resp), 8):
                    if self._stop.is_set() or not self._send(conn, resp[i:i + 8]):
                        return
                    time.sleep(self.trickle_delay)
                if close:
                    return
            else:
                raise ValueError(f"unknown behaviour {b}")
