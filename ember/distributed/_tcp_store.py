"""torch.distributed.TCPStore: a key-value store served by a thread of the master process over TCP."""
import base64
import datetime
import json
import socket
import socketserver
import struct
import threading
import time

from ._stores import _DEFAULT_TIMEOUT, QueueEmptyError, Store, _seconds, _Table, _Timeout
from ._types import DistStoreError

__all__ = ["TCPStore"]


def _send(sock, fields):
    payload = b"".join(struct.pack("!I", len(f)) + f for f in fields)
    sock.sendall(struct.pack("!I", len(fields)) + payload)


def _recv_exact(sock, n):
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise ConnectionError("the store's connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv(sock):
    (count,) = struct.unpack("!I", _recv_exact(sock, 4))
    fields = []
    for _ in range(count):
        (size,) = struct.unpack("!I", _recv_exact(sock, 4))
        fields.append(_recv_exact(sock, size))
    return fields


# NOTE: the wire format: a list of byte fields (no pickle: a peer's bytes are never executed). A request is
# [op, timeout, args as JSON with bytes in base64]; a reply is [status, JSON result].
def _pack(value):
    if isinstance(value, bytes):
        return {"b": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return [_pack(v) for v in value]
    return value


def _unpack(value):
    if isinstance(value, dict):
        return base64.b64decode(value["b"])
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    return value


_OPS = {"set", "get", "add", "append", "compare_set", "check", "wait", "delete_key", "num_keys", "list_keys",
        "multi_get", "multi_set", "queue_push", "queue_pop", "queue_len"}


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        table = self.server.table
        while True:
            try:
                op, timeout, args = _recv(self.request)
            except (ConnectionError, OSError, struct.error):
                return
            op = op.decode()
            try:
                if op not in _OPS:
                    raise ValueError(f"unknown store operation {op!r}")
                result = table.call(op, _unpack(json.loads(args)), float(timeout))
                reply = [b"ok", json.dumps(_pack(result)).encode()]
            except QueueEmptyError as error:
                reply = [b"empty", str(error).encode()]
            except _Timeout as error:
                keys = ", ".join("/" + k for k in error.keys)
                reply = [b"timeout", f"wait timeout after {int(error.seconds * 1000)}ms, keys: {keys}".encode()]
            except DistStoreError as error:
                reply = [b"timeout", str(error).encode()]
            except Exception as error:  # NOTE: the client raises it as ValueError
                reply = [b"error", str(error).encode()]
            try:
                _send(self.request, reply)
            except OSError:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TCPStore(Store):
    """A store served by the master process (is_master=True) over TCP at host_name:port; every process,
    master included, is a client. port=0 on the master picks a free port (read it from .port).

    The server is a thread of the master process (PyTorch's runs in C++, libuv or not: use_libuv is ignored)."""

    def __init__(self, host_name, port, world_size=None, is_master=False, timeout=_DEFAULT_TIMEOUT,
                 wait_for_workers=True, multi_tenant=False, master_listen_fd=None, use_libuv=True):
        super().__init__()
        self._timeout = timeout if isinstance(timeout, datetime.timedelta) else datetime.timedelta(seconds=timeout)
        self.host = host_name
        self.libuvBackend = False
        self._server = None
        if is_master:
            self._server = _Server((host_name, int(port)), _Handler)
            self._server.table = _Table()
            port = self._server.server_address[1]
            threading.Thread(target=self._server.serve_forever, daemon=True, name="ember TCPStore").start()
        self.port = int(port)
        self._world_size = world_size
        self._lock = threading.Lock()
        self._sock = self._connect()
        if world_size is not None and wait_for_workers:
            self._call("add", "\0workers", 1)
            if is_master:
                deadline = time.monotonic() + _seconds(self._timeout)
                while (joined := int(self._call("get", "\0workers"))) < world_size:
                    if time.monotonic() > deadline:
                        raise DistStoreError(f"Timed out after {_seconds(self._timeout)} seconds waiting for "
                                             f"clients. {joined}/{world_size} clients joined.")
                    time.sleep(0.01)

    def _connect(self):
        deadline = time.monotonic() + _seconds(self._timeout)
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=5)
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as error:
                if time.monotonic() > deadline:
                    raise DistStoreError(f"The client socket has timed out after {_seconds(self._timeout)}s while "
                                         f"trying to connect to ({self.host}, {self.port}): {error}") from None
                time.sleep(0.05)  # NOTE: the master may not listen yet

    def _call(self, op, *args, timeout=None):
        with self._lock:
            _send(self._sock, [op.encode(), str(self._limit(timeout)).encode(), json.dumps(_pack(list(args))).encode()])
            status, body = _recv(self._sock)
        if status == b"ok":
            return _unpack(json.loads(body))
        message = body.decode()
        if status == b"empty":
            raise QueueEmptyError(message)
        if status == b"timeout":
            raise DistStoreError(message)
        raise ValueError(message)

    def clone(self):
        return TCPStore(self.host, self.port, None, False, self._timeout, wait_for_workers=False)

    def __del__(self):
        sock = self.__dict__.get("_sock")
        if sock is not None:
            sock.close()
        server = self.__dict__.get("_server")
        if server is not None:
            # NOTE: not server.shutdown(), which waits for the serving thread: at interpreter exit that thread no
            # longer runs and the wait never ends. Asking it to stop and closing the socket is enough.
            server._BaseServer__shutdown_request = True
            server.server_close()
