"""Selective activation checkpointing (create_selective_checkpoint_contexts, CheckpointPolicy) against PyTorch:
the ops the policy sees, which ops backward reruns, gradients; and the device-state helpers."""
import collections
import contextlib
import functools

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import ember
from ember import _state

_VIEWS = ("aten.detach", "aten.t.", "aten.view", "aten.expand", "aten._unsafe_view", "aten.transpose")


class _TorchCounter(TorchDispatchMode):
    """Counts the aten ops that run (under the SAC mode, so the ops it hands back from its cache are not seen)."""

    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.counts[str(func)] += 1
        return func(*args, **(kwargs or {}))


class _EmberCounter:
    """The same for ember: an interceptor of primitive calls (the op log's hook), counting each call as it starts."""

    def __init__(self):
        self.counts = collections.Counter()
        self.prev = None

    def __enter__(self):
        self.prev, _state.op_log = _state.op_log, self

    def __exit__(self, *exc):
        _state.op_log = self.prev

    def run_op(self, cls, args, apply):
        from ember._op_overloads import op_for_call
        self.counts[str(op_for_call(cls, args))] += 1
        _state.op_log = None
        try:
            return apply(cls, args)
        finally:
            _state.op_log = self


def _run(lib, fn, policy, arrays, early_stop=True, backward_twice=False):
    cp = lib.utils.checkpoint
    calls = []
    counter = _TorchCounter() if lib is torch else _EmberCounter()

    def policy_fn(ctx, op, *args, **kwargs):
        calls.append((str(op), ctx.is_recompute))
        return policy(lib, op)

    def context_fn():
        fwd, rec = cp.create_selective_checkpoint_contexts(policy_fn)
        stack = contextlib.ExitStack()

        class Recompute:  # NOTE: the counter outside the recompute context: it sees only the ops really rerun
            def __enter__(self):
                stack.enter_context(counter)
                stack.enter_context(rec)

            def __exit__(self, *exc):
                stack.close()
        return fwd, Recompute()

    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = cp.checkpoint(fn(lib), *xs, use_reentrant=False, context_fn=context_fn, early_stop=early_stop)
    out.sum().backward(retain_graph=backward_twice)
    second = None
    if backward_twice:
        try:
            out.sum().backward()
        except RuntimeError as e:
            second = str(e)
    reran = {k: v for k, v in counter.counts.items() if not k.startswith(_VIEWS)}
    return ([x.grad.numpy() for x in xs], sorted(collections.Counter(calls).items()), sorted(reran.items()), second)


def _mlp(lib):
    def fn(x, w):
        return lib.sigmoid((x @ w).sin() @ w) * w
    return fn


def _block(lib):
    def fn(x, w):
        h = lib.nn.functional.relu(x @ w)
        return (h.exp() * 2 + h.sum(0)).tanh()
    return fn


def _linear(lib):
    def fn(x, w):
        b = w[0]
        y = lib.nn.functional.linear(x, w, b).relu()
        return lib.nn.functional.linear(y, w).softmax(-1) * x.mean()
    return fn


def _save(*names):
    def policy(lib, op):
        cp = lib.utils.checkpoint
        wanted = [getattr(getattr(lib.ops.aten, n.split(".")[0]), n.split(".")[1]) for n in names]
        return cp.CheckpointPolicy.MUST_SAVE if op in wanted else cp.CheckpointPolicy.PREFER_RECOMPUTE
    return policy


POLICIES = {
    "mm": _save("mm.default"),
    "none": _save(),
    "sin_sigmoid": _save("sin.default", "sigmoid.default"),
    "relu_exp": _save("relu.default", "exp.default"),
    "addmm": _save("addmm.default"),
    "prefer_save_all": lambda lib, op: lib.utils.checkpoint.CheckpointPolicy.PREFER_SAVE,
    "bool": lambda lib, op: op == lib.ops.aten.mm.default,
    "offload_mm": lambda lib, op: (lib.utils.checkpoint.CheckpointPolicy.MUST_CPU_OFFLOAD
                                   if op == lib.ops.aten.mm.default else
                                   lib.utils.checkpoint.CheckpointPolicy.MUST_RECOMPUTE),
}


