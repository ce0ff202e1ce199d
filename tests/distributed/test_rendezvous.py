"""Ranks that were not started by MPI join one world through init_method, as in PyTorch: N processes started
by Popen with MASTER_ADDR/MASTER_PORT/RANK/WORLD_SIZE (env://), with tcp:// and file:// and rank/world_size
arguments, and by stdlib multiprocessing's spawn context (what mp.spawn does). This file is also the launched
script: each rank checks collectives against NumPy and DDP against single-process training, prints one line
per check passed, and fails with a traceback. The error cases (PyTorch's messages, measured with torch 2.13)
run in one launched process: they all fail before MPI starts."""
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

try:
    from .launch import needs_mpi
    pytestmark = needs_mpi
except ImportError:  # NOTE: launched as a script, not as part of the tests package
    pass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# --- the launched side --------------------------------------------------------------------------------------
def _say(*words):
    os.write(1, (" ".join(str(w) for w in words) + "\n").encode())  # NOTE: one write: ranks share a pipe


def checks(rank, world, init_method, ddp, arguments=True):
    """Join the world (rank and world_size as arguments, or from RANK/WORLD_SIZE), then compare all_reduce,
    broadcast and all_gather with NumPy (and DDP training)."""
    import datetime

    import ember as torch
    import ember.distributed as dist
    kwargs = {"rank": rank, "world_size": world} if arguments else {}
    dist.init_process_group("gloo", init_method=init_method, timeout=datetime.timedelta(seconds=60), **kwargs)
    assert (dist.get_rank(), dist.get_world_size()) == (rank, world)
    assert not any(k in os.environ for k in ("PMI_FD", "PMI_RANK", "PMI_SIZE")), "PMI variables left behind"
    rng = np.random.default_rng(7)
    data = rng.standard_normal((world, 1000)).astype(np.float32)
    t = torch.tensor(data[rank])
    dist.all_reduce(t)
    np.testing.assert_allclose(t.numpy(), data.sum(0), rtol=1e-5, atol=1e-5)
    big = torch.tensor(np.arange(300000, dtype=np.int64) * (rank + 1))
    dist.broadcast(big, src=world - 1)
    assert np.array_equal(big.numpy(), np.arange(300000, dtype=np.int64) * world)
    parts = [torch.zeros(5, dtype=torch.float64) for _ in range(world)]
    dist.all_gather(parts, torch.arange(5, dtype=torch.float64) + 10 * rank)
    assert np.array_equal(np.stack([p.numpy() for p in parts]), np.arange(5) + 10 * np.arange(world)[:, None])
    _say("collectives OK", rank, world)
    if ddp:
        sys.path.insert(0, HERE)
        from test_ddp_mpi import scenario_matches_single_process
        scenario_matches_single_process(torch, dist, rank, world)
        _say("ddp OK", rank)
    if rank == 0:
        from ember.distributed import _rendezvous
        _say("server", _rendezvous._SERVER[0].pid)
    dist.destroy_process_group()
    # once MPI runs, a second init_process_group of the same world takes MPI's world again
    dist.init_process_group("gloo", init_method=init_method, **kwargs)
    t = torch.ones(2)
    dist.all_reduce(t)
    assert t.tolist() == [world] * 2 and dist.get_rank() == rank
    dist.destroy_process_group()


def _spawned(rank, world, port):
    """The function mp.spawn would run: MASTER_ADDR/MASTER_PORT set by the parent, rank from the argument."""
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    checks(rank, world, "env://", ddp=False)


def spawn_processes(world, port):
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_spawned, args=(r, world, port)) for r in range(world)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    _say("exit codes", *[p.exitcode for p in procs])


def crash(how):
    """Rank 1 fails (an uncaught exception: MPI_Abort; or SIGKILL) while rank 0 waits for it in all_reduce: the
    job ends, every rank with a non-zero status, instead of rank 0 waiting for its timeout."""
    import ember as torch
    import ember.distributed as dist
    dist.init_process_group("gloo")
    if dist.get_rank() == 1:
        time.sleep(0.5)
        if how == "kill":
            os.kill(os.getpid(), 9)
        raise RuntimeError("rank 1 fails")
    dist.all_reduce(torch.ones(2))
    _say("rank 0 was not ended")


def torchrun():
    """Started by torch's own torchrun: its agent holds MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE)."""
    assert os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    checks(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), "env://", ddp=False, arguments=False)


