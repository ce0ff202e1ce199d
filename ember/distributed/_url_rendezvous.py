"""torch.distributed.rendezvous: a store, rank and world size from a URL (file://, tcp://, env://), and
register_rendezvous_handler for other schemes.

NOTE: ember's init_process_group meets its peers through MPI (and _rendezvous.py for ranks MPI did not start);
rendezvous() is for programs that want the store itself."""
import datetime
import os
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

from ._stores import FileStore
from ._tcp_store import TCPStore

_handlers = {}


def register_rendezvous_handler(scheme, handler):
    """Make rendezvous() use handler(url, **kwargs) (a generator of (store, rank, world_size)) for `scheme`."""
    if scheme in _handlers:
        raise RuntimeError(f"Rendezvous handler for {scheme}:// already registered")
    _handlers[scheme] = handler


def rendezvous(url, rank=-1, world_size=-1, **kwargs):
    """An iterator of (store, rank, world_size) for `url`; rank and world_size go into its query."""
    if not isinstance(url, str):
        raise RuntimeError(f"`url` must be a string. {type(url)}: {url}")
    if not isinstance(rank, int):
        raise RuntimeError(f"`rank` must be an integer. {rank}")
    if not isinstance(world_size, int):
        raise RuntimeError(f"`world_size` must be an integer. {world_size}")
    result = urlparse(url)
    if rank != -1 or world_size != -1:
        query = {k: v[0] for k, v in parse_qs(result.query).items()}
        if "rank" in query or "world_size" in query:
            raise AssertionError(f"The url: {url} has node-specific arguments(rank, world_size) already.")
        if rank != -1:
            query["rank"] = rank
        if world_size != -1:
            query["world_size"] = world_size
        result = result._replace(query=urlencode(query))
        url = urlunparse(result)
    if result.scheme not in _handlers:
        raise RuntimeError(f"No rendezvous handler for {result.scheme}://")
    return _handlers[result.scheme](url, **kwargs)


def _error(scheme, msg):
    return ValueError(f"Error initializing torch.distributed using {scheme} rendezvous: {msg}")


def _query_int(query, name, scheme):
    if name not in query:
        raise _error(scheme, f"{name} parameter missing")
    return int(query[name])


def _file_handler(url, **kwargs):
    result = urlparse(url)
    path = result.path or result.netloc
    if not path:
        raise _error("file://", "path missing")
    query = {k: v[0] for k, v in parse_qs(result.query).items()}
    rank = _query_int(query, "rank", "file://")
    world_size = _query_int(query, "world_size", "file://")
    yield FileStore(path, world_size), rank, world_size
    raise RuntimeError("Unable to perform re-rendezvous using file:// method")


def _tcp_handler(url, timeout=datetime.timedelta(seconds=300), **kwargs):
    result = urlparse(url)
    if not result.port:
        raise _error("tcp://", "port number missing")
    query = {k: v[0] for k, v in parse_qs(result.query).items()}
    rank = _query_int(query, "rank", "tcp://")
    world_size = _query_int(query, "world_size", "tcp://")
    store = TCPStore(result.hostname, result.port, world_size, rank == 0, timeout)
    yield store, rank, world_size
    raise RuntimeError("Unable to perform re-rendezvous using tcp:// method")


def _env_handler(url, timeout=datetime.timedelta(seconds=300), **kwargs):
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}

    def value(name, env):
        if name in query:
            return int(query[name])
        if env not in os.environ:
            raise _error("env://", f"environment variable {env} expected, but not set")
        return int(os.environ[env])
    rank = value("rank", "RANK")
    world_size = value("world_size", "WORLD_SIZE")
    if "MASTER_ADDR" not in os.environ:
        raise _error("env://", "environment variable MASTER_ADDR expected, but not set")
    if "MASTER_PORT" not in os.environ:
        raise _error("env://", "environment variable MASTER_PORT expected, but not set")
    store = TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world_size, rank == 0, timeout)
    yield store, rank, world_size
    raise RuntimeError("Unable to perform re-rendezvous using env:// method")


register_rendezvous_handler("file", _file_handler)
register_rendezvous_handler("tcp", _tcp_handler)
register_rendezvous_handler("env", _env_handler)
