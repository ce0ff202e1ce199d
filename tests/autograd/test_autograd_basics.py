"""requires_grad, is_leaf, .grad accumulation, grad_fn names and next_functions, Tensor.backward."""
import pytest

from autograd_compare import same, same_error


# --- requires_grad ------------------------------------------------------------------------------
def test_requires_grad_defaults_and_propagation():
    def fn(torch):
        a = torch.ones(2)
        b = torch.ones(2, requires_grad=True)
        return [a.requires_grad, b.requires_grad, (a + 1).requires_grad, (a + b).requires_grad,
                (a * b).is_leaf, a.is_leaf, b.is_leaf, (a * 2).is_leaf]
    same(fn)


def test_requires_grad_underscore_returns_self_and_toggles():
    def fn(torch):
        a = torch.ones(2)
        r = a.requires_grad_()
        first = (r is a, a.requires_grad)
        a.requires_grad_(False)
        a.requires_grad = True
        return first, a.requires_grad, a.is_leaf, a.grad_fn is None
    same(fn)


def test_requires_grad_false_on_int_tensor_is_allowed():
    def fn(torch):
        a = torch.ones(2, dtype=torch.int64)
        a.requires_grad_(False)
        a.requires_grad = False
        return a.requires_grad
    same(fn)


def test_requires_grad_setter_on_int_tensor_raises():
    def fn(torch):
        a = torch.ones(2, dtype=torch.int64)
        a.requires_grad = True
    same_error(fn)


def test_requires_grad_in_factories():
    def fn(torch):
        return [torch.zeros(2, requires_grad=True), torch.ones(2, 2, requires_grad=True),
                torch.tensor(1.5, requires_grad=True), torch.full((2,), 3.0, requires_grad=True),
                torch.empty(0, requires_grad=True)]
    same(fn)


def test_requires_grad_false_on_non_leaf_raises():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        (x * 2).requires_grad_(False)
    same_error(fn)


def test_requires_grad_true_on_non_leaf_is_a_no_op():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        y = (x * 2).requires_grad_(True)
        return y
    same(fn)


def test_int_results_of_float_inputs_do_not_require_grad():
    def fn(torch):
        x = torch.tensor([1.5, -2.0, 3.0], requires_grad=True)
        return [x.argmax(), x > 0, x.long(), x.max(dim=0).indices, x.sign()]
    same(fn)


# --- .grad ----------------------------------------------------------------------------------------
def test_grad_accumulates_three_times_and_can_be_reset():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        out = []
        for _ in range(3):
            (x * x).sum().backward()
            out.append(x.grad.clone())
        x.grad = None
        (x * 3).sum().backward()
        out.append(x.grad)
        x.grad.zero_()
        out.append(x.grad)
        return out
    same(fn)


def test_grad_accumulates_in_place_into_existing_tensor():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).sum().backward()
        g = x.grad
        (x * 2).sum().backward()
        return g is x.grad, g
    same(fn)


GRAD_ASSIGN = {
    "wrong_shape": lambda torch: setattr(torch.ones(2, requires_grad=True), "grad", torch.ones(3)),
    "wrong_dtype": lambda torch: setattr(torch.ones(2, requires_grad=True), "grad",
                                         torch.ones(2, dtype=torch.float64)),
    "not_tensor": lambda torch: setattr(torch.ones(2, requires_grad=True), "grad", [1.0, 1.0]),
}
GRAD_ASSIGN_XFAIL = {}


@pytest.mark.parametrize("case", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=GRAD_ASSIGN_XFAIL[k])) if k in GRAD_ASSIGN_XFAIL
    else k for k in GRAD_ASSIGN])
def test_grad_assign_checks(case):
    same_error(GRAD_ASSIGN[case])


def test_grad_is_none_before_backward_and_for_unused_leaf():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        z = torch.ones(2, requires_grad=True)
        before = x.grad
        (x * 2).sum().backward()
        return before, x.grad, z.grad
    same(fn)


def test_grad_same_leaf_used_many_times_sums():
    def fn(torch):
        x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * x + x.exp() * x - x.sin() / (x * x + 1)
        y.sum().backward()
        return y, x.grad
    same(fn)


