"""DDP communication hooks, GradBucket, gradient_as_bucket_view, static_graph and torch.futures.

In this process: one ember rank and one torch gloo rank side by side (what each hook is handed, in which
buckets, before and after the rebuild; .grad aliasing; the errors). Then two launched ranks (this file is also
the launched script): the built-in hooks' averaged gradients against a NumPy emulation of their arithmetic."""
import os
import sys
import tempfile
import warnings

import numpy as np

try:
    from .launch import needs_mpi
except ImportError:  # NOTE: launched by mpiexec as a script, not as part of the tests package
    needs_mpi = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _net(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))


def _same_weights(e_module, t_module):
    import torch
    for e, t in zip(e_module.parameters(), t_module.parameters()):
        with torch.no_grad():
            t.copy_(torch.tensor(e.detach().numpy()))


# --- the launched side --------------------------------------------------------------------------------------
def _local_grads(torch, x):
    """This rank's own gradients of the net (no DDP), float32 NumPy arrays."""
    net = _net(torch)
    net(torch.tensor(x)).square().sum().backward()
    return [p.grad.numpy().copy() for p in net.parameters()]


def scenario_builtin_hooks(torch, dist, rank, world):
    """allreduce_hook, fp16/bf16_compress_hook and a custom hook: each rank's .grad as NumPy emulates them."""
    import ml_dtypes
    from ember.distributed.algorithms.ddp_comm_hooks import DDPCommHookType, default_hooks, register_ddp_comm_hook
    from ember.nn.parallel import DistributedDataParallel as DDP
    xs = [np.random.default_rng(10 + r).standard_normal((5, 3)).astype(np.float32) for r in range(world)]
    locals_ = [_local_grads(torch, x) for x in xs]

    def emulate(low):
        out = []
        for i in range(len(locals_[0])):
            shares = [(g[i].astype(low) / low(world)).astype(low) for g in locals_]
            total = np.sum([s.astype(np.float32) for s in shares], axis=0).astype(low)  # NOTE: summed once
            out.append(total.astype(np.float32))
        return out

    def custom(state, bucket):  # the sum, not the mean: the hook decides
        state.append(bucket.index())
        work = dist.all_reduce(bucket.buffer(), async_op=True)
        return work.get_future().then(lambda fut: fut.value()[0])

    calls = []
    cases = [("allreduce", default_hooks.allreduce_hook, None, None),
             ("fp16", default_hooks.fp16_compress_hook, None, np.float16),
             ("bf16", default_hooks.bf16_compress_hook, dist.group.WORLD, ml_dtypes.bfloat16),
             ("fp16 wrapper", default_hooks.fp16_compress_wrapper(default_hooks.allreduce_hook), None, np.float16),
             ("custom", custom, calls, "sum"),
             ("enum", DDPCommHookType.FP16_COMPRESS, None, np.float16)]
    for name, hook, state, low in cases:
        model = DDP(_net(torch), bucket_cap_mb=0.00005)
        if name == "enum":
            register_ddp_comm_hook(hook, model, state)
        else:
            model.register_comm_hook(state, hook)
        for _ in range(2):  # NOTE: the second backward runs on the rebuilt buckets
            model.zero_grad()
            model(torch.tensor(xs[rank])).square().sum().backward()
        got = [p.grad.numpy() for p in model.module.parameters()]
        if low is None:
            expected = [np.mean([g[i] for g in locals_], axis=0) for i in range(len(got))]
        elif low == "sum":
            expected = [np.sum([g[i] for g in locals_], axis=0) for i in range(len(got))]
        else:
            expected = emulate(low)
        for i, (a, b) in enumerate(zip(got, expected)):
            np.testing.assert_allclose(a, b, rtol=1e-6 if low in (None, "sum") else 0, atol=1e-6 if low in
                                       (None, "sum") else 0, err_msg=f"{name}: parameter {i}")
    assert calls == [0, 0, 1], calls  # one bucket in the first iteration, two after the rebuild


def scenario_gradient_as_bucket_view_across_ranks(torch, dist, rank, world):
    """gradient_as_bucket_view=True with the default reduction: the averaged .grad, a view into the bucket."""
    from ember.nn.parallel import DistributedDataParallel as DDP
    xs = [np.random.default_rng(20 + r).standard_normal((4, 3)).astype(np.float32) for r in range(world)]
    locals_ = [_local_grads(torch, x) for x in xs]
    model = DDP(_net(torch), gradient_as_bucket_view=True)
    for _ in range(2):
        model.zero_grad(set_to_none=True)
        model(torch.tensor(xs[rank])).square().sum().backward()
        for i, p in enumerate(model.module.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), np.mean([g[i] for g in locals_], axis=0), rtol=1e-6,
                                       atol=1e-6)
    storages = {p.grad.untyped_storage().data_ptr() for p in model.module.parameters()}
    assert len(storages) == len(model.reducer.buckets), storages


