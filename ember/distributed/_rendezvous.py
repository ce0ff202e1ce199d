"""The rendezvous for ranks that were not started by MPI (mp.spawn, multiprocessing.Process, torchrun-style
launchers, a shell loop): rank 0 serves MPICH's PMI-1 protocol on MASTER_ADDR:MASTER_PORT (or the tcp:// /
file:// address), every rank connects to it, and MPI_Init then finds its peers through that connection.

NOTE: the engine stays MPI; only the process manager's part is ours. MPICH's PMI-1 client reads PMI_FD (an
already connected socket), PMI_RANK and PMI_SIZE at MPI_Init and then speaks a line protocol on that socket
(init, get_maxes, get_appnum, get_my_kvsname, put, get, barrier_in, finalize, abort: see MPICH's
src/pmi/maint/pmi-1.1.txt). Each rank connects here in Python first (so that connecting can be retried until
the timeout and a missing rank gives PyTorch's timeout error instead of a hang inside MPI_Init), says which
rank it is, waits until every rank has said so, and hands the connected socket to MPICH through PMI_FD.

The server runs in a child process of rank 0 (this file run as a script, standard library only), not in a
thread: MPI_Init (when mpi4py.MPI is imported) and MPI_Finalize (at interpreter exit, after Python threads
stop running) both hold the interpreter, and both wait for the server's barrier. The child exits once every
rank has closed its connection (at exit), or at the timeout when not every rank came."""
import errno
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

_MAXES = "kvsname_max=256 keylen_max=64 vallen_max=1024"
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


def _int(value):
    return None if value in (None, "") else int(value)


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
    _send(watch, "cmd=ember_watch")
    try:
        sock = _connect(p, deadline, DistNetworkError)
    except BaseException:
        watch.close()
        raise
    try:
        _send(sock, f"cmd=ember_join rank={p.rank} size={p.size} host={machine()} "
              f"node={socket.gethostname()} pid={os.getpid()}")
        sock.settimeout(max(deadline - time.monotonic(), 0.0) + 2.0)  # the server reports its timeout itself
        try:
            reply = _read_line(sock)
        except (socket.timeout, OSError):
            reply = None
        if reply is None:
            raise DistStoreError(f"Timed out after {timeout_s:g} seconds waiting for the other ranks "
                                 f"(the rendezvous server at {p.host}:{p.port} did not answer)")
        fields = _fields(reply)
        if fields.get("rc") != "0":
            raise DistStoreError(fields.get("msg", reply).replace("_", " "))
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
        line = _read_line(sock)
    except OSError:
        return
    if line is None or not line.startswith("cmd=ember_abort"):
        return
    f = _fields(line)
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
    cmd = [sys.executable, "-I", "-S", os.path.abspath(__file__), str(listener.fileno()), str(p.size),
           repr(float(timeout_s)), p.file or ""]
    _SERVER[:] = [subprocess.Popen(cmd, pass_fds=[listener.fileno()], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, start_new_session=True)]
    listener.close()
    if p.file is None and p.host not in ("127.0.0.1", "localhost"):
        p.host = "127.0.0.1"  # NOTE: rank 0 reaches its own server on loopback whatever MASTER_ADDR names


# --- the wire --------------------------------------------------------------------------------------------------
def _send(sock, line):
    sock.sendall((line + "\n").encode())


def _read_line(sock):
    """One line, read a byte at a time so that nothing after it (MPICH's part) is taken from the socket."""
    out = bytearray()
    while True:
        b = sock.recv(1)
        if not b:
            return None
        if b == b"\n":
            return out.decode()
        out += b


def _fields(line):
    out = {}
    for word in line.split():
        key, _, value = word.partition("=")
        out[key] = value
    return out


