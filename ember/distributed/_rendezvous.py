"""The rendezvous for ranks that were not started by MPI (mp.spawn, multiprocessing.Process, torchrun-style
launchers, a shell loop): rank 0 serves MPICH's PMI-1 protocol on MASTER_ADDR:MASTER_PORT (or the tcp:// /
file:// address), every rank connects to it, and MPI_Init then finds its peers through that connection.

NOTE: the engine stays MPI; only the process manager's part is ours. MPICH's PMI-1 client reads PMI_FD (an
already connected socket), PMI_RANK and PMI_SIZE at MPI_Init and then speaks a line protocol on that socket
(init, get_maxes, get_appnum, get_my_kvsname, put, get, barrier_in, finalize, abort: see MPICH's
src/pmi/maint/pmi-1.1.txt). Each rank connects here in Python first (so that connecting can be retried until
the timeout and a missing rank gives PyTorch's timeout error instead of a hang inside MPI_Init), says which
rank it is, waits until every rank has said so, and hands the connected socket to MPICH through PMI_FD.

The server (_pmi_server.py) runs in a child process of rank 0 (that file run as a script), not in a thread:
MPI_Init (when mpi4py.MPI is imported) and MPI_Finalize (at interpreter exit, after Python threads stop
running) both hold the interpreter, and both wait for the server's barrier. The child exits once every rank
has closed its connection (at exit), or at the timeout when not every rank came."""
import errno
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

from ._pmi_server import _int, fields, read_line, send

_SERVER = []  # rank 0: the server process (for the tests, which check that it ends with the job)
_LAUNCHED = ("PMI_FD", "PMI_PORT", "PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK")


# --- the rank's side ---------------------------------------------------------------------------------------
class Plan:
    """Where the ranks meet: host and port (file: the rendezvous file, port found there or chosen by rank 0)."""

    def __init__(self, rank, size, host, port, file=None):
        self.rank, self.size, self.host, self.port, self.file = rank, size, host, port, file


def launched_by_mpi():
    """Whether a process manager (mpiexec, ember.distributed.run) started this process, or MPI already runs."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized():
        return True
    fd = os.environ.get("PMI_FD")
    if fd is not None:
        try:
            os.fstat(int(fd))  # NOTE: a child of an mpiexec rank inherits the variable, not the socket
        except (OSError, ValueError):
            return False
        return True
    return any(os.environ.get(name) for name in _LAUNCHED[1:])


def plan(init_method, rank, world_size):
    """The rendezvous that init_process_group's arguments and the environment name; None where there is none
    to run (a world of one process, or no world size given: MPI's singleton or mpiexec's world is used)."""
    method = "env://" if init_method is None else str(init_method)
    url = urlparse(method)
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    rank = rank if rank != -1 else _int(query.get("rank"))
    world_size = world_size if world_size != -1 else _int(query.get("world_size"))
    scheme = url.scheme
    where = f"Error initializing torch.distributed using {scheme}:// rendezvous: "
    if scheme == "env":
        if world_size is None:
            world_size = _int(os.environ.get("WORLD_SIZE"))
        if world_size is None or world_size == 1:
            return None
        if rank is None:
            rank = _int(os.environ.get("RANK"))
        for name, value in (("RANK", rank), ("MASTER_ADDR", os.environ.get("MASTER_ADDR")),
                            ("MASTER_PORT", os.environ.get("MASTER_PORT"))):
            if value in (None, ""):
                raise ValueError(where + f"environment variable {name} expected, but not set (world_size is "
                                 f"{world_size} but MPI started 1 process: set RANK, MASTER_ADDR and MASTER_PORT "
                                 f"in each rank's environment, or start the ranks with `python -m "
                                 f"ember.distributed.run --nproc-per-node {world_size} script.py` or `mpiexec`)")
        port = int(os.environ["MASTER_PORT"])
        if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":
            port += 1  # NOTE: torchrun's agent serves its own store on MASTER_PORT; ember's server takes the next
        return _checked(Plan(rank, world_size, os.environ["MASTER_ADDR"], port))
    if scheme not in ("tcp", "file"):
        raise ValueError(f"No rendezvous handler for {scheme}://")
    if rank is None:
        raise ValueError(where + "rank parameter missing")
    if world_size is None:
        raise ValueError(where + "world size parameter missing")
    if world_size == 1:
        return None
    if scheme == "tcp":
        if url.hostname is None or url.port is None:
            raise ValueError(where + f"hostname and port expected in {method!r}")
        return _checked(Plan(rank, world_size, url.hostname, url.port))
    path = url.path if not url.netloc else url.netloc + url.path
    if not path:
        raise ValueError(where + "path missing")
    return _checked(Plan(rank, world_size, None, None, file=path))


def _checked(p):
    from ._types import DistError
    if p.size < 1:
        raise ValueError(f"Invalid world_size {p.size}: it must be at least 1")
    if not 0 <= p.rank < p.size:
        # NOTE: PyTorch starts and then times out connecting (rank 1+) or waiting (rank 0); ember says why now
        raise DistError(f"Invalid rank {p.rank} for a world of {p.size} processes: rank must be in "
                        f"[0, {p.size - 1}]")
    return p


def join(p, timeout_s):
    """Meet the other ranks (rank 0 starts the server first); the environment MPI_Init then needs."""
    from ._types import DistNetworkError, DistStoreError
    deadline = time.monotonic() + timeout_s
    if p.rank == 0:
        _serve(p, timeout_s)
    watch = _connect(p, deadline, DistNetworkError)
    try:
        send(watch, "cmd=ember_watch")
    except OSError:
        pass  # NOTE: refused (the world has started without this rank): the join below reads why
    try:
        sock = _connect(p, deadline, DistNetworkError)
    except BaseException:
        watch.close()
        raise
    try:
        send(sock, f"cmd=ember_join rank={p.rank} size={p.size} host={machine()} "
              f"node={socket.gethostname()} pid={os.getpid()}")
        sock.settimeout(max(deadline - time.monotonic(), 0.0) + 2.0)  # the server reports its timeout itself
        try:
            reply = read_line(sock)
        except (socket.timeout, OSError):
            reply = None
        if reply is None:
            raise DistStoreError(f"Timed out after {timeout_s:g} seconds waiting for the other ranks "
                                 f"(the rendezvous server at {p.host}:{p.port} did not answer)")
        answer = fields(reply)
        if answer.get("rc") != "0":
            raise DistStoreError(answer.get("msg", reply).replace("_", " "))
        sock.settimeout(None)
    except BaseException:
        sock.close()
        watch.close()
        raise
    threading.Thread(target=_watch, args=(watch, p.rank), name="ember-rendezvous-watch", daemon=True).start()
    fd = sock.detach()  # NOTE: MPICH owns the connection from here; it stays open until the process exits
    return {"PMI_FD": str(fd), "PMI_RANK": str(p.rank), "PMI_SIZE": str(p.size)}


def _watch(sock, me):
    """Wait for the server's word that a rank called MPI_Abort, and end this process as mpiexec would."""
    try:
        line = read_line(sock)
    except OSError:
        return
    if line is None or not line.startswith("cmd=ember_abort"):
        return
    f = fields(line)
    if f.get("rank") != str(me):
        what = ("called MPI_Abort (an uncaught error there)" if f.get("why") == "aborted"
                else "ended without MPI_Finalize (killed, or os._exit)")
        sys.stderr.write(f"ember.distributed: rank {f.get('rank')} {what}: ending rank {me} as mpiexec does\n")
        sys.stderr.flush()
    os._exit(int(f.get("exitcode") or 1))


