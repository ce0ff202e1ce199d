"""torch.autograd.grad: first, second and third derivatives (create_graph), allow_unused,
grad_outputs, materialize_grads, only the requested inputs."""
import pytest

from autograd_compare import same, same_error


def _derivatives(f, values, order=3, dtype="float64"):
    """d^k/dx^k sum(f(x)) for k = 1..order, each taken with create_graph=True."""
    def fn(torch):
        x = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
        y = f(torch, x).sum()
        out = [y]
        for _ in range(order):
            (y,) = torch.autograd.grad(y, x, create_graph=True)
            out.append(y)
            y = y.sum()
        return out
    return fn


VALUES = [-1.5, -0.3, 0.2, 0.7, 2.0]

FUNCS = {
    "cube": lambda t, x: x ** 3,
    "pow_2.5_of_exp": lambda t, x: x.exp() ** 2.5,
    "sin": lambda t, x: x.sin(),
    "cos": lambda t, x: t.cos(x),
    "exp": lambda t, x: x.exp(),
    "tanh": lambda t, x: x.tanh(),
    "sigmoid": lambda t, x: x.sigmoid(),
    "log_of_square_plus_1": lambda t, x: (x * x + 1).log(),
    "sqrt_of_square_plus_1": lambda t, x: (x * x + 1).sqrt(),
    "reciprocal": lambda t, x: 1 / (x + 3),
    "div": lambda t, x: x / (x * x + 2),
    "mixed": lambda t, x: x.sin() * x.exp() - x.tanh() / (1 + x * x),
    "mean_of_square": lambda t, x: (x * x).mean() * x,
    "abs_cube": lambda t, x: x.abs() ** 3,
    "relu_square": lambda t, x: x.relu() ** 2,
}


@pytest.mark.parametrize("name", list(FUNCS))
def test_third_derivative(name):
    same(_derivatives(FUNCS[name], VALUES), rtol=1e-7, atol=1e-9, grad_fn=False)


def test_third_derivative_float32():
    same(_derivatives(FUNCS["mixed"], VALUES, dtype="float32"), rtol=1e-4, atol=1e-5, grad_fn=False)


def test_matmul_chain_second_derivative():
    def fn(torch):
        a = torch.tensor([[0.5, -1.0], [2.0, 0.3], [1.0, 1.0]], dtype=torch.float64, requires_grad=True)
        w1 = torch.tensor([[1.0, 0.2, -0.5], [0.4, -1.2, 0.9]], dtype=torch.float64, requires_grad=True)
        w2 = torch.tensor([[0.7], [-0.3], [1.1]], dtype=torch.float64, requires_grad=True)
        y = ((a @ w1).tanh() @ w2).pow(2).sum()
        ga, gw1, gw2 = torch.autograd.grad(y, (a, w1, w2), create_graph=True)
        # second derivative: gradient of a function of the first gradients
        z = (ga * ga).sum() + gw1.sum() * gw2.sum()
        hs = torch.autograd.grad(z, (a, w1, w2))
        return y, ga, gw1, gw2, hs
    same(fn, rtol=1e-7, atol=1e-9, grad_fn=False)


def test_mm_t_mv_dot_second_derivative():
    def fn(torch):
        a = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64, requires_grad=True)
        v = torch.tensor([0.5, -2.0], dtype=torch.float64, requires_grad=True)
        y = a.mm(a.t()).mv(v).dot(v) + a.t().mm(a).sum()
        ga, gv = torch.autograd.grad(y, (a, v), create_graph=True)
        return torch.autograd.grad((ga ** 2).sum() + (gv ** 3).sum(), (a, v))
    same(fn, rtol=1e-7, atol=1e-9, grad_fn=False)


def test_hessian_vector_product():
    def fn(torch):
        x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
        v = torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
        y = (x.sin() * x.prod()).sum()
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        (hv,) = torch.autograd.grad(g, x, grad_outputs=v)
        return g, hv
    same(fn, rtol=1e-7, atol=1e-9, grad_fn=False)


def test_create_graph_results_require_grad_and_have_grad_fn():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (g,) = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
        (h,) = torch.autograd.grad((x ** 3).sum(), x)
        return g.requires_grad, g.grad_fn is not None, h.requires_grad, h.grad_fn is None
    same(fn)


def test_backward_create_graph_then_grad_of_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        first = g.detach().clone()
        (gg,) = torch.autograd.grad(g.sum(), x)
        return first, g.requires_grad, gg
    same(fn, grad_fn=False)


def test_grad_of_multiple_outputs_with_grad_outputs():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y1 = x * x
        y2 = x.exp()
        return torch.autograd.grad([y1, y2], x, grad_outputs=[torch.ones(2), torch.tensor([0.5, 2.0])])
    same(fn)


