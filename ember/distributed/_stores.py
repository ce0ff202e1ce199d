"""torch.distributed's key-value stores: Store (the interface), HashStore (in this process), FileStore (a file
shared by processes on one machine) and PrefixStore (a namespace in another store); TCPStore (a server in the
master process, clients over sockets) is in _tcp_store.py. Keys are str, values bytes (str values are UTF-8
encoded).

NOTE: ember's process groups rendezvous through MPI, not through these stores; they are here for programs
that use a store themselves (barriers, exchanging addresses, counters)."""
import base64
import datetime
import json
import os
import threading
import time

from ._types import DistStoreError

__all__ = ["FileStore", "HashStore", "PrefixStore", "QueueEmptyError", "Store"]

_DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)


class QueueEmptyError(DistStoreError):
    """queue_pop(block=False) on an empty queue."""


class _Timeout(DistStoreError):
    """A wait for `keys` that timed out after `seconds`; each store words it as PyTorch's does."""

    def __init__(self, keys, seconds):
        super().__init__("Wait timeout")
        self.keys, self.seconds = keys, seconds


def _bytes(value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):  # NOTE: PyTorch's binding takes a list of byte values too
        return bytes(value)
    raise TypeError(f"store values must be str or bytes, got {type(value).__name__}")


def _key(key):
    if not isinstance(key, str):
        raise TypeError(f"store keys must be str, got {type(key).__name__}")
    return key


def _seconds(timeout):
    return timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)


class _Table:
    """The key-value table behind HashStore and TCPStore's server: every operation, with blocking waits."""

    def __init__(self):
        self.data = {}
        self.queues = {}
        self.cond = threading.Condition()

    def _wait_for(self, keys, timeout):
        deadline = time.monotonic() + timeout
        while not all(k in self.data for k in keys):
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout([k for k in keys if k not in self.data], timeout)
            self.cond.wait(left)

    def call(self, op, args, timeout):
        with self.cond:
            result = getattr(self, "op_" + op)(timeout, *args)
            self.cond.notify_all()
            return result

    def op_set(self, timeout, key, value):
        self.data[key] = value

    def op_get(self, timeout, key):
        self._wait_for([key], timeout)
        return self.data[key]

    def op_add(self, timeout, key, amount):
        try:
            current = int(self.data.get(key, b"0"))
        except ValueError:
            raise ValueError(f"store value of {key!r} is not an integer") from None
        current += int(amount)
        self.data[key] = str(current).encode()
        return current

    def op_append(self, timeout, key, value):
        self.data[key] = self.data.get(key, b"") + value

    def op_compare_set(self, timeout, key, expected, desired):
        if key not in self.data:
            if expected == b"":
                self.data[key] = desired
                return desired
            return expected
        if self.data[key] == expected:
            self.data[key] = desired
        return self.data[key]

    def op_check(self, timeout, keys):
        return all(k in self.data for k in keys)

    def op_wait(self, timeout, keys):
        self._wait_for(keys, timeout)

    def op_delete_key(self, timeout, key):
        return self.data.pop(key, None) is not None

    def op_num_keys(self, timeout):
        return len(self.op_list_keys(timeout))

    def op_list_keys(self, timeout):
        return [k for k in self.data if not k.startswith("\0")]  # NOTE: "\0..." keys are the stores' own

    def op_multi_get(self, timeout, keys):
        self._wait_for(keys, timeout)
        return [self.data[k] for k in keys]

    def op_multi_set(self, timeout, keys, values):
        for k, v in zip(keys, values):
            self.data[k] = v

    def op_queue_push(self, timeout, key, value):
        self.queues.setdefault(key, []).append(value)

    def op_queue_pop(self, timeout, key, block):
        if not block and not self.queues.get(key):
            raise QueueEmptyError("queue is empty")
        deadline = time.monotonic() + timeout
        while not self.queues.get(key):
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout([key], timeout)
            self.cond.wait(left)
        return self.queues[key].pop(0)

    def op_queue_len(self, timeout, key):
        return len(self.queues.get(key, ()))


