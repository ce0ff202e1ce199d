"""DistributedDataParallel in one process: hooks, buckets, no_sync, unused parameters, buffers, state_dict and
errors, against torch's DDP on a one-rank gloo group. The collectives are a one-rank stand-in that records what
DDP asks of them (which tensors, in which order); tests/distributed/test_ddp_mpi.py runs real ranks."""
import tempfile
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn.parallel.distributed as ddp_mod
from ember.nn.parallel._reducer import bucket_assignment


class _Work:
    def __init__(self, log, what):
        self.log, self.what = log, what

    def wait(self, timeout=None):
        self.log.append(("wait", self.what))
        return True


class OneRank:
    """ember.distributed's API for a group of one rank, logging each collective."""

    class ReduceOp:
        SUM, MAX = "sum", "max"

    class group:
        WORLD = "the default group"

    def __init__(self):
        self.log = []

    def get_world_size(self, group=None):
        return 1

    def get_rank(self, group=None):
        return 0

    def all_reduce(self, tensor, op="sum", group=None, async_op=False):
        self.log.append(("all_reduce", tensor.numel(), op))
        return _Work(self.log, tensor.numel()) if async_op else None

    def broadcast(self, tensor, src=0, group=None, async_op=False):
        self.log.append(("broadcast", tensor.numel()))

    def all_gather_object(self, out, obj, group=None):
        out[0] = obj

    def reduces(self):
        return [entry[1] for entry in self.log if entry[0] == "all_reduce" and entry[2] == "sum"]


@pytest.fixture
def comm(monkeypatch):
    fake = OneRank()
    monkeypatch.setattr(ddp_mod, "_dist", lambda: fake)
    return fake


@pytest.fixture(scope="module")
def gloo():
    """torch's default group: one gloo rank in this process."""
    import torch.distributed as tdist
    with tempfile.TemporaryDirectory() as folder:  # NOTE: torch's FileStore deletes its file itself
        tdist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=0, world_size=1)
        yield tdist
        tdist.destroy_process_group()


class Net:
    """The same little model in ember and torch: two layers, a buffer, an optional unused third layer."""

    @staticmethod
    def make(lib, extra=False):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Linear(4, 8)
                self.b = lib.nn.Linear(8, 3)
                if extra:
                    self.c = lib.nn.Linear(3, 3)
                self.register_buffer("steps", lib.zeros(()))

            def forward(self, x, use_b=True):
                self.steps += 1
                h = lib.relu(self.a(x))
                return self.b(h) if use_b else h
        lib.manual_seed(0)
        return M()


def same_weights(e_module, t_module):
    for e, t in zip(e_module.parameters(), t_module.parameters()):
        with torch.no_grad():
            t.copy_(torch.tensor(e.detach().numpy()))


def grads(module):
    return [None if p.grad is None else p.grad.numpy().copy() for p in module.parameters()]


def assert_grads_equal(e_module, t_module):
    for e, t in zip(grads(e_module), [None if p.grad is None else p.grad.numpy() for p in t_module.parameters()]):
        assert (e is None) == (t is None)
        if e is not None:
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_import_paths():
    assert ember.nn.parallel.DistributedDataParallel is ddp_mod.DistributedDataParallel
    from ember.nn.parallel import DistributedDataParallel
    assert DistributedDataParallel is ddp_mod.DistributedDataParallel
    assert issubclass(DistributedDataParallel, ember.nn.Module)


def test_module_attribute_state_dict_and_flags_as_torchs(comm, gloo):
    e_model, t_model = Net.make(ember), Net.make(torch)
    e, t = ddp_mod.DistributedDataParallel(e_model), torch.nn.parallel.DistributedDataParallel(t_model)
    assert e.module is e_model
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    for name in ("device_ids", "output_device", "dim", "bucket_bytes_cap", "find_unused_parameters",
                 "require_backward_grad_sync", "require_forward_param_sync", "gradient_as_bucket_view",
                 "static_graph", "broadcast_bucket_size", "forward_sync_buffers"):
        assert getattr(e, name) == getattr(t, name), name
    assert str(e.device) == str(t.device)
    # a checkpoint of the wrapper loads back into a wrapper
    e.load_state_dict(e.state_dict())


def test_construction_broadcasts_parameters_and_buffers_coalesced(comm):
    model = Net.make(ember)
    ddp_mod.DistributedDataParallel(model)
    total = sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
    assert [e for e in comm.log if e[0] == "broadcast"] == [("broadcast", total)]
    comm.log.clear()
    ddp_mod.DistributedDataParallel(model, init_sync=False)
    assert comm.log == []