GROUPS = {2: ["builtin_hooks", "gradient_as_bucket_view_across_ranks"],
          3: ["builtin_hooks"]}


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
import pytest  # noqa: E402

import ember  # noqa: E402
import torch  # noqa: E402

pytestmark = needs_mpi


@pytest.fixture(scope="module")
def groups():
    """One ember rank and one torch gloo rank in this process."""
    import ember.distributed as edist
    import torch.distributed as tdist
    with tempfile.TemporaryDirectory() as folder:
        tdist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=0, world_size=1)
        edist.init_process_group("gloo", init_method=f"file://{folder}/ember", rank=0, world_size=1)
        yield
        edist.destroy_process_group()
        tdist.destroy_process_group()


def _both(**kwargs):
    e_model, t_model = _net(ember), _net(torch)
    _same_weights(e_model, t_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = ember.nn.parallel.DistributedDataParallel(e_model, **kwargs)
        t = torch.nn.parallel.DistributedDataParallel(t_model, **kwargs)
    return e, t


def _recording(lib, seen, inner):
    def hook(state, bucket):
        seen.append((bucket.index(), bucket.is_last(), [tuple(p.shape) for p in bucket.parameters()],
                     [tuple(g.shape) for g in bucket.gradients()], tuple(bucket.buffer().shape),
                     str(bucket.buffer().dtype).split(".")[-1]))
        return inner(state, bucket)
    return hook


@pytest.mark.parametrize("as_view", [False, True])
@pytest.mark.parametrize("hook_name", ["allreduce_hook", "fp16_compress_hook", "noop_hook"])
def test_hook_sees_torchs_buckets_and_gives_torchs_grads(groups, as_view, hook_name):
    from ember.distributed.algorithms.ddp_comm_hooks import debugging_hooks as e_dbg, default_hooks as e_hooks
    from torch.distributed.algorithms.ddp_comm_hooks import debugging_hooks as t_dbg, default_hooks as t_hooks
    e, t = _both(bucket_cap_mb=0.00005, gradient_as_bucket_view=as_view)  # 52 bytes: several buckets
    e_seen, t_seen = [], []
    lookup = (e_dbg, t_dbg) if hook_name == "noop_hook" else (e_hooks, t_hooks)
    e.register_comm_hook(None, _recording(ember, e_seen, getattr(lookup[0], hook_name)))
    t.register_comm_hook(None, _recording(torch, t_seen, getattr(lookup[1], hook_name)))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for step in range(3):
        e_seen.clear()
        t_seen.clear()
        e.zero_grad(set_to_none=step == 1)
        t.zero_grad(set_to_none=step == 1)
        e(ember.tensor(x)).square().sum().backward()
        t(torch.tensor(x)).square().sum().backward()
        assert e_seen == t_seen, step
        for a, b in zip(e.module.parameters(), t.module.parameters()):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)
    assert len(e_seen) == 2  # rebuilt into two buckets after the first iteration


def _aliasing(module):
    """For each parameter's .grad: (which storage, by first appearance; byte offset into it)."""
    storages, out = [], []
    for p in module.parameters():
        ptr = p.grad.untyped_storage().data_ptr()
        if ptr not in storages:
            storages.append(ptr)
        out.append((storages.index(ptr), p.grad.data_ptr() - ptr))
    return out


def test_gradient_as_bucket_view_aliases_as_torchs(groups):
    e, t = _both(bucket_cap_mb=0.00005, gradient_as_bucket_view=True)
    x = np.ones((2, 3), np.float32)
    for step in range(3):
        if step == 2:  # a fresh .grad is moved into its bucket again
            e.module[0].weight.grad = None
            t.module[0].weight.grad = None
        e(ember.tensor(x)).sum().backward()
        t(torch.tensor(x)).sum().backward()
        assert _aliasing(e.module) == _aliasing(t.module), step
    # the grads are the buckets: what the optimizer's in-place update of .grad writes is in the bucket
    before = [p.grad.clone() for p in e.module.parameters()]
    for p in e.module.parameters():
        p.grad.mul_(2)
    flat = ember.cat([b.flat for b in e.reducer.buckets])
    assert sorted(flat.tolist()) == sorted(ember.cat([2 * g.reshape(-1) for g in before]).tolist())


