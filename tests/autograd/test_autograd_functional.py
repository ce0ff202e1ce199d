"""torch.autograd.functional (vjp, jvp, jacobian, hessian, vhp, hvp) against PyTorch on the same inputs.

Each case is written once as `fn(torch)` and run on PyTorch and on ember (autograd_compare.same): values,
shapes, dtypes and requires_grad of every result must match, in float64, first and second order, with and
without create_graph. (Named test_autograd_functional.py: tests/nn/test_functional.py already holds the
module name test_functional.)
"""
import numpy as np
import pytest

from autograd_compare import same, same_error

RNG = np.random.default_rng(14)
X3 = RNG.standard_normal(3)
Y3 = RNG.standard_normal(3)
M34 = RNG.standard_normal((3, 4))
A33 = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
V3, V4, W3 = RNG.standard_normal(3), RNG.standard_normal(4), RNG.standard_normal(3)
LOGITS = RNG.standard_normal((4, 5))
TARGET = np.array([0, 3, 1, 4])
W1, B1, W2 = RNG.standard_normal((5, 3)), RNG.standard_normal(5), RNG.standard_normal((2, 5))


def t(torch, a, requires_grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


# --- the suite: scalar functions of one or more tensors (for every function) and vector ones --------------
def poly(torch):
    return lambda x: (x ** 3 * 2 - x * x.sum() + 1).sum()


def poly2(torch):
    return lambda x, y: (x ** 2 * y + y.exp() * x).sum()


def mse(torch):
    target = t(torch, Y3)
    return lambda x: torch.nn.functional.mse_loss(x.tanh(), target)


def cross_entropy(torch):
    target = torch.tensor(TARGET)
    return lambda logits: torch.nn.functional.cross_entropy(logits, target)


def mlp(torch):
    x = t(torch, M34[:, :3])
    return lambda w1, b1, w2: ((x @ w1.T + b1).tanh() @ w2.T).pow(2).mean()


def det(torch):
    return lambda a: torch.linalg.det(a)


def inv_trace(torch):
    return lambda a: torch.linalg.inv(a).sum() + (a @ a).trace()


SCALAR = {
    "poly": (poly, lambda torch, rg: t(torch, X3, rg)),
    "poly2": (poly2, lambda torch, rg: (t(torch, X3, rg), t(torch, Y3, rg))),
    "mse": (mse, lambda torch, rg: t(torch, X3, rg)),
    "cross_entropy": (cross_entropy, lambda torch, rg: t(torch, LOGITS, rg)),
    "mlp": (mlp, lambda torch, rg: (t(torch, W1, rg), t(torch, B1, rg), t(torch, W2, rg))),
    "det": (det, lambda torch, rg: t(torch, A33, rg)),
    "inv_trace": (inv_trace, lambda torch, rg: t(torch, A33, rg)),
}


def vec_poly(torch):
    return lambda x: x ** 2 * x.sum()


def vec_two_outputs(torch):
    return lambda x, y: (x * y, (x.sin() * y.exp()).sum(), x[:2] * 3)


def vec_matmul(torch):
    m = t(torch, M34)
    return lambda x: x @ m


def vec_softmax(torch):
    return lambda x: torch.softmax(x * 2, 0)


VECTOR = {
    "vec_poly": (vec_poly, lambda torch, rg: t(torch, X3, rg)),
    "two_outputs": (vec_two_outputs, lambda torch, rg: (t(torch, X3, rg), t(torch, Y3, rg))),
    "matmul": (vec_matmul, lambda torch, rg: t(torch, X3, rg)),
    "softmax": (vec_softmax, lambda torch, rg: t(torch, X3, rg)),
}


def _seed_like(torch, value, rg=False):
    """A deterministic `v` shaped as `value` (a tensor or a tuple of tensors)."""
    if isinstance(value, tuple):
        return tuple(_seed_like(torch, v, rg) for v in value)
    n = value.numel()
    data = np.linspace(-1.0, 1.5, n).reshape(tuple(value.shape)) if n else np.zeros(tuple(value.shape))
    return t(torch, data, rg)


def _output_of(torch, func, inputs):
    with torch.no_grad():
        return func(*inputs) if isinstance(inputs, tuple) else func(inputs)


# --- jacobian and hessian ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("name", sorted(VECTOR) + sorted(SCALAR))
def test_jacobian(name, vectorize, create_graph):
    make, inputs = {**VECTOR, **SCALAR}[name]

    def fn(torch):
        return torch.autograd.functional.jacobian(make(torch), inputs(torch, True), create_graph=create_graph,
                                                  vectorize=vectorize)
    same(fn, grad_fn=False)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(SCALAR))