def test_grad_leaf_used_twice_in_one_op_gets_fresh_grad():
    # the engine must not hand the same buffer to .grad twice
    def fn(torch):
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = torch.tensor([3.0, 4.0], requires_grad=True)
        (a + b).sum().backward()
        a.grad.add_(100)
        return a.grad, b.grad
    same(fn)


def test_grad_dtype_follows_leaf_dtype():
    def fn(torch):
        a = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
        b = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        (a * b).sum().backward()
        c = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
        c.double().sum().backward()
        return a.grad, b.grad, c.grad
    same(fn)


# --- grad_fn names ----------------------------------------------------------------------------------
GRAD_FN_CASES = {
    "add": lambda t, x, y: x + 1,
    "add_tensor": lambda t, x, y: x + t.tensor(1.0),
    "mul": lambda t, x, y: x * 2,
    "mean": lambda t, x, y: x.mean(),
    "mean_dim": lambda t, x, y: x.mean(1),
    "sum": lambda t, x, y: x.sum(),
    "sum_dim": lambda t, x, y: x.sum(0),
    "mm": lambda t, x, y: x.mm(y),
    "matmul_2d": lambda t, x, y: x @ y,
    "matmul_3d": lambda t, x, y: x.unsqueeze(0) @ y,
    "t": lambda t, x, y: x.t(),
    "transpose": lambda t, x, y: x.transpose(0, 1),
    "permute": lambda t, x, y: x.permute(1, 0),
    "select": lambda t, x, y: x[0],
    "slice": lambda t, x, y: x[:, 1:],
    "narrow": lambda t, x, y: x.narrow(1, 0, 2),
    "view": lambda t, x, y: x.view(6),
    "reshape": lambda t, x, y: x.reshape(6),
    "flatten": lambda t, x, y: x.flatten(),
    "expand": lambda t, x, y: x[:1].expand(4, 3),
    "squeeze": lambda t, x, y: x[:1].squeeze(),
    "squeeze_dim": lambda t, x, y: x[:1].squeeze(0),
    "unsqueeze": lambda t, x, y: x.unsqueeze(0),
    "clone": lambda t, x, y: x.clone(),
    "contiguous": lambda t, x, y: x.t().contiguous(),
    "pow": lambda t, x, y: x ** 2,
    "pow_tensor": lambda t, x, y: x ** x,
    "rpow": lambda t, x, y: 2 ** x,
    "div": lambda t, x, y: x / 2,
    "rdiv": lambda t, x, y: 2 / x,
    "sub": lambda t, x, y: x - 1,
    "rsub": lambda t, x, y: 1 - x,
    "neg": lambda t, x, y: -x,
    "clamp": lambda t, x, y: x.clamp(0, 1),
    "clamp_kw_min": lambda t, x, y: x.clamp(min=0),
    "clamp_kw_max": lambda t, x, y: x.clamp(max=1),
    "clamp_min": lambda t, x, y: t.clamp_min(x, 0),
    "clamp_max": lambda t, x, y: t.clamp_max(x, 1),
    "exp": lambda t, x, y: x.exp(),
    "log": lambda t, x, y: x.log(),
    "log1p": lambda t, x, y: x.log1p(),
    "expm1": lambda t, x, y: x.expm1(),
    "sqrt": lambda t, x, y: x.sqrt(),
    "rsqrt": lambda t, x, y: x.rsqrt(),
    "reciprocal": lambda t, x, y: x.reciprocal(),
    "square": lambda t, x, y: x.square(),
    "sin": lambda t, x, y: x.sin(),
    "cos": lambda t, x, y: x.cos(),
    "tanh": lambda t, x, y: x.tanh(),
    "sigmoid": lambda t, x, y: x.sigmoid(),
    "relu": lambda t, x, y: x.relu(),
    "abs": lambda t, x, y: x.abs(),
    "sign": lambda t, x, y: x.sign(),
    "max": lambda t, x, y: x.max(),
    "max_dim": lambda t, x, y: x.max(0)[0],
    "min": lambda t, x, y: x.min(),
    "amax": lambda t, x, y: x.amax(0),
    "amin": lambda t, x, y: x.amin(),
    "prod": lambda t, x, y: x.prod(),
    "maximum": lambda t, x, y: t.maximum(x, x),
    "index": lambda t, x, y: x[[0, 1]],
    "to_double": lambda t, x, y: x.double(),
    "where": lambda t, x, y: t.where(x > 0, x, 0.0),
    "masked_fill": lambda t, x, y: x.masked_fill(x > 0, 0.0),
    "gather": lambda t, x, y: x.gather(0, t.zeros(1, 3, dtype=t.long)),
    "dot": lambda t, x, y: x[0].dot(x[0]),
    "mv": lambda t, x, y: x.mv(x[0]),
}

