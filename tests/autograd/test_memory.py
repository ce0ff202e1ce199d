"""A dropped graph is freed by reference counting alone, as in PyTorch: saved outputs do not keep
their node alive (no tensor <-> grad_fn cycle), so loops without no_grad() keep flat memory even
while the cyclic garbage collector is off."""
import gc
import weakref

import pytest

import ember


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _SaveOutput(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


OPS = {
    "exp": lambda x: x.exp(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "sqrt": lambda x: x.abs().sqrt(),
    "rsqrt": lambda x: (x.abs() + 1).rsqrt(),
    "reciprocal": lambda x: (x.abs() + 1).reciprocal(),
    "softmax": lambda x: x.softmax(-1),
    "log_softmax": lambda x: x.log_softmax(-1),
    "pow": lambda x: (x.abs() + 1) ** x,
    "rpow": lambda x: 2 ** x,
    "max": lambda x: x.max(),
    "amax": lambda x: x.amax(0),
    "std": lambda x: x.std(),
    "norm": lambda x: x.norm(),
    "logsumexp": lambda x: x.logsumexp(0),
    "cumprod": lambda x: x.cumprod(0),
    "relu_": lambda x: (x * 1).relu_(),
    "sigmoid_": lambda x: (x * 1).sigmoid_(),
    "custom_function": lambda x: _SaveOutput.apply(x),
    "mlp": lambda x: ember.nn.functional.linear(x, x).tanh().sum(),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_dropped_graph_is_freed_without_gc(name, no_gc):
    x = ember.randn(4, 4, requires_grad=True)
    y = OPS[name](x)
    out, data = weakref.ref(y), weakref.ref(y._data)
    node = weakref.ref(y.grad_fn)
    del y
    assert out() is None and data() is None and node() is None


def test_saved_output_still_checked_and_differentiable_twice(no_gc):
    x = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
    y = x.exp()
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    assert gg.tolist() == y.tolist()
    y = x.tanh()
    y.add_(1)
    with pytest.raises(RuntimeError, match="output 0 of Tanh, is at version 1; expected version 0"):
        y.sum().backward()


def _mlp_loop(steps, train):
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(8, 32), ember.nn.Tanh(), ember.nn.Linear(32, 1), ember.nn.Sigmoid())
    opt = ember.optim.SGD(model.parameters(), lr=0.01)
    x, t = ember.randn(16, 8), ember.rand(16, 1)
    for _ in range(steps):
        loss = ember.nn.functional.binary_cross_entropy(model(x), t)
        if train:
            opt.zero_grad()
            loss.backward()
            opt.step()


def _live_tensors():
    return sum(1 for o in gc.get_objects() if type(o) is ember.Tensor)


@pytest.mark.parametrize("train", [False, True], ids=["eval_without_no_grad", "train"])
def test_loop_memory_is_flat_without_gc(train, no_gc):
    steps = 5000 if not train else 1000
    _mlp_loop(20, train)
    before = _live_tensors()
    _mlp_loop(steps, train)
    # NOTE: a graph leaked per step would leave its activations alive: thousands of Tensors here.
    assert _live_tensors() - before < 50


# --- Ctrl-C during backward ------------------------------------------------------------------------------
def test_keyboard_interrupt_lands_after_the_whole_backward():
    """SIGINT arriving mid-walk is delivered once backward has finished: every leaf has its gradient."""
    import os
    import signal
    leaves = [ember.randn(3, requires_grad=True) for _ in range(6)]
    ys = [leaf * (i + 1.0) for i, leaf in enumerate(leaves)]

    def interrupt(g):
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))  # NOTE: Python runs pending handlers between bytecodes: give it many
        return g

    ys[2].register_hook(interrupt)
    total = sum(y.sum() for y in ys)
    with pytest.raises(KeyboardInterrupt):
        total.backward()
    assert all(leaf.grad is not None for leaf in leaves)
    assert [leaf.grad.tolist() for leaf in leaves] == [[i + 1.0] * 3 for i in range(6)]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_keyboard_interrupt_deferral_calls_the_users_handler():
    import os
    import signal
    seen = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        x = ember.randn(3, requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: os.kill(os.getpid(), signal.SIGINT) or None)
        y.sum().backward()
        assert seen == [signal.SIGINT] and x.grad is not None
    finally:
        signal.signal(signal.SIGINT, old)


# --- out of memory -----------------------------------------------------------------------------------
HUGE = {
    "empty": lambda t: t.empty(2 ** 45),
    "zeros": lambda t: t.zeros(2 ** 45),
    "ones": lambda t: t.ones(2 ** 45),
    "op_result": lambda t: t.ones(2 ** 20).expand(2 ** 25, 2 ** 20) * 2,
    "contiguous": lambda t: t.ones(2 ** 20).expand(2 ** 25, 2 ** 20).contiguous(),
}
# NOTE: ember's samplers draw on the host in their own width first, so only the type is PyTorch's
HUGE_RANDOM = {
    "rand": lambda t: t.rand(2 ** 45), "randn": lambda t: t.randn(2 ** 45),
    "randint": lambda t: t.randint(0, 5, (2 ** 45,)), "randperm": lambda t: t.randperm(2 ** 45),
    "normal": lambda t: t.normal(0.0, 1.0, (2 ** 45,)),
}


@pytest.mark.parametrize("name", sorted(HUGE_RANDOM))
def test_out_of_memory_in_random_sampling_is_a_runtime_error(name):
    import torch
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        HUGE_RANDOM[name](torch)
    with pytest.raises(RuntimeError, match="can't allocate memory") as got:
        HUGE_RANDOM[name](ember)
    assert type(got.value) is RuntimeError


@pytest.mark.parametrize("name", sorted(HUGE))
def test_out_of_memory_is_torchs_runtime_error(name):
    """NumPy's MemoryError becomes PyTorch's CPU allocator RuntimeError, message and all."""
    import torch
    with pytest.raises(RuntimeError) as expected:
        HUGE[name](torch)
    with pytest.raises(RuntimeError) as got:
        HUGE[name](ember)
    assert type(got.value) is RuntimeError and not isinstance(got.value, MemoryError)
    assert str(got.value) == str(expected.value)


def test_out_of_memory_error_classes_match_torch():
    import torch
    from ember.autograd.function import out_of_memory
    assert ember.cuda.OutOfMemoryError is ember.OutOfMemoryError
    assert issubclass(ember.OutOfMemoryError, RuntimeError)
    assert torch.cuda.OutOfMemoryError is torch.OutOfMemoryError and issubclass(torch.OutOfMemoryError, RuntimeError)
    err = out_of_memory(MemoryError("out of memory allocating 1,024 bytes"), ember.device("cuda"))
    assert type(err) is ember.OutOfMemoryError and str(err).startswith("CUDA out of memory.")


def test_dropped_leaf_is_freed_without_gc(no_gc):
    """A leaf used in a graph and its AccumulateGrad make no cycle: both go when the last reference does."""
    x = ember.randn(3, requires_grad=True)
    y = (x * 2).exp()
    acc = weakref.ref(y.grad_fn.next_functions[0][0].next_functions[0][0])
    assert acc().variable is x
    leaf = weakref.ref(x)
    del x, y
    assert leaf() is None and acc() is None