def test_hessian(name, create_graph):
    make, inputs = SCALAR[name]

    def fn(torch):
        return torch.autograd.functional.hessian(make(torch), inputs(torch, True), create_graph=create_graph)
    same(fn, grad_fn=False)


def test_hessian_vectorize_gives_the_same_values():
    def fn(torch):
        return torch.autograd.functional.hessian(poly2(torch), (t(torch, X3), t(torch, Y3)), vectorize=True)
    same(fn, grad_fn=False)


# --- vjp and jvp ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(VECTOR) + sorted(SCALAR))
def test_vjp(name, create_graph):
    make, inputs = {**VECTOR, **SCALAR}[name]

    def fn(torch):
        func, xs = make(torch), inputs(torch, True)
        v = _seed_like(torch, _output_of(torch, func, xs))
        return torch.autograd.functional.vjp(func, xs, v, create_graph=create_graph)
    same(fn, grad_fn=False)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(VECTOR) + sorted(SCALAR))
def test_jvp(name, create_graph):
    make, inputs = {**VECTOR, **SCALAR}[name]

    def fn(torch):
        func, xs = make(torch), inputs(torch, True)
        return torch.autograd.functional.jvp(func, xs, _seed_like(torch, xs), create_graph=create_graph)
    same(fn, grad_fn=False)


# --- vhp and hvp ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("op", ["vhp", "hvp"])
@pytest.mark.parametrize("name", sorted(SCALAR))
def test_vhp_hvp(name, op, create_graph):
    make, inputs = SCALAR[name]

    def fn(torch):
        func, xs = make(torch), inputs(torch, True)
        return getattr(torch.autograd.functional, op)(func, xs, _seed_like(torch, xs), create_graph=create_graph)
    same(fn, grad_fn=False)


# --- create_graph results are differentiable again --------------------------------------------------------------
@pytest.mark.parametrize("op", ["vjp", "jvp", "vhp", "hvp"])
def test_create_graph_results_differentiate_again(op):
    def fn(torch):
        x, v = t(torch, X3, True), t(torch, V3, True)
        _, r = getattr(torch.autograd.functional, op)(poly(torch), x, v, create_graph=True) if op in ("vhp", "hvp") \
            else getattr(torch.autograd.functional, op)(vec_poly(torch), x, v, create_graph=True)
        return torch.autograd.grad((r * r).sum(), (x, v))
    same(fn, grad_fn=False)


def test_jacobian_create_graph_then_backward_into_leaves():
    def fn(torch):
        x = t(torch, X3, True)
        jac = torch.autograd.functional.jacobian(vec_poly(torch), x, create_graph=True)
        jac.pow(2).sum().backward()
        return jac, x.grad
    same(fn, grad_fn=False)


def test_without_create_graph_inputs_grad_is_untouched():
    def fn(torch):
        x = t(torch, X3, True)
        out = torch.autograd.functional.hessian(poly(torch), x)
        return out, x.grad
    same(fn, grad_fn=False)