def test_without_bucket_view_grads_are_their_own(groups):
    e, t = _both(bucket_cap_mb=0.00005)
    e(ember.ones(2, 3)).sum().backward()
    t(torch.ones(2, 3)).sum().backward()
    assert _aliasing(e.module) == _aliasing(t.module)


def test_register_comm_hook_errors_as_torchs(groups):
    from ember.distributed.algorithms.ddp_comm_hooks import default_hooks as e_hooks
    from torch.distributed.algorithms.ddp_comm_hooks import default_hooks as t_hooks
    e, t = _both()

    def bad_bucket(state, bucket: int):
        return None

    def bad_return_e(state, bucket) -> int:
        return None

    for hook, error in ((3, TypeError), (bad_bucket, ValueError), (bad_return_e, ValueError)):
        with pytest.raises(error) as e_info:
            e.register_comm_hook(None, hook)
        with pytest.raises(error) as t_info:
            t.register_comm_hook(None, hook)
        assert str(e_info.value) == str(t_info.value)

    def annotated(state, bucket: ember.distributed.GradBucket) -> ember.futures.Future[ember.Tensor]:
        return e_hooks.allreduce_hook(state, bucket)
    e.register_comm_hook(None, annotated)
    t.register_comm_hook(None, t_hooks.allreduce_hook)
    with pytest.raises(RuntimeError) as e_info:
        e.register_comm_hook(None, annotated)
    with pytest.raises(RuntimeError) as t_info:
        t.register_comm_hook(None, t_hooks.allreduce_hook)
    assert str(e_info.value) == str(t_info.value)


@pytest.mark.parametrize("kind", ["ALLREDUCE", "FP16_COMPRESS"])
def test_builtin_comm_hook_as_torchs(groups, kind):
    e, t = _both(bucket_cap_mb=0.00005)
    e._register_builtin_comm_hook(getattr(ember.distributed.BuiltinCommHookType, kind))
    t._register_builtin_comm_hook(getattr(torch.distributed.BuiltinCommHookType, kind))
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    for _ in range(2):
        e(ember.tensor(x)).square().sum().backward()
        t(torch.tensor(x)).square().sum().backward()
        for a, b in zip(e.module.parameters(), t.module.parameters()):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)
    with pytest.raises(RuntimeError, match="can only be called once"):
        e._register_builtin_comm_hook(ember.distributed.BuiltinCommHookType.ALLREDUCE)


def test_hook_returning_no_future_raises(groups):
    e, _ = _both()
    e.register_comm_hook(None, lambda state, bucket: 5)
    with pytest.raises(RuntimeError) as info:
        e(ember.ones(2, 3)).sum().backward()
    # NOTE: PyTorch's message starts with pybind11's cast error, then says this
    assert str(info.value) == ("DDP communication hook's callback must return a torch.futures.Future object, but "
                               "got builtins.int")


def test_hook_future_of_a_list_raises_as_torchs(groups):
    e, t = _both()
    for ddp, lib in ((e, ember), (t, torch)):
        def hook(state, bucket, lib=lib):
            fut = lib.futures.Future()
            fut.set_result([bucket.buffer()])
            return fut
        ddp.register_comm_hook(None, hook)
        with pytest.raises(RuntimeError, match="to Tensor"):
            ddp(lib.ones(2, 3)).sum().backward()