class Store:
    """A key-value store the processes of a job share (PyTorch's c10d Store interface)."""

    def __init__(self):
        self._timeout = _DEFAULT_TIMEOUT

    def _call(self, op, *args, timeout=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement {op}")

    @property
    def timeout(self):
        """How long get() and wait() wait for a key (a timedelta)."""
        return self._timeout

    def set_timeout(self, timeout):
        """Set the timeout of get(), wait() and queue_pop()."""
        self._timeout = timeout if isinstance(timeout, datetime.timedelta) else datetime.timedelta(seconds=timeout)

    def set(self, key, value):
        """Store `value` under `key`."""
        self._call("set", _key(key), _bytes(value))

    def get(self, key):
        """The value of `key` (bytes), waiting for it up to the timeout (then DistStoreError)."""
        return self._call("get", _key(key))

    def add(self, key, amount):
        """Add `amount` to the integer under `key` (0 if absent); returns the new value."""
        return self._call("add", _key(key), int(amount))

    def append(self, key, value):
        """Append `value` to the bytes under `key` (creates it)."""
        self._call("append", _key(key), _bytes(value))

    def compare_set(self, key, expected_value, desired_value):
        """Set `key` to desired_value if it holds expected_value (or is absent and expected_value is empty);
        returns the value it holds afterwards (expected_value where it is absent)."""
        return self._call("compare_set", _key(key), _bytes(expected_value), _bytes(desired_value))

    def check(self, keys):
        """Whether every key in `keys` is set (without waiting)."""
        return self._call("check", [_key(k) for k in keys])

    def wait(self, keys, timeout=None):
        """Wait until every key in `keys` is set (DistStoreError after the timeout)."""
        self._call("wait", [_key(k) for k in keys], timeout=timeout)

    def delete_key(self, key):
        """Remove `key`; returns whether it was there."""
        return self._call("delete_key", _key(key))

    def num_keys(self):
        """How many keys the store holds."""
        return self._call("num_keys")

    def list_keys(self):
        """The keys the store holds."""
        return self._call("list_keys")

    def multi_get(self, keys):
        """The values of `keys` (waiting for them)."""
        return self._call("multi_get", [_key(k) for k in keys])

    def multi_set(self, keys, values):
        """Set each of `keys` to the matching value."""
        self._call("multi_set", [_key(k) for k in keys], [_bytes(v) for v in values])

    def queue_push(self, key, value):
        """Push `value` at the end of the queue `key`."""
        self._call("queue_push", _key(key), _bytes(value))

    def queue_pop(self, key, block=True):
        """Pop the first value of the queue `key` (waits for one; block=False: QueueEmptyError if none)."""
        return self._call("queue_pop", _key(key), bool(block))

    def queue_len(self, key):
        """How many values the queue `key` holds."""
        return self._call("queue_len", _key(key))

    def has_extended_api(self):
        """Whether append, multi_get, multi_set and the queues are available (they are)."""
        return True

    def clone(self):
        """A handle on the same store."""
        raise NotImplementedError(f"{type(self).__name__} cannot be cloned")

    def _limit(self, timeout):
        return _seconds(self._timeout if timeout is None else timeout)


class HashStore(Store):
    """A store in this process's memory (threads of one process share it)."""

    def __init__(self):
        super().__init__()
        self._table = _Table()

    def _call(self, op, *args, timeout=None):
        try:
            return self._table.call(op, args, self._limit(timeout))
        except _Timeout:
            raise DistStoreError("Wait timeout") from None

    def clone(self):
        twin = HashStore()
        twin._table = self._table
        twin._timeout = self._timeout
        return twin


class PrefixStore(Store):
    """A namespace in `store`: every key is `prefix/key` there."""

    def __init__(self, prefix, store):
        super().__init__()
        self._prefix = prefix
        self._store = store
        self._timeout = store.timeout

    @property
    def underlying_store(self):
        """The store the keys live in."""
        return self._store

    def _p(self, key):
        return f"{self._prefix}/{key}"

    def set_timeout(self, timeout):
        super().set_timeout(timeout)
        self._store.set_timeout(timeout)

    def _call(self, op, *args, timeout=None):
        if op in ("set", "get", "add", "append", "compare_set", "delete_key", "queue_push", "queue_pop",
                  "queue_len"):
            args = (self._p(args[0]),) + args[1:]
        elif op in ("check", "wait", "multi_get", "multi_set"):
            args = ([self._p(k) for k in args[0]],) + args[1:]
        return self._store._call(op, *args, timeout=timeout)

    def clone(self):
        return PrefixStore(self._prefix, self._store.clone())


# --- FileStore ---------------------------------------------------------------------------------------------
class FileStore(Store):
    """A store in a file that processes of one machine open by the same name (world_size of them: the last to
    close it removes the file, as PyTorch's). POSIX file locks serialise the accesses."""

    def __init__(self, file_name, world_size=-1):
        super().__init__()
        import fcntl  # noqa: F401 - NOTE: POSIX only, as the locking below
        self.path = file_name
        self._world_size = world_size
        self._closed = False
        self._call("add", "\0refcount", 1)

    def _locked(self, update):
        import fcntl
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "r+b") as f:
                raw = f.read()
                table = _Table()
                if raw:
                    state = json.loads(raw)
                    table.data = {k: base64.b64decode(v) for k, v in state["data"].items()}
                    table.queues = {k: [base64.b64decode(v) for v in q] for k, q in state["queues"].items()}
                result, changed = update(table)
                if changed:
                    f.seek(0)
                    f.truncate()
                    f.write(json.dumps({
                        "data": {k: base64.b64encode(v).decode() for k, v in table.data.items()},
                        "queues": {k: [base64.b64encode(v).decode() for v in q] for k, q in table.queues.items()},
                    }).encode())
            return result
        finally:
            os.close(fd)  # NOTE: closing releases the lock

    def _call(self, op, *args, timeout=None):
        if op.startswith("queue_"):
            raise NotImplementedError("queue support is not implemented.")
        reads = op in ("get", "check", "wait", "num_keys", "list_keys", "multi_get")
        limit = self._limit(timeout)
        deadline = time.monotonic() + limit

        def attempt(table):
            with table.cond:
                result = getattr(table, "op_" + op)(0.0, *args)
            return result, not reads or op == "queue_pop"
        while True:  # NOTE: other processes change the file: a wait is a poll
            try:
                result = self._locked(attempt)
            except _Timeout as error:
                if time.monotonic() > deadline:  # NOTE: PyTorch's FileStore raises plain RuntimeErrors here
                    if op == "wait":
                        raise RuntimeError("Wait timeout") from None
                    raise RuntimeError(f"Timeout waiting for key: {error.keys[0]} after {int(limit * 1000)} ms") \
                        from None
                time.sleep(0.01)
                continue
            if op == "delete_key":
                return True  # NOTE: as PyTorch's FileStore, whether or not the key was there
            return result

    def has_extended_api(self):
        """False: FileStore has no queues (as PyTorch's)."""
        return False

    def clone(self):
        return FileStore(self.path, self._world_size)

    def __del__(self):
        if self.__dict__.get("_closed", True):
            return
        self._closed = True
        try:
            if self._call("add", "\0refcount", -1) <= 0 and self._world_size != -1:
                os.remove(self.path)
        except Exception:  # NOTE: interpreter shutdown, or the file is gone already
            pass