def test_gradients_match_torch_and_one_all_reduce_per_bucket(comm, gloo):
    e_model, t_model = Net.make(ember), Net.make(torch)
    same_weights(e_model, t_model)
    e = ddp_mod.DistributedDataParallel(e_model, bucket_cap_mb=0.0001)  # 104 bytes: several buckets once rebuilt
    t = torch.nn.parallel.DistributedDataParallel(t_model, bucket_cap_mb=0.0001)
    e_opt = ember.optim.SGD(e.parameters(), lr=0.1)
    t_opt = torch.optim.SGD(t.parameters(), lr=0.1)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    reduces = []
    for step in range(3):
        comm.log.clear()
        e_opt.zero_grad()
        t_opt.zero_grad()
        e(ember.tensor(x)).square().sum().backward()
        t(torch.tensor(x)).square().sum().backward()
        assert_grads_equal(e_model, t_model)
        e_opt.step()
        t_opt.step()
        reduces.append(comm.reduces())
        # every bucket waited for, after all were launched
        assert [k for k, *_ in comm.log if k in ("all_reduce", "wait")] == ["all_reduce"] * len(reduces[-1]) + [
            "wait"] * len(reduces[-1])
    # NOTE: PyTorch 2.13 starts with one bucket and rebuilds them at the second forward, in the order the
    # gradients became ready; its logging data (a step late) says which buckets, in bytes
    logged = t._get_ddp_logging_data()
    assert reduces[0] == [int(b) // 4 for b in logged["bucket_sizes"].split(", ")] == [67]
    assert reduces[1] == reduces[2] == [int(b) // 4 for b in logged["rebuilt_bucket_sizes"].split(", ")]
    assert len(reduces[1]) == 2
    indices = [int(i) for i in logged["rebuilt_per_bucket_param_indices"].replace(",", " ").split()]
    assert [i for b in e.reducer.bucket_layout() for i in b] == indices


def test_all_reduce_starts_while_backward_still_runs(comm):
    model = Net.make(ember)
    ddp = ddp_mod.DistributedDataParallel(model, bucket_cap_mb=0.0001)
    ddp(ember.randn(5, 4)).sum().backward()  # NOTE: one bucket in the first iteration; two after it
    comm.log.clear()
    # NOTE: a hook on the first layer's weight runs when its gradient arrives: the last one of this backward
    model.a.weight.register_hook(lambda g: comm.log.append(("first layer's gradient",)))
    ddp(ember.randn(5, 4)).sum().backward()
    kinds = [entry[0] for entry in comm.log]
    assert kinds.index("all_reduce") < kinds.index("first layer's gradient") < kinds.index("wait")


def test_bucket_assignment_is_torchs():
    rng = np.random.default_rng(1)
    for trial in range(20):
        shapes = [tuple(rng.integers(1, 60, size=rng.integers(1, 3))) for _ in range(rng.integers(1, 9))]
        dtypes = [rng.choice(["float32", "float64"]) for _ in shapes]
        limits = [int(x) for x in rng.choice([64, 400, 1000, 20000], size=rng.integers(1, 3))]
        e_tensors = [ember.zeros(s, dtype=getattr(ember, d)) for s, d in zip(shapes, dtypes)]
        t_tensors = [torch.zeros(s, dtype=getattr(torch, d)) for s, d in zip(shapes, dtypes)]
        expected = torch.distributed._compute_bucket_assignment_by_size(t_tensors, limits, [False] * len(shapes))
        assert bucket_assignment(e_tensors, limits) == tuple(map(list, expected)), (shapes, dtypes, limits)


def test_default_buckets_small_first_bucket_last(comm):
    # NOTE: 1 MiB first bucket (for the first parameters), then 25 MiB; reversed: the small one is reduced last.
    # PyTorch 2.13 uses these sizes from the start only with find_unused_parameters (else: one bucket, rebuilt)
    model = ember.nn.Sequential(ember.nn.Linear(512, 256), ember.nn.Linear(256, 1024), ember.nn.Linear(1024, 4))
    ddp = ddp_mod.DistributedDataParallel(model, find_unused_parameters=True)
    assert [b.params for b in ddp.reducer.buckets] == [[3, 4, 5], [0, 1, 2]]  # 0.5 MiB + 1 MiB closes the first
    ddp = ddp_mod.DistributedDataParallel(model)
    assert [b.params for b in ddp.reducer.buckets] == [[0, 1, 2, 3, 4, 5]]


def test_no_sync_accumulates_locally_then_reduces_the_sum(comm, gloo):
    e_model, t_model = Net.make(ember), Net.make(torch)
    same_weights(e_model, t_model)
    e, t = ddp_mod.DistributedDataParallel(e_model), torch.nn.parallel.DistributedDataParallel(t_model)
    xs = [np.random.default_rng(i).standard_normal((3, 4)).astype(np.float32) for i in range(3)]
    with e.no_sync():
        assert not e.require_backward_grad_sync
        for x in xs[:2]:
            e(ember.tensor(x)).sum().backward()
    assert e.require_backward_grad_sync
    with t.no_sync():
        for x in xs[:2]:
            t(torch.tensor(x)).sum().backward()
    assert comm.reduces() == []
    e(ember.tensor(xs[2])).sum().backward()
    t(torch.tensor(xs[2])).sum().backward()
    assert comm.reduces() == [sum(p.numel() for p in e_model.parameters())]
    assert_grads_equal(e_model, t_model)


def test_backward_outside_a_synced_forward_reduces_nothing(comm):
    model = Net.make(ember)
    ddp = ddp_mod.DistributedDataParallel(model)
    model(ember.randn(2, 4)).sum().backward()  # the module itself, not the wrapper
    with ember.no_grad():
        ddp(ember.randn(2, 4))
    assert comm.reduces() == []
    assert ddp.require_forward_param_sync is False


def unused_error(lib, module):
    model = Net.make(lib, extra=True)
    ddp = module(model)
    ddp(lib.randn(2, 4)).sum().backward()  # self.c takes no part
    with pytest.raises(RuntimeError) as info:
        ddp(lib.randn(2, 4))
    return str(info.value)


def test_unused_parameter_without_find_unused_raises_torchs_error(comm, gloo):
    e_msg = unused_error(ember, ddp_mod.DistributedDataParallel)
    t_msg = unused_error(torch, torch.nn.parallel.DistributedDataParallel)
    # NOTE: PyTorch adds a line on its TORCH_DISTRIBUTED_DEBUG variable, which ember does not have
    assert t_msg.startswith(e_msg)
    assert "did not receive grad for rank 0: 4 5" in e_msg


@pytest.mark.parametrize("zero_grad_to_none", [True, False])
def test_find_unused_parameters_as_torch(comm, gloo, zero_grad_to_none):
    e_model, t_model = Net.make(ember, extra=True), Net.make(torch, extra=True)
    same_weights(e_model, t_model)
    e = ddp_mod.DistributedDataParallel(e_model, find_unused_parameters=True)
    t = torch.nn.parallel.DistributedDataParallel(t_model, find_unused_parameters=True)
    x = np.ones((2, 4), np.float32)
    for use_b in (True, False, True):
        e_model.zero_grad(set_to_none=zero_grad_to_none)
        t_model.zero_grad(set_to_none=zero_grad_to_none)
        e(ember.tensor(x), use_b=use_b).sum().backward()
        t(torch.tensor(x), use_b=use_b).sum().backward()
        assert_grads_equal(e_model, t_model)
        # the next forward does not complain: every bucket was reduced
    e(ember.tensor(x))
    assert len(comm.reduces()) == 3 * len(e.reducer.buckets)


def test_buffers_broadcast_before_each_synced_forward(comm):
    model = Net.make(ember)
    ddp = ddp_mod.DistributedDataParallel(model)
    comm.log.clear()
    ddp(ember.randn(2, 4)).sum().backward()
    assert comm.log[0] == ("broadcast", 1)  # the one buffer, before the forward's reductions
    comm.log.clear()
    with ember.no_grad():
        ddp(ember.randn(2, 4))  # the forward before it was synced: buffers go out
        ddp(ember.randn(2, 4))  # this one follows an unsynced forward: they do not
    assert comm.log == [("broadcast", 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        quiet = ddp_mod.DistributedDataParallel(model, broadcast_buffers=False)
    comm.log.clear()
    quiet(ember.randn(2, 4))
    assert [e for e in comm.log if e[0] == "broadcast"] == []


def warnings_of(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    return [(w.category, str(w.message)) for w in caught if w.category is FutureWarning]


@pytest.mark.parametrize("kw", [dict(broadcast_buffers=False), dict(broadcast_buffers=True, forward_sync_buffers=True),
                                dict(check_reduction=True), {}])
def test_deprecation_warnings_as_torchs(comm, gloo, kw):
    e = warnings_of(lambda: ddp_mod.DistributedDataParallel(Net.make(ember), **kw))
    t = warnings_of(lambda: torch.nn.parallel.DistributedDataParallel(Net.make(torch), **kw))
    assert e == t


def errors(lib, module, make, **kw):
    with pytest.raises(Exception) as info:
        module(make(lib), **kw)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("case", ["no_trainable", "device_ids_on_cpu", "two_device_ids"])
def test_construction_errors_as_torchs(comm, gloo, case):
    make = {"no_trainable": lambda lib: lib.nn.Linear(2, 2).requires_grad_(False)}.get(
        case, lambda lib: lib.nn.Linear(2, 2))
    kw = {"no_trainable": {}, "device_ids_on_cpu": dict(device_ids=[0]), "two_device_ids": dict(device_ids=[0, 1])}
    e = errors(ember, ddp_mod.DistributedDataParallel, make, **kw[case])
    t = errors(torch, torch.nn.parallel.DistributedDataParallel, make, **kw[case])
    assert e == t


def test_hooks_go_with_the_wrapper(comm):
    model = Net.make(ember)
    ddp = ddp_mod.DistributedDataParallel(model)
    del ddp
    import gc
    gc.collect()
    comm.log.clear()
    model(ember.randn(2, 4)).sum().backward()
    assert comm.log == []
    assert all(p._accum is None or not p._accum._post_accumulate_hooks for p in model.parameters())


def test_sparse_gradients_are_refused(comm):
    with pytest.raises(NotImplementedError, match="sparse gradients"):
        ddp_mod.DistributedDataParallel(ember.nn.Embedding(5, 2, sparse=True))