def _arrays(seed=0, n=4):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, n)), rng.standard_normal((n, n))]


@pytest.mark.parametrize("early_stop", [True, False])
@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("fn", [_mlp, _block, _linear])
def test_selective_checkpoint_matches_torch(fn, policy, early_stop):
    arrays = _arrays()
    t = _run(torch, fn, POLICIES[policy], arrays, early_stop)
    e = _run(ember, fn, POLICIES[policy], arrays, early_stop)
    for gt, ge in zip(t[0], e[0]):
        np.testing.assert_allclose(ge, gt, rtol=1e-10, atol=1e-12)
    assert e[1] == t[1]  # the ops the policy was asked about, and when
    if not early_stop:
        assert e[2] == t[2]  # the ops backward ran again
    else:
        # NOTE: PyTorch's ops save their inputs before their kernel runs, ember's after: with early_stop, the op
        # whose saves complete the recomputation runs in ember and not in PyTorch. At most that one op differs.
        te, ee = collections.Counter(dict(t[2])), collections.Counter(dict(e[2]))
        assert not (te - ee) and sum((ee - te).values()) <= 1, (t[2], e[2])


def test_op_list_form_and_gradients_against_plain_checkpoint():
    arrays = _arrays(1)
    outs = []
    for lib in (torch, ember):
        cp = lib.utils.checkpoint
        ctx = functools.partial(cp.create_selective_checkpoint_contexts, [lib.ops.aten.mm.default])
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        cp.checkpoint(_mlp(lib), *xs, use_reentrant=False, context_fn=ctx).sum().backward()
        outs.append([x.grad.numpy() for x in xs])
    for gt, ge in zip(*outs):
        np.testing.assert_allclose(ge, gt, rtol=1e-10)


def test_backward_twice_raises_as_torch():
    arrays = _arrays(2)
    t = _run(torch, _mlp, POLICIES["mm"], arrays, backward_twice=True)
    e = _run(ember, _mlp, POLICIES["mm"], arrays, backward_twice=True)
    assert t[3] is not None and e[3] == t[3]


def test_mutated_cache_entry():
    msgs = []
    for lib in (torch, ember):
        cp = lib.utils.checkpoint

        def fn(x, w):
            y = x @ w
            z = y.sin()
            y.mul_(2)  # NOTE: the cached mm output is written after it was kept
            return z * y

        ctx = functools.partial(cp.create_selective_checkpoint_contexts, [lib.ops.aten.mm.default])
        xs = [lib.tensor(a, requires_grad=True) for a in _arrays(3)]
        out = cp.checkpoint(fn, *xs, use_reentrant=False, context_fn=ctx)
        with pytest.raises(RuntimeError) as info:
            out.sum().backward()
        msgs.append(str(info.value))
    assert msgs[1] == msgs[0]


@pytest.mark.parametrize("bad", ["packet", "string", "number"])
def test_bad_policy_arguments(bad):
    errors = []
    for lib in (torch, ember):
        arg = {"packet": [lib.ops.aten.mm], "string": ["aten.mm.default"], "number": 3}[bad]
        with pytest.raises((ValueError, TypeError)) as info:
            lib.utils.checkpoint.create_selective_checkpoint_contexts(arg)
        errors.append(info.value)
    assert type(errors[1]) is type(errors[0])
    if bad != "string":
        assert str(errors[1]).split(" of type")[0].replace("ember", "torch") == \
            str(errors[0]).split(" of type")[0] or bad == "packet"


