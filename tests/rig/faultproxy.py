"""A TCP proxy between a client and one of the rig's servers that misbehaves on demand.

Faults are armed by the test and fire once (then the proxy forwards honestly
again, so the test can show recovery without a restart):

- :meth:`FaultProxy.drop_on` closes both sides when the client sends a command
  containing some bytes (the command is not forwarded);
- :meth:`FaultProxy.drop_after` closes both sides after forwarding ``n`` more
  bytes from the server (a response cut mid-stream, then the connection gone);
- :meth:`FaultProxy.truncate_on` forwards a command, then only the first
  ``keep`` bytes of the server's answer, then closes;
- :meth:`FaultProxy.stall_on` forwards a command, then holds the server's
  answer until :meth:`FaultProxy.release` (``stalled`` is set when it holds);
- :meth:`FaultProxy.refuse` stops listening (connections are refused) until
  :meth:`FaultProxy.accept` listens again on the same port.

Everything is threads and :class:`threading.Event`; no sleeps.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["FaultProxy", "running_proxy"]

_CHUNK = 65536


@dataclass
class _Fault:
    kind: str  # drop_on, drop_after, truncate_on, stall_on
    pattern: bytes = b""
    count: int = 0
    after: int = 0  # matching commands let through before the fault fires


@dataclass
class _Conn:
    client: socket.socket
    server: socket.socket
    cut_after: int | None = None  # server bytes still forwarded before closing
    hold: bool = False
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass


class FaultProxy:
    """Listens on 127.0.0.1 and forwards to ``upstream``; see the module docstring."""

    host = "127.0.0.1"

    def __init__(
        self, upstream_host: str, upstream_port: int, *, tls: ssl.SSLContext | None = None
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.tls = tls  # serve TLS to the client (implicit TLS), plain to the upstream
        self.from_client = bytearray()  # every byte the clients sent, for the test to inspect
        self.handshake_failures = 0
        self.port = 0
        self.connections = 0  # accepted so far
        self.fired: list[str] = []  # faults that fired, in order
        self.stalled = threading.Event()  # set when a stall holds a server answer
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._fault: _Fault | None = None
        self._conns: list[_Conn] = []
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    # -- life

    def start(self) -> None:
        self.accept()

    def stop(self) -> None:
        self.refuse()
        self.release()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()

    def accept(self) -> None:
        """Listen (again, on the same port): connections are forwarded."""
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(16)
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        self._acceptor = threading.Thread(
            target=self._accept_loop, args=(listener,), daemon=True, name="faultproxy-accept"
        )
        self._acceptor.start()

    def refuse(self) -> None:
        """Stop listening: new connections are refused; open ones go on."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
            self._acceptor = None

    # -- faults (each fires once)

    def drop_on(self, pattern: bytes, *, after: int = 0) -> None:
        """Close both sides instead of forwarding the (``after``+1)-th command holding ``pattern``."""
        self._arm(_Fault("drop_on", pattern, after=after))

    def drop_after(self, count: int) -> None:
        """Close the next (or current) connection after ``count`` more bytes from the server."""
        self._arm(_Fault("drop_after", count=count))

    def truncate_on(self, pattern: bytes, *, keep: int, after: int = 0) -> None:
        """Forward the command, then only ``keep`` bytes of the answer, then close."""
        self._arm(_Fault("truncate_on", pattern, keep, after=after))

    def stall_on(self, pattern: bytes, *, after: int = 0) -> None:
        """Forward the command and hold the answer until :meth:`release`."""
        self._release.clear()
        self.stalled.clear()
        self._arm(_Fault("stall_on", pattern, after=after))

    def cut_all(self) -> None:
        """Close every open connection now (a network cut)."""
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.close()

    def release(self) -> None:
        """Let stalled answers through (and stop any stall from holding later ones)."""
        self._release.set()

    def clear(self) -> None:
        """Disarm a fault that has not fired yet and release a stall."""
        with self._lock:
            self._fault = None
        self.release()

    @property
    def armed(self) -> bool:
        with self._lock:
            return self._fault is not None

    def _arm(self, fault: _Fault) -> None:
        with self._lock:
            self._fault = fault
            if fault.kind == "drop_after":
                for conn in self._conns:
                    if not conn.closed.is_set():
                        conn.cut_after = fault.count
                        self._fault = None
                        self.fired.append("drop_after")
                        break

    def _take(self, kind: str, data: bytes) -> _Fault | None:
        with self._lock:
            fault = self._fault
            if fault is None or fault.kind != kind or fault.pattern not in data:
                return None
            if fault.after > 0:
                fault.after -= 1
                return None
            self._fault = None
            self.fired.append(kind)
            return fault

    # -- plumbing

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._open, args=(client,), daemon=True).start()

    def _open(self, client: socket.socket) -> None:
        if self.tls is not None:
            try:
                client.settimeout(10)
                client = self.tls.wrap_socket(client, server_side=True)
                client.settimeout(None)
            except (ssl.SSLError, OSError):
                with self._lock:
                    self.handshake_failures += 1
                client.close()
                return
        try:
            server = socket.create_connection(self.upstream, timeout=10)
            server.settimeout(None)
        except OSError:
            client.close()
            return
        conn = _Conn(client, server)
        with self._lock:
            self.connections += 1
            self._conns.append(conn)
            fault = self._fault
            if fault is not None and fault.kind == "drop_after":
                conn.cut_after = fault.count
                self._fault = None
                self.fired.append("drop_after")
        threading.Thread(target=self._upstream, args=(conn,), daemon=True).start()
        threading.Thread(target=self._downstream, args=(conn,), daemon=True).start()

    def _upstream(self, conn: _Conn) -> None:
        """Client to server: where command-triggered faults fire."""
        try:
            while not conn.closed.is_set():
                data = conn.client.recv(_CHUNK)
                if not data:
                    break
                with self._lock:
                    self.from_client += data
                if self._take("drop_on", data) is not None:
                    break
                truncate = self._take("truncate_on", data)
                if truncate is not None:
                    conn.cut_after = truncate.count
                if self._take("stall_on", data) is not None:
                    conn.hold = True
                conn.server.sendall(data)
        except OSError:
            pass
        conn.close()

    def _downstream(self, conn: _Conn) -> None:
        """Server to client: where cuts and stalls apply."""
        try:
            while not conn.closed.is_set():
                data = conn.server.recv(_CHUNK)
                if not data:
                    break
                if conn.hold:
                    self.stalled.set()
                    self._release.wait()
                    conn.hold = False
                if conn.cut_after is not None:
                    data = data[: conn.cut_after]
                    conn.cut_after -= len(data)
                    if data:
                        conn.client.sendall(data)
                    if conn.cut_after <= 0:
                        break
                    continue
                conn.client.sendall(data)
        except OSError:
            pass
        conn.close()


@contextmanager
def running_proxy(
    host: str, port: int, *, tls: ssl.SSLContext | None = None
) -> Iterator[FaultProxy]:
    """A started :class:`FaultProxy` to ``host:port``, stopped on exit."""
    proxy = FaultProxy(host, port, tls=tls)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