def test_inputs_requiring_grad():
    """Without create_graph nothing reaches the caller's graph; with it, results depend on the inputs
    exactly where the derivative does (a linear function's Jacobian is a constant)."""
    def fn(torch):
        x = t(torch, X3, True)
        af = torch.autograd.functional
        return (af.vjp(lambda x: x ** 2, x, t(torch, V3)), af.jacobian(lambda x: x ** 2, x, create_graph=True),
                af.jacobian(lambda x: x * 2, x, create_graph=True), af.jvp(lambda x: x * 2, x, x, create_graph=True))
    same(fn, grad_fn=False)


def test_under_no_grad_create_graph_still_builds_a_graph():
    def fn(torch):
        x = t(torch, X3, True)
        with torch.no_grad():
            _, r = torch.autograd.functional.vjp(vec_poly(torch), x, t(torch, V3), create_graph=True)
            _, s = torch.autograd.functional.vjp(vec_poly(torch), x, t(torch, V3))
        return r, s
    same(fn, grad_fn=False)


# --- outputs independent of inputs: zeros, or strict mode's errors ----------------------------------------------
def independent(torch):
    return lambda x, y: (x * 2, x.detach() ** 2)


def test_independent_outputs_give_zeros():
    def fn(torch):
        xs = (t(torch, X3), t(torch, Y3))
        return (torch.autograd.functional.jacobian(independent(torch), xs),
                torch.autograd.functional.vjp(independent(torch), xs, (t(torch, V3), t(torch, W3))),
                torch.autograd.functional.jvp(independent(torch), xs, (t(torch, V3), t(torch, W3))),
                torch.autograd.functional.hessian(lambda x, y: (x ** 2).sum(), xs),
                torch.autograd.functional.hvp(lambda x, y: (x * 2).sum(), xs, (t(torch, V3), t(torch, W3))),
                torch.autograd.functional.vhp(lambda x, y: (x * 2).sum(), xs, (t(torch, V3), t(torch, W3))))
    same(fn, grad_fn=False)


STRICT_CASES = {
    "vjp_independent_input": lambda torch: torch.autograd.functional.vjp(
        lambda x, y: x * 2, (t(torch, X3), t(torch, Y3)), t(torch, V3), strict=True),
    "vjp_output_without_grad": lambda torch: torch.autograd.functional.vjp(
        lambda x: x.detach(), t(torch, X3), t(torch, V3), strict=True),
    "jvp_independent": lambda torch: torch.autograd.functional.jvp(
        lambda x, y: x * 2, (t(torch, X3), t(torch, Y3)), (t(torch, V3), t(torch, W3)), strict=True),
    "jvp_linear_create_graph": lambda torch: torch.autograd.functional.jvp(
        lambda x: x * 2, t(torch, X3), t(torch, V3), strict=True, create_graph=True),
    "jacobian_independent": lambda torch: torch.autograd.functional.jacobian(
        lambda x, y: x * 2, (t(torch, X3), t(torch, Y3)), strict=True),
    "jacobian_strict_vectorize": lambda torch: torch.autograd.functional.jacobian(
        lambda x: x * 2, t(torch, X3), strict=True, vectorize=True),
    "jacobian_create_graph_constant": lambda torch: torch.autograd.functional.jacobian(
        lambda x: x * 2, t(torch, X3), strict=True, create_graph=True),
    "hessian_linear": lambda torch: torch.autograd.functional.hessian(
        lambda x: (x * 2).sum(), t(torch, X3), strict=True),
    "vhp_linear": lambda torch: torch.autograd.functional.vhp(
        lambda x: (x * 2).sum(), t(torch, X3), t(torch, V3), strict=True),
    "hvp_linear": lambda torch: torch.autograd.functional.hvp(
        lambda x: (x * 2).sum(), t(torch, X3), t(torch, V3), strict=True),
    "vhp_quadratic_create_graph": lambda torch: torch.autograd.functional.vhp(
        lambda x: x @ t(torch, A33) @ x, t(torch, X3), t(torch, V3), strict=True, create_graph=True),
    "hvp_quadratic_create_graph": lambda torch: torch.autograd.functional.hvp(
        lambda x: x @ t(torch, A33) @ x, t(torch, X3), t(torch, V3), strict=True, create_graph=True),
    "vhp_independent": lambda torch: torch.autograd.functional.vhp(
        lambda x, y: (x ** 3).sum(), (t(torch, X3), t(torch, Y3)), (t(torch, V3), t(torch, W3)), strict=True),
}


