"""torch.distributed's remaining names: the stores (against torch's own, side by side), the backend config, debug
level, rendezvous and the small helpers in this process; then launched ranks (this file is also the launched
script) for the coalesced and *_single collectives, subgroups, split_group and stores shared across processes."""
import os
import sys
import tempfile

import numpy as np

try:
    from .launch import needs_mpi
except ImportError:  # NOTE: launched by mpiexec as a script, not as part of the tests package
    needs_mpi = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# --- the launched side --------------------------------------------------------------------------------------
def scenario_coalesced(torch, dist, rank, world):
    import warnings
    a = torch.full((2, 3), float(rank + 1))
    b = torch.arange(4, dtype=torch.float64) * (rank + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist.all_reduce_coalesced([a, b])
    assert any(issubclass(w.category, FutureWarning) for w in caught)
    total = sum(range(1, world + 1))
    assert a.tolist() == [[float(total)] * 3] * 2, a
    assert b.tolist() == [float(i * total) for i in range(4)], b
    c = torch.tensor([rank, rank])
    d = torch.full((3,), float(rank))
    outs = [[torch.zeros(2, dtype=torch.int64), torch.zeros(3)] for _ in range(world)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        work = dist.all_gather_coalesced(outs, [c, d], async_op=True)
    work.wait()
    for r in range(world):
        assert outs[r][0].tolist() == [r, r] and outs[r][1].tolist() == [float(r)] * 3, outs
    gathered = torch.zeros(world * 2)
    dist.all_gather_single(gathered, torch.tensor([rank, -rank], dtype=torch.float32))
    assert gathered.tolist() == [v for r in range(world) for v in (float(r), float(-r))], gathered
    scattered = torch.zeros(2)
    dist.reduce_scatter_single(scattered, torch.arange(2 * world, dtype=torch.float32))
    assert scattered.tolist() == [float(world * (2 * rank)), float(world * (2 * rank + 1))], scattered


def scenario_subgroups(torch, dist, rank, world):
    mine, groups = dist.new_subgroups(group_size=1)
    assert len(groups) == world and dist.get_process_group_ranks(mine) == [rank]
    if world % 2 == 0:
        mine, groups = dist.new_subgroups(group_size=2)
        assert dist.get_process_group_ranks(mine) == [rank - rank % 2, rank - rank % 2 + 1]
        t = torch.ones(1)
        dist.all_reduce(t, group=mine)
        assert t.item() == 2.0
    try:
        dist.new_subgroups(group_size=world + 1)
    except ValueError as error:
        assert str(error) == f"The world size ({world}) must be divisible by 'group_size={world + 1}'", error
    else:
        raise AssertionError("an indivisible group_size was accepted")
    evens = [r for r in range(world) if r % 2 == 0]
    odds = [r for r in range(world) if r % 2 == 1]
    mine, groups = dist.new_subgroups_by_enumeration([evens, odds])
    assert dist.get_process_group_ranks(mine) == (evens if rank % 2 == 0 else odds)
    t = torch.tensor([float(rank)])
    dist.all_reduce(t, group=mine)
    assert t.item() == sum(evens if rank % 2 == 0 else odds)
    split = dist.split_group(split_ranks=[[0], list(range(1, world))])
    assert dist.get_process_group_ranks(split) == ([0] if rank == 0 else list(range(1, world)))
    assert dist.get_backend_config() == "cpu:gloo,cuda:gloo"


def scenario_stores_across_processes(torch, dist, rank, world):
    import datetime
    port = [None]
    if rank == 0:
        master = dist.TCPStore("127.0.0.1", 0, world, True, timeout=datetime.timedelta(seconds=30),
                               wait_for_workers=False)
        port[0] = master.port
    dist.broadcast_object_list(port, src=0)
    store = master if rank == 0 else dist.TCPStore("127.0.0.1", port[0], world, False,
                                                   timeout=datetime.timedelta(seconds=30), wait_for_workers=False)
    store.set(f"rank{rank}", str(rank * 10))
    assert store.add("arrived", 1) <= world
    store.wait([f"rank{r}" for r in range(world)])
    assert [int(store.get(f"rank{r}")) for r in range(world)] == [10 * r for r in range(world)]
    prefixed = dist.PrefixStore("job", store)
    prefixed.queue_push("work", f"from {rank}")
    dist.barrier()
    if rank == 0:
        assert sorted(prefixed.queue_pop("work") for _ in range(world)) == sorted(
            f"from {r}".encode() for r in range(world))
    dist.barrier()
    paths = [tempfile.mktemp(prefix="ember-filestore-")] if rank == 0 else [None]
    dist.broadcast_object_list(paths, src=0)
    files = dist.FileStore(paths[0], world)
    assert files.add("count", rank + 1) <= sum(range(1, world + 1))
    dist.barrier()
    assert int(files.get("count")) == sum(range(1, world + 1))
    dist.barrier()
    del files
    dist.barrier()
    assert not os.path.exists(paths[0]), "the last FileStore to close did not remove the file"
    if rank == 0:
        dist.barrier()
        del store, master
    else:
        del store
        dist.barrier()


GROUPS = {2: ["coalesced", "subgroups", "stores_across_processes"],
          3: ["coalesced", "subgroups", "stores_across_processes"]}


def _main(names):
    import ember as torch
    import ember.distributed as dist
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    for name in names:
        globals()["scenario_" + name](torch, dist, rank, world)
        dist.barrier()
        print(f"rank {rank}: {name} ok", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    _main(sys.argv[1:])
    sys.exit(0)


# --- the pytest side ----------------------------------------------------------------------------------------
import datetime  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
import torch.distributed as tdist  # noqa: E402

import ember  # noqa: E402
import ember.distributed as edist  # noqa: E402

SHORT = datetime.timedelta(milliseconds=100)


def _store_script(store):
    """What a program does with a store; every result, and each error's (type name, message)."""
    out = []

    def attempt(fn):
        try:
            out.append(fn())
        except Exception as error:  # noqa: BLE001 - compared with torch's
            out.append((type(error).__name__, str(error)))
    store.set_timeout(SHORT)
    attempt(lambda: store.set("a", "x"))
    attempt(lambda: store.set("b", b"\x00y"))
    attempt(lambda: (store.get("a"), store.get("b")))
    attempt(lambda: (store.add("c", 3), store.add("c", -1), store.get("c")))
    attempt(lambda: store.get("missing"))
    attempt(lambda: store.wait(["missing"], datetime.timedelta(milliseconds=50)))
    attempt(lambda: (store.compare_set("a", "x", "y"), store.get("a"), store.compare_set("a", "q", "z"),
                     store.compare_set("new", "", "v"), store.compare_set("new2", "zz", "v")))
    attempt(lambda: (store.check(["a", "nope"]), store.check(["a", "b"])))
    attempt(lambda: (store.delete_key("a"), store.delete_key("a")))
    attempt(lambda: (store.append("ap", "1"), store.append("ap", b"2"), store.get("ap")))
    attempt(lambda: (store.multi_set(["m1", "m2"], ["1", b"2"]), store.multi_get(["m2", "ap"])))
    attempt(lambda: (store.queue_push("q", "1"), store.queue_push("q", b"2"), store.queue_len("q"),
                     store.queue_pop("q"), store.queue_pop("q", block=False), store.queue_len("q")))
    attempt(lambda: store.queue_pop("q", block=False))
    attempt(lambda: store.queue_pop("q"))
    attempt(lambda: store.timeout)
    attempt(lambda: store.has_extended_api())
    return out


def _keys(store):
    return sorted(store.list_keys()), store.num_keys()


def test_hash_store_as_torchs():
    e, t = edist.HashStore(), tdist.HashStore()
    assert _store_script(e) == _store_script(t)
    assert _keys(e) == _keys(t)
    assert edist.HashStore().timeout == tdist.HashStore().timeout
    twin = e.clone()
    twin.set("shared", "1")
    assert e.get("shared") == b"1"


def test_store_errors_are_torchs_types():
    e = edist.HashStore()
    e.set_timeout(SHORT)
    with pytest.raises(edist.DistStoreError, match="Wait timeout"):
        e.get("nothing")
    assert issubclass(edist.QueueEmptyError, edist.DistStoreError)
    assert [c.__name__ for c in edist.QueueEmptyError.__mro__[:4]] == [
        c.__name__ for c in tdist.QueueEmptyError.__mro__[:4]]
    with pytest.raises(TypeError):
        e.set(3, "x")


def test_tcp_store_as_torchs():
    e_master = edist.TCPStore("127.0.0.1", 0, 1, True, timeout=datetime.timedelta(seconds=5))
    t_master = tdist.TCPStore("127.0.0.1", 0, 1, True, timeout=datetime.timedelta(seconds=5))
    e_client = edist.TCPStore("127.0.0.1", e_master.port, is_master=False)
    t_client = tdist.TCPStore("127.0.0.1", t_master.port, is_master=False)
    assert e_master.port > 0 and e_master.host == "127.0.0.1"
    assert _store_script(e_client) == _store_script(t_client)
    assert e_master.get("ap") == b"12"  # the client's writes are the master's
    assert e_master.add("c", 1) == 3
    assert sorted(e_master.list_keys()) == sorted(k for k in t_master.list_keys())


def test_prefix_store_as_torchs():
    e_base, t_base = edist.HashStore(), tdist.HashStore()
    e, t = edist.PrefixStore("pre", e_base), tdist.PrefixStore("pre", t_base)
    assert e.underlying_store is e_base
    assert _store_script(e) == _store_script(t)
    assert _keys(e_base) == _keys(t_base)
    assert e_base.get("pre/ap") == t_base.get("pre/ap") == b"12"


def test_file_store_as_torchs():
    with tempfile.TemporaryDirectory() as folder:
        e = edist.FileStore(os.path.join(folder, "e"), 2)
        t = tdist.FileStore(os.path.join(folder, "t"), 2)
        assert _store_script(e) == _store_script(t)
        assert e.has_extended_api() is t.has_extended_api() is False
        other = edist.FileStore(os.path.join(folder, "e"), 2)  # a second handle: another process's view
        assert other.get("ap") == b"12" and other.add("c", 10) == 12 and e.get("c") == b"12"
        del e
        assert os.path.exists(os.path.join(folder, "e"))
        del other
        assert not os.path.exists(os.path.join(folder, "e"))


def test_rendezvous_as_torchs():
    with tempfile.TemporaryDirectory() as folder:
        store, rank, size = next(edist.rendezvous(f"file://{folder}/rdzv", rank=0, world_size=1))
        assert (rank, size) == (0, 1) and isinstance(store, edist.FileStore)
        store.set("k", "v")
        for lib in (edist, tdist):
            with pytest.raises(ValueError, match="rank parameter missing"):
                next(lib.rendezvous(f"file://{folder}/x?world_size=1"))
            with pytest.raises(RuntimeError, match="No rendezvous handler for nope://"):
                lib.rendezvous("nope://host")
            with pytest.raises(AssertionError, match="has node-specific arguments"):
                lib.rendezvous(f"file://{folder}/y?rank=0", rank=0)
        import socket
        with socket.socket() as probe:  # NOTE: a free port (tcp:// refuses port 0, as PyTorch's)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        store, rank, size = next(edist.rendezvous(f"tcp://127.0.0.1:{port}?rank=0&world_size=1"))
        store.set("t", "1")
        assert store.get("t") == b"1"
    edist.register_rendezvous_handler("ember-test", lambda url, **kw: iter([("store", 3, 4)]))
    assert next(edist.rendezvous("ember-test://x")) == ("store", 3, 4)
    with pytest.raises(RuntimeError, match="Rendezvous handler for ember-test:// already registered"):
        edist.register_rendezvous_handler("ember-test", None)


def test_backend_helpers_as_torchs():
    for text in ("gloo", "nccl", "cpu:gloo,cuda:nccl", "GLOO"):
        assert str(edist.BackendConfig(text)) == str(tdist.BackendConfig(text)), text
        assert edist.BackendConfig(text).get_device_backend_map() == tdist.BackendConfig(text).get_device_backend_map()
    for device in ("cpu", "cuda", ember.device("cpu")):
        expected = tdist.get_default_backend_for_device(str(device))
        assert edist.get_default_backend_for_device(device) == expected
    with pytest.raises(ValueError, match="Default backend not registered for device"):
        edist.get_default_backend_for_device("meta")
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        expected = tdist.supports_complex(getattr(tdist.ReduceOp, op))
        assert edist.supports_complex(getattr(edist.ReduceOp, op)) == expected
    assert edist.is_ucc_available() is False and edist.is_xccl_available() is False
    assert edist.timedelta is datetime.timedelta
    assert [m for m in edist.BuiltinCommHookType.__members__] == list(tdist.BuiltinCommHookType.__members__)


def test_debug_level_as_torchs(monkeypatch):
    assert list(edist.DebugLevel.__members__) == list(tdist.DebugLevel.__members__)
    before = edist.get_debug_level()
    try:
        edist.set_debug_level(edist.DebugLevel.DETAIL)
        assert edist.get_debug_level() == edist.DebugLevel.DETAIL
        assert str(edist.get_debug_level()) == str(tdist.DebugLevel.DETAIL)
        monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "INFO")
        edist.set_debug_level_from_env()
        assert edist.get_debug_level() == edist.DebugLevel.INFO
        monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "LOUD")
        with pytest.raises(ValueError):
            edist.set_debug_level_from_env()
    finally:
        edist.set_debug_level(before)


def test_record_comm_is_a_context_manager():
    with edist.record_comm("layer1"):
        from ember.distributed._extras import _comm_name
        assert _comm_name[0] == "layer1"
    assert _comm_name[0] is None


def test_the_names_ember_lacks_are_the_documented_ones():
    import types
    names = {n for n in dir(tdist) if not n.startswith("_") and not isinstance(getattr(tdist, n), types.ModuleType)}
    lacking = {n for n in names if not hasattr(edist, n)}
    # NOTE: the C++ option structs, backend classes, reducer and logger (tools/coverage.py leaves them out),
    # the device mesh (DTensor), shrink_group (NCCL's), the `log` logger object and the deprecated reduce_op
    assert lacking == {"AllToAllOptions", "AllreduceCoalescedOptions", "AllreduceOptions", "BarrierOptions",
                       "BroadcastOptions", "GatherOptions", "ReduceOptions", "ReduceScatterOptions",
                       "ScatterOptions", "ProcessGroupGloo", "Reducer", "Logger", "DeviceMesh", "init_device_mesh",
                       "shrink_group", "log", "reduce_op"}, lacking


def _check_group(n):
    from .launch import run_ranks
    names = GROUPS[n]
    done = run_ranks(os.path.abspath(__file__), n, *names, timeout=240, env={"OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout
    for rank in range(n):
        for name in names:
            assert f"rank {rank}: {name} ok" in done.stdout, done.stdout


@needs_mpi
def test_api_two_processes():
    _check_group(2)


@needs_mpi
def test_api_three_processes():
    _check_group(3)