def test_static_graph_as_torchs(groups):
    e, t = _both(static_graph=True)
    assert e.static_graph is t.static_graph is True
    for ddp in (e, t):
        with pytest.warns(UserWarning, match="You've set static_graph to be True, no need to set it again."):
            ddp._set_static_graph()
    x = np.ones((2, 3), np.float32)
    for _ in range(3):
        e(ember.tensor(x)).sum().backward()
        t(torch.tensor(x)).sum().backward()
    for a, b in zip(e.module.parameters(), t.module.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


def _branchy(lib):
    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(3, 4)
            self.b = lib.nn.Linear(4, 2)
            self.c = lib.nn.Linear(4, 2)

        def forward(self, x, use_c=False):
            return (self.c if use_c else self.b)(lib.tanh(self.a(x)))
    lib.manual_seed(0)
    model = M()
    if lib is torch:
        _same_weights(_branchy(ember), model)
    return model


def _sequence(lib, kwargs, plan):
    """Each step of `plan` (use_c, under no_sync, zero_grad: None/'none'/'zero'): the grads, or the error."""
    model = _branchy(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ddp = lib.nn.parallel.DistributedDataParallel(model, **kwargs)
    x = lib.ones(2, 3)
    out = []
    for use_c, quiet, zero in plan:
        if zero is not None:
            model.zero_grad(set_to_none=zero == "none")
        try:
            if quiet:
                with ddp.no_sync():
                    ddp(x, use_c).sum().backward()
            else:
                ddp(x, use_c).sum().backward()
        except RuntimeError as error:
            # NOTE: PyTorch adds a line on TORCH_DISTRIBUTED_DEBUG, which ember does not have
            out.append(str(error).split("\n In addition")[0])
            continue
        out.append([None if p.grad is None else np.round(p.grad.numpy(), 5).tolist() for p in model.parameters()])
    return out


SEQUENCES = {
    "static graph, c never used": ({"static_graph": True}, [(False, 0, "none")] * 2 + [(True, 0, "none")]
                                   + [(False, 0, None)]),
    "static graph, c used then not": ({"static_graph": True}, [(True, 0, "none")] * 2 + [(False, 0, "none")]
                                      + [(True, 0, "none")] * 2),
    "static graph and bucket views": ({"static_graph": True, "gradient_as_bucket_view": True},
                                      [(False, 0, "none"), (False, 0, "zero"), (True, 0, "zero")]),
    "unused without find_unused, then no_sync": ({"gradient_as_bucket_view": True},
                                                 [(False, 1, "none"), (False, 0, None), (False, 0, "zero"),
                                                  (False, 1, None), (False, 0, None)]),
    "find_unused with bucket views": ({"gradient_as_bucket_view": True, "find_unused_parameters": True},
                                      [(False, 0, "none"), (True, 0, "none"), (False, 0, "zero")]),
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_unused_parameters_and_static_graph_as_torchs(groups, name):
    kwargs, plan = SEQUENCES[name]
    assert _sequence(ember, kwargs, plan) == _sequence(torch, kwargs, plan)


def test_gradbucket_and_futures_names():
    assert ember.distributed.GradBucket.__name__ == "GradBucket"
    for name in ("index", "buffer", "gradients", "parameters", "is_last", "set_buffer"):
        assert hasattr(ember.distributed.GradBucket, name) and hasattr(torch.distributed.GradBucket, name)
    assert sorted(ember.futures.__all__) == sorted(torch.futures.__all__)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_futures_behave_as_torchs(lib):
    Future = lib.futures.Future
    fut = Future()
    doubled = fut.then(lambda f: f.value() * 2)
    seen = []
    fut.add_done_callback(lambda f: seen.append(f.value()))
    assert not fut.done() and not doubled.done()
    fut.set_result(5)
    assert fut.done() and doubled.done() and doubled.wait() == 10 and fut.value() == 5 and seen == [5]
    with pytest.raises(RuntimeError, match="Future can only be marked completed once"):
        fut.set_result(6)

    def boom(f):
        raise KeyError("k")
    with pytest.raises(RuntimeError, match="Got the following error when running the callback: KeyError"):
        fut.then(boom).wait()
    failed = Future()
    failed.set_exception(ValueError("broken"))
    with pytest.raises(ValueError, match="broken"):
        failed.wait()
    with pytest.raises(ValueError, match="broken"):
        lib.futures.wait_all([fut, failed])
    pending = Future()
    both = lib.futures.collect_all([fut, pending])
    assert not both.done()
    pending.set_result("x")
    assert [f.value() for f in both.wait()] == [5, "x"]
    assert lib.futures.wait_all([fut, pending]) == [5, "x"]


def test_work_get_future_completes_with_the_result(groups):
    import ember.distributed as dist
    t = ember.ones(3)
    fut = dist.all_reduce(t, async_op=True).get_future()
    chained = fut.then(lambda f: f.value()[0] * 3)
    assert chained.wait().tolist() == [3.0, 3.0, 3.0]
    assert fut.done() and fut.value()[0] is t


def test_hooks_join_and_bucket_views_on_the_nccl_standin():
    """CUDA tensors over the NCCL engine, one rank on the CuPy stand-in (multi-rank NCCL needs several GPUs)."""
    import subprocess
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "tests", "_standin"), ROOT]))
    for key in ("EMBER_TEST_DEVICE", "RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(key, None)
    out = subprocess.run([sys.executable, os.path.join(HERE, "workers", "ddp_nccl_standin.py")],
                         capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert out.returncode == 0 and "ddp nccl stand-in OK" in out.stdout, out.stdout + out.stderr


def _check_group(n):
    from .launch import run_ranks
    names = GROUPS[n]
    done = run_ranks(os.path.abspath(__file__), n, *names, timeout=240, env={"OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout
    for rank in range(n):
        for name in names:
            assert f"rank {rank}: {name} ok" in done.stdout, done.stdout


def test_hooks_two_processes():
    _check_group(2)


def test_hooks_three_processes():
    _check_group(3)