@pytest.mark.parametrize("case", sorted(STRICT_CASES))
def test_strict_errors(case):
    same_error(STRICT_CASES[case])


def test_strict_passes_when_everything_depends():
    def fn(torch):
        xs = (t(torch, X3), t(torch, Y3))
        return (torch.autograd.functional.jacobian(poly2(torch), xs, strict=True),
                torch.autograd.functional.hessian(poly2(torch), xs, strict=True, create_graph=True))
    same(fn, grad_fn=False)


# --- argument handling -------------------------------------------------------------------------------------------
def test_nesting_follows_tuples():
    """A tuple of one input gives a tuple of one result; a tensor gives a tensor (every level)."""
    def fn(torch):
        x = t(torch, X3)
        af = torch.autograd.functional
        return (af.jacobian(lambda x: x * 2, (x,)), af.jacobian(lambda x: (x * 2,), x),
                af.jacobian(lambda x: (x * 2,), (x,)), af.vjp(lambda x: (x * 2,), (x,), (t(torch, V3),)),
                af.jvp(lambda x: x * 2, (x,), (t(torch, V3),)), af.hessian(lambda x: (x ** 3).sum(), (x,)),
                af.vjp(lambda x: x.sum(), x), af.jvp(lambda x: x * 2, t(torch, 2.0)))
    same(fn, grad_fn=False)


ARG_ERRORS = {
    "inputs_not_tensor": lambda torch: torch.autograd.functional.jacobian(lambda x: x, [t(torch, X3)]),
    "inputs_tuple_entry": lambda torch: torch.autograd.functional.vjp(lambda x, y: x, (t(torch, X3), 3.0)),
    "output_not_tensor": lambda torch: torch.autograd.functional.vjp(lambda x: 3.0, t(torch, 2.0)),
    "output_tuple_entry": lambda torch: torch.autograd.functional.jvp(lambda x: (x, 1), t(torch, 2.0)),
    "v_none_vector_output": lambda torch: torch.autograd.functional.vjp(lambda x: x * 2, t(torch, X3)),
    "v_none_vector_input": lambda torch: torch.autograd.functional.jvp(lambda x: x * 2, t(torch, X3)),
    "v_none_hvp": lambda torch: torch.autograd.functional.hvp(lambda x: x.sum(), t(torch, X3)),
    "v_none_vhp": lambda torch: torch.autograd.functional.vhp(lambda x: x.sum(), t(torch, X3)),
    "v_bad_size": lambda torch: torch.autograd.functional.vjp(lambda x: x * 2, t(torch, X3), t(torch, V4)),
    "v_bad_size_tuple": lambda torch: torch.autograd.functional.jvp(
        lambda x, y: x, (t(torch, X3), t(torch, Y3)), (t(torch, V3), t(torch, V4))),
    "v_bad_length": lambda torch: torch.autograd.functional.jvp(
        lambda x, y: x, (t(torch, X3), t(torch, Y3)), (t(torch, V3),)),
    "v_not_single": lambda torch: torch.autograd.functional.vjp(
        lambda x: x * 2, t(torch, X3), (t(torch, V3), t(torch, V3))),
    "v_not_tensor": lambda torch: torch.autograd.functional.vjp(lambda x: x * 2, t(torch, X3), [1.0, 2.0, 3.0]),
    "hessian_vector_output": lambda torch: torch.autograd.functional.hessian(lambda x: x * 2, t(torch, X3)),
    "hessian_tuple_output": lambda torch: torch.autograd.functional.hessian(lambda x: (x.sum(),), t(torch, X3)),
    "hvp_vector_output": lambda torch: torch.autograd.functional.hvp(lambda x: x, t(torch, X3), t(torch, V3)),
    "vhp_tuple_output": lambda torch: torch.autograd.functional.vhp(lambda x: (x.sum(),), t(torch, X3), t(torch, V3)),
    "bad_strategy": lambda torch: torch.autograd.functional.jacobian(lambda x: x, t(torch, X3), strategy="fwd"),
    "bad_outer_strategy": lambda torch: torch.autograd.functional.hessian(
        lambda x: x.sum(), t(torch, X3), outer_jacobian_strategy="x"),
    "forward_create_graph": lambda torch: torch.autograd.functional.jacobian(
        lambda x: x, t(torch, X3), create_graph=True, strategy="forward-mode", vectorize=True),
    "forward_strict": lambda torch: torch.autograd.functional.jacobian(
        lambda x: x, t(torch, X3), strict=True, strategy="forward-mode", vectorize=True),
    "forward_not_vectorized": lambda torch: torch.autograd.functional.jacobian(
        lambda x: x, t(torch, X3), strategy="forward-mode"),
}


