"""ember's PMI-1 server: the process manager's part of MPI_Init for ranks that were not started by mpiexec
(see _rendezvous.py, which starts it). Standard library only: rank 0 runs this file as a script,
`python -I -S _pmi_server.py FD SIZE TIMEOUT FILE`, on the listening socket it bound.

The protocol is MPICH's PMI-1 wire protocol (MPICH's src/pmi/maint/pmi-1.1.txt): one line per command,
`cmd=NAME key=value ...`, answered by one line with rc=0 (or rc=1 and msg=...). Before it, each rank sends
`cmd=ember_join rank= size= host= node= pid=` and waits for `cmd=ember_go`, so that nothing reaches MPI before
every rank is there; a second connection per rank (`cmd=ember_watch`) carries `cmd=ember_abort` when a rank
calls MPI_Abort or dies, to end every rank as mpiexec does."""
import os
import selectors
import signal
import socket
import sys
import time

_MAXES = "kvsname_max=256 keylen_max=64 vallen_max=1024"


def _int(value):
    return None if value in (None, "") else int(value)


def send(sock, line):
    sock.sendall((line + "\n").encode())


def read_line(sock):
    """One line, read a byte at a time so that nothing after it (MPICH's part) is taken from the socket."""
    out = bytearray()
    while True:
        b = sock.recv(1)
        if not b:
            return None
        if b == b"\n":
            return out.decode()
        out += b


def fields(line):
    out = {}
    for word in line.split():
        key, _, value = word.partition("=")
        out[key] = value
    return out


class _Server:
    """One job's rendezvous: the join phase (until every rank said which it is, or the timeout), then the PMI
    commands of MPI_Init and MPI_Finalize; it ends when every rank has closed its connection."""

    def __init__(self, listener, size, timeout_s, file):
        self.listener, self.size, self.timeout_s, self.file = listener, size, timeout_s, file
        self.deadline = time.monotonic() + timeout_s
        self.parent = os.getppid()
        self.sel = selectors.DefaultSelector()
        self.sel.register(listener, selectors.EVENT_READ, None)
        self.conns = {}  # socket -> {"buf", "rank", "host", "node", "pid", "watch", "finalized"}
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
        if self.started:  # NOTE: a process that was not counted in world_size: tell it why, then hang up
            self._reply_sock(conn, f"cmd=ember_go rc=1 msg=the_world_of_{self.size}_ranks_at_this_address_has_"
                                   f"already_started_(is_world_size_the_same_on_every_rank?)")
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
        f = fields(line)
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