GRAD_FN_XFAIL = {
}


@pytest.mark.parametrize("case", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=GRAD_FN_XFAIL[k])) if k in GRAD_FN_XFAIL else k
    for k in GRAD_FN_CASES])
def test_grad_fn_name(case):
    op = GRAD_FN_CASES[case]

    def fn(torch):
        x = torch.tensor([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]], requires_grad=True)
        y = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
        out = op(torch, x, y)
        out.sum().backward()
        return out, type(out.grad_fn).__name__, out.grad_fn.name(), x.grad
    same(fn)


def _structure(fn):
    """A grad_fn graph as nested (name, [(child, output_nr), ...]) tuples."""
    if fn is None:
        return None
    return (type(fn).__name__, [(_structure(n), nr) for n, nr in fn.next_functions])


def test_next_functions_structure_with_accumulate_grad():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        w = torch.ones(2)
        y = (x * w + x).sum()
        return _structure(y.grad_fn)
    expected, _ = same(fn)
    assert expected == ("SumBackward0", [(("AddBackward0", [(("MulBackward0", [(("AccumulateGrad", []), 0),
                                                                               (None, 0)]), 0),
                                                            (("AccumulateGrad", []), 0)]), 0)])


def test_next_functions_is_tuple_of_pairs_and_accumulate_grad_variable():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        y = x * 3
        nf = y.grad_fn.next_functions
        acc = nf[0][0]
        return (type(nf) is tuple, len(nf), type(nf[0]) is tuple, acc.variable is x,
                nf[1][0] is None, type(acc).__name__, acc.next_functions == ())
    same(fn)


def test_accumulate_grad_node_is_shared_per_leaf():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        a, b = x * 2, x + 1
        return a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]
    same(fn)


def test_next_functions_output_nr_for_multi_output():
    def fn(torch):
        x = torch.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
        v, i = x.max(dim=1)
        return _structure((v * 2).grad_fn)
    same(fn)


def test_grad_fn_of_leaf_and_of_no_grad_output_is_none():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            y = x * 2
        return x.grad_fn is None, y.grad_fn is None, y.is_leaf
    same(fn)


# --- Tensor.backward ------------------------------------------------------------------------------
def test_backward_with_gradient_argument():
    def fn(torch):
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        y.backward(gradient=torch.tensor([1.0, 0.1, 0.01]))
        return x.grad
    same(fn)


def test_backward_gradient_positional_and_matrix():
    def fn(torch):
        x = torch.arange(6.0).reshape(2, 3).requires_grad_()
        y = x.exp() * 2
        y.backward(torch.full((2, 3), 0.5))
        return x.grad
    same(fn)


def test_backward_gradient_shape_mismatch_raises():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        (x * 2).backward(torch.ones(3))
    same_error(fn)


def test_backward_gradient_not_a_tensor_raises():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        (x * 2).backward([1.0, 2.0])
    same_error(fn)


def test_backward_gradient_of_other_float_dtype_is_cast():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        (x * 2).backward(torch.ones(2, dtype=torch.float64))
        return x.grad
    same(fn)


def test_backward_on_tensor_without_grad_raises():
    def fn(torch):
        torch.ones(2).sum().backward()
    same_error(fn)


def test_backward_on_leaf_itself():
    def fn(torch):
        x = torch.tensor(3.0, requires_grad=True)
        x.backward()
        return x.grad
    same(fn)


def test_backward_scalar_0d_and_implicit_ones():
    def fn(torch):
        x = torch.tensor(2.0, requires_grad=True)
        y = x ** 3
        y.backward()
        return y, x.grad
    same(fn)


def test_backward_with_inputs_restricts_accumulation():
    def fn(torch):
        a = torch.tensor([1.0], requires_grad=True)
        b = torch.tensor([2.0], requires_grad=True)
        (a * b).sum().backward(inputs=[a])
        return a.grad, b.grad
    same(fn)