def test_policy_enum_and_context():
    for name in ("MUST_SAVE", "PREFER_SAVE", "MUST_RECOMPUTE", "PREFER_RECOMPUTE", "MUST_CPU_OFFLOAD",
                 "PREFER_CPU_OFFLOAD"):
        assert getattr(ember.utils.checkpoint.CheckpointPolicy, name).value == \
            getattr(torch.utils.checkpoint.CheckpointPolicy, name).value
    ctx = ember.utils.checkpoint.SelectiveCheckpointContext(is_recompute=False, op_output=3)
    assert ctx.is_recompute is False and ctx.op_output == 3


def test_ops_namespace():
    a = ember.ops.aten
    assert a.mm.default is a.mm.default and a.mm.default != a.mm.out
    for lib in (torch, ember):
        op = lib.ops.aten.mm.default
        assert (str(op), repr(op), op.name(), str(op.overloadpacket), repr(op.overloadpacket)) == \
            ("aten.mm.default", "<OpOverload(op='aten.mm', overload='default')>", "aten::mm", "aten.mm",
             "<OpOverloadPacket(op='aten.mm')>")
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(ember.ops.aten.mm.default(x, x).numpy(), (x @ x).numpy())
    np.testing.assert_allclose(ember.ops.aten.sin(x).numpy(), x.sin().numpy())


def test_device_states_on_cpu():
    for lib in (torch, ember):
        cp = lib.utils.checkpoint
        assert cp.get_device_states(lib.ones(2, device="cpu"), [lib.zeros(1, device="cpu")], 3) == ([], [])
        cp.set_device_states([], [])
        prev = cp.DefaultDeviceType.get_device_type()
        cp.DefaultDeviceType.set_device_type("cuda")
        assert cp.DefaultDeviceType.get_device_type() == "cuda"
        cp.DefaultDeviceType.set_device_type(prev)


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a CUDA device (or the stand-in)")
def test_device_states_on_cuda():
    cp = ember.utils.checkpoint
    x = ember.ones(2, device="cuda")
    ids, states = cp.get_device_states(x, ember.ones(1, device="cpu"))
    assert ids == [x.get_device()] and len(states) == 1
    cp.set_device_states(ids, states, device_type="cuda")


@pytest.mark.parametrize("save", [[], ["addmm.default"], ["addmm.default", "gelu.default", "_softmax.default"]])
def test_module_with_dropout_matches_unchecked(save):
    """A block of layers with dropout: the selective checkpoint gives the gradients of the plain run (same seed)."""
    cp = ember.utils.checkpoint
    nn = ember.nn
    ember.manual_seed(0)
    block = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.Dropout(0.3), nn.Linear(8, 6), nn.Softmax(-1)).double()
    x = ember.tensor(np.random.default_rng(5).standard_normal((3, 6)), requires_grad=True)
    ops = [getattr(getattr(ember.ops.aten, n.split(".")[0]), n.split(".")[1]) for n in save]

    def grads(run):
        block.zero_grad()
        x.grad = None
        ember.manual_seed(7)
        (run(x) * ember.arange(6.0, dtype=ember.float64)).sum().backward()
        return [x.grad.clone()] + [p.grad.clone() for p in block.parameters()]

    plain = grads(block)
    ctx = functools.partial(cp.create_selective_checkpoint_contexts, ops)
    sac = grads(lambda t: cp.checkpoint(block, t, use_reentrant=False, context_fn=ctx))
    for a, b in zip(plain, sac):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12, atol=1e-14)


def test_selective_checkpoint_gradcheck():
    # NOTE: PyTorch's gradcheck backpropagates several times through one output, which its SAC refuses ("backward
    # an extra time"); ember's gradcheck runs f afresh for each backward, so it can check the gradients here.
    cp = ember.utils.checkpoint
    w = ember.tensor(np.random.default_rng(6).standard_normal((3, 3)), requires_grad=True)
    ctx = functools.partial(cp.create_selective_checkpoint_contexts, [ember.ops.aten.mm.default])

    def f(x, w):
        return cp.checkpoint(lambda a, b: ((a @ b).tanh() @ b).exp(), x, w, use_reentrant=False, context_fn=ctx)
    x = ember.tensor(np.random.default_rng(7).standard_normal((2, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(f, (x, w))