def errors():
    """Each failure comes before MPI starts, so one process can try them all."""
    import datetime

    import ember.distributed as dist
    short = datetime.timedelta(seconds=1)

    def raises(kind, text, **kwargs):
        start = time.monotonic()
        try:
            dist.init_process_group("gloo", **kwargs)
        except kind as e:
            assert text in str(e), (text, str(e))
            assert time.monotonic() - start < 10, "took too long"
            return
        raise AssertionError(f"no {kind.__name__}: {text}")

    port, port2, port3 = (int(a) for a in sys.argv[2:5])
    for k in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"):
        os.environ.pop(k, None)
    os.environ["WORLD_SIZE"] = "2"
    raises(ValueError, "Error initializing torch.distributed using env:// rendezvous: environment variable RANK "
           "expected, but not set")
    os.environ["RANK"] = "0"
    raises(ValueError, "environment variable MASTER_ADDR expected, but not set")
    os.environ.pop("WORLD_SIZE")
    os.environ.pop("RANK")
    tcp = f"tcp://127.0.0.1:{port}"
    raises(ValueError, "Error initializing torch.distributed using tcp:// rendezvous: rank parameter missing",
           init_method=tcp)
    raises(ValueError, "Error initializing torch.distributed using tcp:// rendezvous: world size parameter missing",
           init_method=tcp, rank=0)
    raises(dist.DistError, "Invalid rank 2 for a world of 2 processes", init_method=tcp, rank=2, world_size=2)
    # a rank that never comes: rank 0 waits, then PyTorch's store timeout; rank 1 with no server: connect timeout
    raises(dist.DistStoreError, "Timed out after 1 seconds waiting for clients. 1/2 clients joined.",
           init_method=tcp, rank=0, world_size=2, timeout=short)
    raises(dist.DistNetworkError, f"The client socket has timed out after", init_method=f"tcp://127.0.0.1:{port2}",
           rank=1, world_size=2, timeout=short)
    busy = socket.socket()
    busy.bind(("0.0.0.0", port3))
    busy.listen()
    raises(dist.DistNetworkError, f"The server socket has failed to listen on any local network address. port: "
           f"{port3}, useIpv6: false, code: -98, name: EADDRINUSE, message: address already in use",
           init_method=f"tcp://127.0.0.1:{port3}", rank=0, world_size=2, timeout=short)
    assert not dist.is_initialized()
    _say("errors OK")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "spawn":
        spawn_processes(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "errors":
        errors()
    elif mode == "crash":
        crash(sys.argv[2])
    elif mode == "torchrun":
        torchrun()
    else:
        ranks = [os.environ["RANK"], os.environ["WORLD_SIZE"]] if mode == "env://" else sys.argv[2:4]
        checks(int(ranks[0]), int(ranks[1]), mode, ddp=sys.argv[-1] == "ddp", arguments=mode != "env://")
    sys.exit(0)


# --- the test side -------------------------------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               **{k: str(v) for k, v in extra.items()})
    for k in ("EMBER_TEST_DEVICE", "PMI_FD", "PMI_PORT", "PMI_RANK", "PMI_SIZE", "RANK", "WORLD_SIZE",
              "MASTER_ADDR", "MASTER_PORT", "EMBER_RENDEZVOUS_HOST"):
        if k not in extra:
            env.pop(k, None)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _run(commands, timeout=90, prefix=()):
    """Start every (argv, env) at once; (exit codes, output of all) once all ended. Killed after timeout."""
    procs = [subprocess.Popen([sys.executable, *prefix, os.path.abspath(__file__), *argv], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
             for argv, env in commands]
    deadline = time.monotonic() + timeout
    outs, codes = [], []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            for q in procs:
                try:
                    os.killpg(q.pid, 9)
                except OSError:
                    pass
            out, _ = p.communicate()
            raise AssertionError(f"timed out after {timeout}s:\n{out[-4000:]}")
        outs.append(out)
        codes.append(p.returncode)
    return codes, "".join(outs)


def _server_gone(out):
    """The rendezvous server (rank 0's child) ended with the job."""
    pid = int(out.split("server ")[1].split()[0])
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_env_rendezvous_three_popen_ranks_collectives_and_ddp():
    port = _free_port()
    codes, out = _run([(["env://", "ddp"], _env(RANK=r, WORLD_SIZE=3, MASTER_ADDR="127.0.0.1", MASTER_PORT=port))
                       for r in range(3)])
    assert codes == [0, 0, 0], out[-5000:]
    assert out.count("collectives OK") == 3 and out.count("ddp OK") == 3, out[-3000:]
    assert _server_gone(out)


def test_tcp_rendezvous_three_ranks_as_on_two_machines():
    """tcp:// with rank/world_size arguments; ranks 0 and 2 name one machine and rank 1 another
    (EMBER_RENDEZVOUS_HOST), so MPI exchanges network addresses through the server (put/get) and uses both
    its network engine and shared memory."""
    port = _free_port()
    codes, out = _run([([f"tcp://127.0.0.1:{port}", str(r), "3"], _env(EMBER_RENDEZVOUS_HOST=f"node{r % 2}"))
                       for r in range(3)])
    assert codes == [0, 0, 0], out[-5000:]
    assert out.count("collectives OK") == 3, out[-3000:]


def test_file_rendezvous_two_ranks(tmp_path):
    path = tmp_path / "rendezvous"
    codes, out = _run([([f"file://{path}", str(r), "2"], _env()) for r in range(2)])
    assert codes == [0, 0], out[-5000:]
    assert out.count("collectives OK") == 2, out[-3000:]
    assert not path.exists()  # the server removes it once every rank has read it


def test_spawn_context_processes_join_with_rank_arguments():
    """The mp.spawn pattern: a parent starts N spawn-context Processes, each calls init_process_group(rank=r)."""
    codes, out = _run([(["spawn", "2", str(_free_port())], _env())])
    assert codes == [0], out[-5000:]
    assert out.count("collectives OK") == 2 and "exit codes 0 0" in out, out[-3000:]


def test_errors_are_pytorchs_and_come_within_the_timeout():
    codes, out = _run([(["errors", *(str(_free_port()) for _ in range(3))], _env())], timeout=60)
    assert codes == [0] and "errors OK" in out, out[-5000:]


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_rank_ends_the_job(how):
    port = _free_port()
    start = time.monotonic()
    codes, out = _run([(["crash", how], _env(RANK=r, WORLD_SIZE=2, MASTER_ADDR="127.0.0.1", MASTER_PORT=port))
                       for r in range(2)], timeout=60)
    assert codes[0] != 0 and codes[1] != 0, out[-4000:]
    assert "rank 0 was not ended" not in out and "ending rank 0 as mpiexec does" in out, out[-4000:]
    assert time.monotonic() - start < 40


def test_torchrun_of_pytorch_starts_the_ranks():
    pytest.importorskip("torch")
    codes, out = _run([(["torchrun"], _env())], timeout=90,
                      prefix=("-m", "torch.distributed.run", "--nproc-per-node", "2"))
    assert codes == [0], out[-5000:]
    assert out.count("collectives OK") == 2, out[-3000:]


def test_plan_reads_init_method_arguments_and_environment(monkeypatch):
    from ember.distributed import DistError, _rendezvous
    for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE"):
        monkeypatch.delenv(k, raising=False)
    assert _rendezvous.plan(None, -1, -1) is None  # no world size: MPI's own world (a singleton, or mpiexec's)
    assert _rendezvous.plan("tcp://10.0.0.1:1234", 0, 1) is None  # a world of one needs no rendezvous
    p = _rendezvous.plan("tcp://10.0.0.1:1234?rank=2&world_size=4", -1, -1)
    assert (p.rank, p.size, p.host, p.port, p.file) == (2, 4, "10.0.0.1", 1234, None)
    p = _rendezvous.plan("file:///tmp/x/rdv", 1, 2)
    assert (p.rank, p.size, p.file) == (1, 2, "/tmp/x/rdv")
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("MASTER_ADDR", "node0")
    monkeypatch.setenv("MASTER_PORT", "29500")
    p = _rendezvous.plan("env://", -1, -1)
    assert (p.rank, p.size, p.host, p.port) == (1, 3, "node0", 29500)
    assert _rendezvous.plan(None, 2, -1).rank == 2  # arguments win over the environment
    monkeypatch.setenv("TORCHELASTIC_USE_AGENT_STORE", "True")
    assert _rendezvous.plan(None, -1, -1).port == 29501  # torchrun's agent holds MASTER_PORT
    with pytest.raises(ValueError, match="No rendezvous handler for udp://"):
        _rendezvous.plan("udp://x:1", 0, 2)
    for bad in (3, -3):
        with pytest.raises(DistError, match=rf"Invalid rank {bad} for a world of 3 processes"):
            _rendezvous.plan("tcp://x:1", bad, 3)
    with pytest.raises(ValueError, match="world size parameter missing"):
        _rendezvous.plan("file:///tmp/rdv", 0, -1)


def test_process_mapping_groups_each_machines_ranks():
    """MPICH's node map: one block per run of consecutive ranks on one machine (node ids by first rank)."""
    from ember.distributed._pmi_server import _Server
    with socket.socket() as listener:
        server = _Server(listener, 4, 1.0, "")
        for r, host in enumerate(["a", "b", "b", "a"]):
            conn = object()
            server.conns[conn] = {"rank": r, "host": host}
            server.ranks[r] = conn
        assert server._get("PMI_process_mapping") == "(vector,(0,1,1),(1,1,2),(0,1,1))"
        assert server._get("PMI_hwloc_xmlfile") is None