def test_autograd_backward_multiple_roots():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y1 = (x * 2).sum()
        y2 = x * x
        torch.autograd.backward([y1, y2], [None, torch.tensor([1.0, 1.0])])
        return x.grad
    same(fn)


def test_backward_through_integer_intermediate_stops():
    def fn(torch):
        x = torch.tensor([1.5, 2.5], requires_grad=True)
        y = x * x.detach().long()
        y.sum().backward()
        return y, x.grad
    same(fn)


def test_backward_retain_graph_three_times():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    same(fn)


def test_second_backward_error_is_raised_after_partial_free():
    # first backward frees; a second backward that only needs a saving node raises
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        z = y.sum()
        z.backward()
        y.sum().backward()
    same_error(fn)


def test_second_backward_through_sum_add_view_ok():
    def fn(torch):
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = (x.t() + 1).reshape(4)[1:].sum() - 2
        y.backward()
        y.backward()
        return x.grad
    same(fn)


def test_backward_with_non_leaf_in_inputs_populates_its_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        (h * h).sum().backward(inputs=[h])
        return h.grad, x.grad
    same(fn)


def test_backward_inputs_must_require_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).sum().backward(inputs=[torch.ones(2)])
    same_error(fn)


def test_anomaly_mode_context_managers_are_accepted():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.autograd.detect_anomaly():
            (x * x).sum().backward()
        with torch.autograd.set_detect_anomaly(True):
            (x * 3).sum().backward()
        return x.grad
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that anomaly detection is slow
        same(fn)


def test_diamond_graph_waits_for_all_branches():
    def fn(torch):
        x = torch.tensor([0.5, 1.5], requires_grad=True)
        y = x * 2
        a = y.exp()
        b = y * y
        c = (a * b).sin() + y
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        c.sum().backward()
        return seen, x.grad
    same(fn)


# --- a 0-d intermediate used twice (its gradient summed in the engine's buffer) -----------------------------
ZERO_D_TWICE = {
    "vector_norm, n + n": lambda m, x: (lambda n: n + n)(m.linalg.vector_norm(x)),
    "vector_norm, exp(n) / n": lambda m, x: (lambda n: n.exp() / n)(m.linalg.vector_norm(x)),
    "norm, pow": lambda m, x: (lambda n: n.pow(3) + n)(x.norm()),
    "sum, unsqueeze": lambda m, x: (lambda s: (s * s).unsqueeze(0).expand(3).sum() + s.exp())(x.sum()),
    "max, reshape": lambda m, x: (lambda s: (s * s).reshape(1, 1).sum() + s)(x.max()),
}


@pytest.mark.parametrize("case", list(ZERO_D_TWICE))
def test_zero_d_intermediate_used_twice_matches_torch(case):
    """NumPy adds two 0-d arrays into a scalar: the engine's summed gradient must stay an array (a view of a
    scalar read stray memory: vector_norm(x) used twice gave zeros), first and second order."""
    import numpy as np
    import torch

    import ember
    fn = ZERO_D_TWICE[case]
    a = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    results = []
    for m in (torch, ember):
        x = m.tensor(a, dtype=m.float64, requires_grad=True)
        (g,) = m.autograd.grad(fn(m, x), x, create_graph=True)
        (gg,) = m.autograd.grad((g ** 3).sum(), x)
        results.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kw", [dict(dim=1), dict(dim=0, ord=3), dict(dim=1, keepdim=True), dict(ord=1.5)])
def test_vector_norm_double_backward_matches_torch(kw):
    """vector_norm saves the norm it returns (not a keepdim copy without history), so double backward
    differentiates through it."""
    import numpy as np
    import torch

    import ember
    a = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    results = []
    for m in (torch, ember):
        x = m.tensor(a, dtype=m.float64, requires_grad=True)
        n = m.linalg.vector_norm(x, **kw)
        (g,) = m.autograd.grad((n * n.detach().exp()).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g ** 3).sum(), x)
        results.append(gg.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-9, atol=1e-9)


def test_retained_zero_d_grad_accumulates_into_an_array():
    import ember
    x = ember.tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.backward(retain_graph=True)
    y.backward()
    assert y.grad.unsqueeze(0).tolist() == [2.0]  # NOTE: a view of a NumPy scalar would read stray memory