# --- the server (runs as `python _rendezvous.py FD SIZE TIMEOUT FILE`) ------------------------------------------
class _Server:
    def __init__(self, listener, size, timeout_s, file):
        self.listener, self.size, self.timeout_s, self.file = listener, size, timeout_s, file
        self.deadline = time.monotonic() + timeout_s
        self.parent = os.getppid()
        self.sel = selectors.DefaultSelector()
        self.sel.register(listener, selectors.EVENT_READ, None)
        self.conns = {}  # socket -> {"buf", "rank", "host", "pid"}
        self.ranks = {}  # rank -> socket
        self.started = False
        self.kvs = {}
        # NOTE: MPICH names its shared-memory segments after the job's kvsname: one name per job, so that two
        # jobs (or a killed job's leftover segments) never collide
        self.kvsname = f"ember_{os.getpid()}_{time.time_ns() % 10**12}"
        self.waiting = set()  # ranks in barrier_in
        self.gone = set()  # ranks whose connection closed
        self.failed = None  # why barriers can no longer complete
        self.aborted = False
        self.kills = []  # (when, pid): same-machine ranks still running after an MPI_Abort

    def run(self):
        while True:
            if not self.started and os.getppid() != self.parent:
                self._refuse_all("rank_0_exited_before_every_rank_joined")  # NOTE: else it would hold the port
                return
            if not self.started and time.monotonic() > self.deadline:
                self._refuse_all(f"Timed out after {self.timeout_s:g} seconds waiting for clients. "
                                 f"{len(self.ranks)}/{self.size} clients joined.")
                return
            if self.started and not any(state["rank"] is not None for state in self.conns.values()):
                return
            self._kill_late()
            wait = None if self.started else min(max(self.deadline - time.monotonic(), 0.0) + 0.01, 0.5)
            if self.kills:
                wait = 0.1
            for key, _ in self.sel.select(wait):
                if key.fileobj is self.listener:
                    self._accept()
                else:
                    self._readable(key.fileobj)

    def _accept(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        if self.started:
            conn.close()
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conns[conn] = {"buf": b"", "rank": None}
        self.sel.register(conn, selectors.EVENT_READ, None)

    def _readable(self, conn):
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._closed(conn)
            return
        state = self.conns[conn]
        state["buf"] += data
        while b"\n" in state["buf"]:
            line, state["buf"] = state["buf"].split(b"\n", 1)
            if line.strip():
                self._command(conn, state, line.decode(errors="replace"))

    def _closed(self, conn):
        state = self.conns.pop(conn)
        self.sel.unregister(conn)
        conn.close()
        r = state["rank"]
        if r is None:
            return
        if not self.started:
            del self.ranks[r]
            return
        if not state.get("finalized"):
            self.gone.add(r)
            if not self.aborted:  # NOTE: killed, or os._exit: mpiexec ends the job then, and so does ember
                self._abort(r, 1, "died")
            self._fail(f"rank_{r}_exited_before_MPI_Finalize")

    def _fail(self, why):
        """A rank is gone: barriers that wait for it are answered with an error (MPICH then aborts)."""
        self.failed = why
        for r in sorted(self.waiting):
            self._reply(r, f"cmd=barrier_out rc={0 if self.aborted else 1} msg={why}")
        self.waiting.clear()

    def _reply_sock(self, conn, line):
        try:
            conn.sendall((line + "\n").encode())
        except OSError:
            pass

    def _reply(self, rank, line):
        conn = self.ranks.get(rank)
        if conn is not None and conn in self.conns:
            self._reply_sock(conn, line)

    def _refuse_all(self, msg):
        for conn in list(self.conns):
            self._reply_sock(conn, "cmd=ember_go rc=1 msg=" + msg.replace(" ", "_"))
            conn.close()
        self.conns.clear()

    def _command(self, conn, state, line):
        f = _fields(line)
        cmd = f.get("cmd")
        if cmd == "ember_join":
            self._join(conn, state, f)
            return
        if cmd == "ember_watch":
            state["watch"] = True
            return
        r = state["rank"]
        if r is None or not self.started:
            self._reply_sock(conn, f"cmd={cmd}_result rc=1 msg=not_joined")
            return
        if cmd == "init":
            self._reply_sock(conn, "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0")
        elif cmd == "get_maxes":
            self._reply_sock(conn, f"cmd=maxes {_MAXES} rc=0")
        elif cmd == "get_appnum":
            self._reply_sock(conn, "cmd=appnum appnum=0 rc=0")
        elif cmd == "get_universe_size":
            self._reply_sock(conn, f"cmd=universe_size size={self.size} rc=0")
        elif cmd == "get_my_kvsname":
            self._reply_sock(conn, f"cmd=my_kvsname kvsname={self.kvsname} rc=0")
        elif cmd == "put":
            self.kvs[f.get("key", "")] = f.get("value", "")
            self._reply_sock(conn, "cmd=put_result rc=0")
        elif cmd == "get":
            value = self._get(f.get("key", ""))
            self._reply_sock(conn, f"cmd=get_result rc=0 value={value}" if value is not None
                             else "cmd=get_result rc=1 msg=key_not_found")
        elif cmd == "barrier_in":
            self._barrier(r)
        elif cmd == "finalize":
            state["finalized"] = True
            self._reply_sock(conn, "cmd=finalize_ack rc=0")
        elif cmd == "abort":
            self._abort(r, _int(f.get("exitcode")) or 1)
        else:
            self._reply_sock(conn, f"cmd={cmd}_result rc=1 msg=unsupported_by_ember_rendezvous")

    def _join(self, conn, state, f):
        try:
            r, size = int(f["rank"]), int(f["size"])
        except (KeyError, ValueError):
            self._reply_sock(conn, "cmd=ember_go rc=1 msg=bad_join")
            return
        problem = None
        if size != self.size:
            problem = f"rank_{r}_says_world_size_is_{size}_but_rank_0_says_{self.size}"
        elif r in self.ranks:
            problem = f"two_processes_joined_as_rank_{r}"
        elif not 0 <= r < self.size:
            problem = f"invalid_rank_{r}_for_world_size_{self.size}"
        if problem is not None:
            self._reply_sock(conn, "cmd=ember_go rc=1 msg=" + problem)
            return
        state.update(rank=r, host=f.get("host", ""), node=f.get("node", ""), pid=_int(f.get("pid")))
        self.ranks[r] = conn
        if len(self.ranks) == self.size:
            self.started = True
            if self.file:
                try:
                    os.unlink(self.file)  # NOTE: every rank has read it; a later run starts from no file
                except OSError:
                    pass
            for rank in range(self.size):
                self._reply(rank, "cmd=ember_go rc=0")

    def _get(self, key):
        if key == "PMI_process_mapping":
            return self._mapping()
        if key == "PMI_dead_processes":
            return ",".join(str(r) for r in sorted(self.gone))
        return self.kvs.get(key)

    def _mapping(self):
        """MPICH's node map: (vector,(node,1,count),...), one block per run of consecutive ranks on one host,
        so that ranks on the same machine talk through shared memory."""
        hosts = [self.conns[self.ranks[r]]["host"] if self.ranks[r] in self.conns else f"?{r}"
                 for r in range(self.size)]
        ids, blocks = {}, []
        for h in hosts:
            node = ids.setdefault(h, len(ids))
            if blocks and blocks[-1][0] == node:
                blocks[-1][1] += 1
            else:
                blocks.append([node, 1])
        return "(vector," + ",".join(f"({node},1,{count})" for node, count in blocks) + ")"

    def _barrier(self, r):
        if self.aborted:  # NOTE: the job is ending: let each rank's MPI_Finalize go on to its own exit status
            self._reply(r, "cmd=barrier_out rc=0")
            return
        if self.failed is not None:
            self._reply(r, f"cmd=barrier_out rc=1 msg={self.failed}")
            return
        self.waiting.add(r)
        if len(self.waiting) == self.size:
            self.waiting.clear()
            for rank in range(self.size):
                self._reply(rank, "cmd=barrier_out rc=0")

    def _abort(self, r, code, why="aborted"):
        """MPI_Abort on one rank ends the job, as mpiexec does: every rank's watcher ends its process; ranks
        on this machine still running 2 s later (stuck where the watcher cannot run) are killed."""
        for conn, state in list(self.conns.items()):
            if state.get("watch"):
                self._reply_sock(conn, f"cmd=ember_abort rank={r} exitcode={code} why={why}")
        me = socket.gethostname()
        late = time.monotonic() + 2.0
        self.kills = [(late, st["pid"]) for st in self.conns.values()
                      if st["rank"] is not None and st.get("node") == me and st.get("pid")]
        self.aborted = True
        self._fail(f"rank_{r}_called_MPI_Abort")

    def _kill_late(self):
        now = time.monotonic()
        alive = {st.get("pid") for st in self.conns.values() if st["rank"] is not None}
        for when, pid in [k for k in self.kills if k[0] <= now]:
            if pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.kills = [k for k in self.kills if k[0] > now]


def _main(argv):
    listener = socket.socket(fileno=int(argv[0]))
    listener.setblocking(False)
    _Server(listener, int(argv[1]), float(argv[2]), argv[3] if len(argv) > 3 else "").run()


if __name__ == "__main__":
    _main(sys.argv[1:])