def test_grad_with_respect_to_non_leaf():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = (h * h).sum()
        gh, gx = torch.autograd.grad(y, [h, x])
        return gh, gx, x.grad is None
    same(fn)


def test_grad_returns_tuple_for_single_input():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        r = torch.autograd.grad((x * 2).sum(), x)
        return type(r).__name__, len(r), r
    same(fn)


def test_allow_unused_returns_none():
    def fn(torch):
        x = torch.tensor([1.0], requires_grad=True)
        z = torch.tensor([1.0], requires_grad=True)
        return torch.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    same(fn)


def test_allow_unused_error_names_index():
    def fn(torch):
        x = torch.tensor([1.0], requires_grad=True)
        z = torch.tensor([1.0], requires_grad=True)
        torch.autograd.grad((x * 2).sum(), [z, x])
    same_error(fn)


def test_materialize_grads_gives_zeros():
    def fn(torch):
        x = torch.tensor([1.0], requires_grad=True)
        z = torch.tensor([1.0, 2.0], requires_grad=True)
        return torch.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    same(fn)


def test_grad_input_not_requiring_grad_raises():
    def fn(torch):
        x = torch.tensor([1.0], requires_grad=True)
        torch.autograd.grad((x * 2).sum(), [x, torch.ones(1)])
    same_error(fn)


def test_grad_output_not_requiring_grad_raises():
    def fn(torch):
        x = torch.tensor([1.0], requires_grad=True)
        torch.autograd.grad(torch.ones(1).sum(), [x])
    same_error(fn)


def test_grad_frees_graph_unless_retained():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        torch.autograd.grad(y, x)
        torch.autograd.grad(y, x)
    same_error(fn)


def test_grad_retain_graph_twice():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        a = torch.autograd.grad(y, x, retain_graph=True)
        b = torch.autograd.grad(y, x)
        return a, b
    same(fn)


def test_grad_only_runs_needed_branch_and_does_not_touch_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        w = torch.tensor([3.0, 4.0], requires_grad=True)
        y = (x * w).sum() + (w * w).sum()
        (gx,) = torch.autograd.grad(y, x)
        return gx, x.grad, w.grad
    same(fn)


def test_double_backward_of_saved_output_op_after_free_raises():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (g,) = torch.autograd.grad(x.exp().sum(), x, create_graph=False)
        g.sum().backward()
    same_error(fn)


def test_second_derivative_accumulates_into_leaf_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad((x ** 4).sum(), x, create_graph=True)
        (g * g).sum().backward()
        return x.grad
    same(fn, grad_fn=False)


def test_gradient_penalty_pattern():
    def fn(torch):
        w = torch.tensor([[0.5, -1.0], [1.5, 0.2]], dtype=torch.float64, requires_grad=True)
        inp = torch.tensor([[1.0, 2.0], [0.5, -0.5], [3.0, 1.0]], dtype=torch.float64, requires_grad=True)
        out = (inp @ w).sigmoid().sum()
        (gi,) = torch.autograd.grad(out, inp, create_graph=True)
        penalty = ((gi.pow(2).sum(1).sqrt() - 1) ** 2).mean()
        loss = out + 10 * penalty
        loss.backward()
        return penalty, w.grad, inp.grad
    same(fn, rtol=1e-7, atol=1e-9, grad_fn=False)


@pytest.mark.parametrize("reduce", ["prod", "amax", "max", "mean", "sum"])
def test_double_backward_through_saved_0d_output(reduce):
    # a full reduction's forward may return a NumPy scalar; saving it must still save the output
    def fn(torch):
        x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
        y = (getattr(x, reduce)() * x.sin()).sum()
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        (h,) = torch.autograd.grad(g.sum(), x)
        return g, h
    same(fn, rtol=1e-7, atol=1e-9, grad_fn=False)


def test_grad_fn_names_of_stack_repeat_and_diag_embed():
    """The ops PyTorch gives a node of their own (ember composes them, under PyTorch's node name)."""
    import torch

    import ember
    calls = {
        "stack": lambda m, x: m.stack([x, x * 2], 1),
        "repeat": lambda m, x: x.repeat(2, 1),
        "tile": lambda m, x: m.tile(x, (2,)),
        "diag_embed": lambda m, x: m.diag_embed(x),
        "diag": lambda m, x: m.diag(x),
    }
    for name, call in calls.items():
        t = call(torch, torch.ones(3, requires_grad=True))
        e = call(ember, ember.ones(3, requires_grad=True))
        assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__, name