def machine():
    """The name this rank gives for its machine: ranks that give the same name talk through shared memory.

    NOTE: EMBER_RENDEZVOUS_HOST overrides the host name, for containers on different machines that share one
    (and for the tests, which make ranks on one machine talk through the network engine)."""
    return os.environ.get("EMBER_RENDEZVOUS_HOST") or socket.gethostname()


def _connect(p, deadline, error):
    started = time.monotonic()
    while True:
        host, port = (p.host, p.port) if p.file is None else _read_file(p)
        if host is not None:
            try:
                try:
                    sock = socket.create_connection((host, port), timeout=max(deadline - time.monotonic(), 0.1))
                except socket.gaierror:
                    if p.file is None:
                        raise
                    # NOTE: rank 0 wrote its host name into the file; one that does not resolve is this machine
                    sock = socket.create_connection(("127.0.0.1", port), timeout=0.5)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(None)
                return sock
            except OSError:
                pass
        if time.monotonic() >= deadline:
            ms = int(round((time.monotonic() - started) * 1000))
            where = f"({host}, {port})" if host is not None else f"the rendezvous file {p.file}"
            raise error(f"The client socket has timed out after {ms}ms while trying to connect to {where}.")
        time.sleep(0.05)


def _read_file(p):
    try:
        with open(p.file) as f:
            text = f.read().split()
    except OSError:
        return None, None
    if len(text) != 2:
        return None, None
    return text[0], int(text[1])


def _serve(p, timeout_s):
    """Bind the rendezvous port here (so that a port in use is this rank's error) and start the server."""
    from ._types import DistNetworkError
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("0.0.0.0", 0 if p.file is not None else p.port))
        listener.listen(max(p.size, 16))
    except OSError as e:
        listener.close()
        name = errno.errorcode.get(e.errno, "?")
        raise DistNetworkError(f"The server socket has failed to listen on any local network address. "
                               f"port: {p.port}, useIpv6: false, code: -{e.errno}, name: {name}, "
                               f"message: {os.strerror(e.errno).lower()}") from None
    if p.file is not None:
        p.host, p.port = "127.0.0.1", listener.getsockname()[1]
        tmp = f"{p.file}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{socket.gethostname()} {p.port}\n")
        os.replace(tmp, p.file)
    server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pmi_server.py")
    cmd = [sys.executable, "-I", "-S", server, str(listener.fileno()), str(p.size), repr(float(timeout_s)),
           p.file or ""]
    _SERVER[:] = [subprocess.Popen(cmd, pass_fds=[listener.fileno()], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, start_new_session=True)]
    listener.close()
    p.host = "127.0.0.1"  # NOTE: rank 0 reaches its own server on loopback whatever MASTER_ADDR names