@pytest.mark.parametrize("case", sorted(ARG_ERRORS))
def test_argument_errors(case):
    same_error(ARG_ERRORS[case])


def test_empty_and_zero_dim_inputs():
    def fn(torch):
        af = torch.autograd.functional
        return (af.jacobian(lambda x, y: x * 2 + y.sum(), (t(torch, X3), t(torch, np.zeros(0)))),
                af.hessian(lambda x: x ** 3, t(torch, 2.0)), af.jvp(lambda x: x.exp(), t(torch, 0.5), t(torch, 2.0)))
    same(fn, grad_fn=False)


def test_float32_inputs_keep_their_dtype():
    def fn(torch):
        x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
        return torch.autograd.functional.jacobian(lambda x: x.sigmoid() * x, x), \
            torch.autograd.functional.hessian(lambda x: (x.sin() * x).sum(), x)
    same(fn, grad_fn=False)


def test_on_the_test_device():
    """Every function keeps its results on the inputs' device (EMBER_TEST_DEVICE=cuda: the CuPy stand-in)."""
    import ember
    import torch as real_torch
    from _device import DEVICE, TORCH_DEVICE, host
    from autograd_compare import compare

    def fn(torch):
        dev = DEVICE if torch is ember else TORCH_DEVICE
        x = torch.tensor(X3, dtype=torch.float64, device=dev)
        v = torch.tensor(V3, dtype=torch.float64, device=dev)
        af = torch.autograd.functional
        f, g = poly(torch), vec_poly(torch)
        out = [af.jacobian(g, x), af.jacobian(g, x, vectorize=True), af.hessian(f, x), af.vjp(g, x, v)[1],
               af.jvp(g, x, v)[1], af.vhp(f, x, v)[1], af.hvp(f, x, v)[1]]
        assert all(r.device.type == torch.device(dev).type for r in out)
        return [host(r) for r in out]
    compare(fn(real_torch), fn(ember), grad_fn=False)


FORWARD_MODE = {
    "jacobian_one_input": lambda torch: torch.autograd.functional.jacobian(
        vec_poly(torch), t(torch, X3), strategy="forward-mode", vectorize=True),
    "jacobian_tuples": lambda torch: torch.autograd.functional.jacobian(
        vec_two_outputs(torch), (t(torch, X3), t(torch, Y3)), strategy="forward-mode", vectorize=True),
    "hessian_forward_over_reverse": lambda torch: torch.autograd.functional.hessian(
        poly2(torch), (t(torch, X3), t(torch, Y3)), outer_jacobian_strategy="forward-mode", vectorize=True),
}


@pytest.mark.parametrize("name", sorted(FORWARD_MODE))
def test_forward_mode_strategy(name):
    same(FORWARD_MODE[name], grad_fn=False)
