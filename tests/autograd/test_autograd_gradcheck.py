"""torch.autograd.gradcheck / gradgradcheck on a few float64 functions, and their failure modes."""
import pytest

from autograd_compare import same, warnings_of

FUNCS = {
    "sin_exp": (lambda t, x: x.sin() * x.exp(), [(3,)]),
    "broadcast_div": (lambda t, a, b: a / (b * b + 1), [(2, 3), (3,)]),
    "matmul_tanh_chain": (lambda t, a, w: (a @ w).tanh() @ w.t(), [(2, 3), (3, 3)]),
    "reductions": (lambda t, x: x.sum() * x.mean() + x.prod() - x.amax(1).sum() + x.sum(0, keepdim=True) * x,
                   [(2, 2)]),
    "views_and_inplace": (lambda t, x: _views_and_inplace(x), [(3, 3)]),
    "sigmoid_pow": (lambda t, x: x.sigmoid() ** 3, [(4,)]),
}


def _views_and_inplace(x):
    y = x * 1
    y[0].mul_(2)
    y[:, 1:] += x[:, :2].exp()
    return y.t().reshape(-1)[2:7]


def _inputs(torch, shapes, seed):
    rng = __import__("numpy").random.default_rng(seed)
    return tuple(torch.tensor(rng.uniform(0.2, 1.5, s), dtype=torch.float64, requires_grad=True) for s in shapes)


@pytest.mark.parametrize("name", list(FUNCS))
def test_gradcheck_passes(name):
    f, shapes = FUNCS[name]

    def fn(torch):
        return torch.autograd.gradcheck(lambda *a: f(torch, *a), _inputs(torch, shapes, 0))
    assert same(fn)[0] is True


@pytest.mark.parametrize("name", ["sin_exp", "broadcast_div", "matmul_tanh_chain", "sigmoid_pow"])
def test_gradgradcheck_passes(name):
    f, shapes = FUNCS[name]

    def fn(torch):
        return torch.autograd.gradgradcheck(lambda *a: f(torch, *a), _inputs(torch, shapes, 1))
    assert same(fn)[0] is True


def _bad_square(torch):
    class BadSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # wrong: should be 2 * x * g
    return BadSquare


def test_gradcheck_detects_wrong_backward():
    import ember
    import torch
    results = []
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            lib.autograd.gradcheck(_bad_square(lib).apply, (x,))
        results.append((type(info.value).__name__, str(info.value).splitlines()[0]))
    assert results[1] == results[0] == ("GradcheckError", "Jacobian mismatch for output 0 with respect to input 0,")


def test_gradcheck_raise_exception_false_returns_false():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        return torch.autograd.gradcheck(_bad_square(torch).apply, (x,), raise_exception=False)
    assert same(fn)[0] is False


def test_gradgradcheck_detects_once_differentiable():
    import ember
    import torch
    names = []
    for lib in (torch, ember):
        class ExpOnce(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y
        x = lib.tensor([0.5, 1.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(ExpOnce.apply, (x,)) is True
        with pytest.raises(RuntimeError) as info:
            lib.autograd.gradgradcheck(ExpOnce.apply, (x,))
        names.append((type(info.value).__name__, str(info.value).splitlines()[0]))
    assert names[1] == names[0] == ("GradcheckError", "Jacobian mismatch for output 0 with respect to input 0,")


def test_gradcheck_warns_for_float32_inputs():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        lib.autograd.gradcheck(lambda a: a * 2, (x,), raise_exception=False)
    import ember
    import torch
    t_warn = warnings_of(run, torch)
    assert t_warn and t_warn[0].startswith("Input #0 requires gradient and is not a double precision")
    assert warnings_of(run, ember)[:1] == t_warn[:1]


def test_gradcheck_accepts_single_tensor_and_non_tensor_inputs():
    def fn(torch):
        x = torch.tensor([0.3, 0.7], dtype=torch.float64, requires_grad=True)
        one = torch.autograd.gradcheck(lambda a: a.exp(), x)
        mixed = torch.autograd.gradcheck(lambda a, k: a ** k, (x, 3))
        return one, mixed
    assert same(fn)[0] == (True, True)
