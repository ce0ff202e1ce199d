"""PYTORCH-PITFALLS.md, autograd items 1-8 and the in-place/view items of 12, each against real PyTorch."""
import importlib
import warnings

import pytest

import ember
from autograd_compare import same, same_error, warnings_of


# --- 1. broadcast backward ----------------------------------------------------------------------
def test_1_broadcast_backward_sums_to_input_shapes():
    def fn(torch):
        a = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
        b = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        (a * b).sum().backward()
        return a.grad, b.grad
    _, (ag, bg) = same(fn)
    assert tuple(ag.shape) == (3, 1)
    assert bg.tolist() == [6.0, 6.0, 6.0, 6.0]


def test_1_broadcast_backward_leading_and_keepdim_dims():
    def fn(torch):
        a = torch.arange(24.0).reshape(2, 3, 4).requires_grad_()
        b = torch.tensor([[0.5], [1.5], [2.5]], requires_grad=True)  # (3, 1)
        c = torch.tensor(2.0, requires_grad=True)                     # 0-d
        d = torch.ones(1, 1, 4, requires_grad=True)
        ((a - b) * c / d).pow(2).sum().backward()
        return a.grad, b.grad, c.grad, d.grad
    same(fn, rtol=1e-5, atol=1e-3)


def test_1_broadcast_backward_with_python_scalar_and_dtype_promotion():
    def fn(torch):
        a = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
        b = torch.tensor([[3.0], [4.0]], dtype=torch.float64, requires_grad=True)
        y = a * b + 2
        y.sum().backward()
        return y, a.grad, b.grad
    same(fn)


# --- 2. accumulation ----------------------------------------------------------------------------
def test_2_grad_accumulates_across_backward_calls():
    def fn(torch):
        x = torch.tensor([1.0, 1.0], requires_grad=True)
        (x * 2).sum().backward()
        first = x.grad.clone()
        (x * 2).sum().backward()
        return first, x.grad
    _, (_, g) = same(fn)
    assert g.tolist() == [4.0, 4.0]


def _has(module, name):
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


@pytest.mark.skipif(not (_has("ember.nn", "Linear") and _has("ember.optim", "SGD")),
                    reason="ember.nn.Linear / ember.optim.SGD not there yet")
def test_2_zero_grad_sets_grad_to_none_by_default():
    def fn(torch):
        lin = torch.nn.Linear(2, 1)
        lin(torch.ones(1, 2)).sum().backward()
        had = lin.weight.grad is not None
        opt = torch.optim.SGD(lin.parameters(), lr=0.1)
        opt.zero_grad()
        after_opt = lin.weight.grad is None
        lin(torch.ones(1, 2)).sum().backward()
        lin.zero_grad()
        return had, after_opt, lin.weight.grad is None
    assert same(fn)[0] == (True, True, True)


def test_2_grad_of_non_leaf_is_none():
    def fn(torch):
        x = torch.tensor([1.0], requires_grad=True)
        y = x * 2
        y.sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return y.grad
    same(fn)


def test_2_grad_of_non_leaf_warns():
    import torch
    import ember

    def run(lib):
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        y.sum().backward()
        y.grad
    t_warn, e_warn = warnings_of(run, torch), warnings_of(run, ember)
    assert len(t_warn) == 1
    assert e_warn == t_warn


def test_2_retain_grad_keeps_non_leaf_grad_without_warning():
    import torch
    import ember

    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward()
        return y.grad, y.retains_grad, x.retains_grad
    same(run)
    assert warnings_of(run, ember) == warnings_of(run, torch) == []


# --- 3. freeing the graph -----------------------------------------------------------------------
def test_3_second_backward_raises_when_saved_tensor_needed():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    msg = same_error(fn)
    assert msg.startswith("Trying to backward through the graph a second time")


def test_3_second_backward_succeeds_without_saved_tensors():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return x.grad
    _, g = same(fn)
    assert g.tolist() == [2.0, 2.0]


def test_3_retain_graph_allows_second_backward():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    same(fn)


def test_3_retain_graph_defaults_to_create_graph():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x * x).sum()
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        (g2,) = torch.autograd.grad(y, x)  # graph kept because create_graph=True above
        return g, g2
    same(fn)


# --- 4. non-scalar backward ---------------------------------------------------------------------
def test_4_non_scalar_backward_raises():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward()
    same_error(fn)


def test_4_non_scalar_autograd_grad_raises():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        torch.autograd.grad(x * 2, x)
    same_error(fn)


def test_4_one_element_non_scalar_backward_is_allowed():
    def fn(torch):
        x = torch.tensor([[3.0]], requires_grad=True)
        (x * x).backward()
        return x.grad
    same(fn)


# --- 5. in-place and the version counter ----------------------------------------------------------
def test_5_version_counter_message_exact_text():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.sigmoid()
        y.mul_(2)
        y.sum().backward()
    msg = same_error(fn)
    assert "[torch.FloatTensor [2]], which is output 0 of Sigmoid, is at version 1; expected version 0" in msg


def test_5_inplace_on_leaf_requiring_grad_raises():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        x.add_(1)
    same_error(fn)


def test_5_inplace_on_view_of_leaf_raises():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        x[0].mul_(2)
    same_error(fn)


def test_5_inplace_on_view_of_non_leaf_rebases():
    def fn(torch):
        x = torch.tensor([1.0, 1.0], requires_grad=True)
        y = x * 1
        y[0].mul_(2)
        y.sum().backward()
        return y, x.grad
    _, (_, g) = same(fn)
    assert g.tolist() == [2.0, 1.0]


# --- 6. dtypes that may carry grads ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_6_only_float_tensors_can_require_grad(dtype):
    def fn(torch):
        torch.tensor([1, 0], dtype=getattr(torch, dtype), requires_grad=True)
    same_error(fn)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_6_requires_grad_setter_on_int_tensor_raises(dtype):
    def fn(torch):
        torch.tensor([1, 0], dtype=getattr(torch, dtype)).requires_grad_()
    same_error(fn)


def test_6_float_and_complex_may_require_grad():
    def fn(torch):
        out = []
        for name in ("float16", "float32", "float64", "complex64"):
            t = torch.zeros(2, dtype=getattr(torch, name)).requires_grad_()
            out.append(t.requires_grad)
        return out
    same(fn)


def test_6_numpy_on_requires_grad_tensor_raises():
    def fn(torch):
        torch.tensor([1.0], requires_grad=True).numpy()
    same_error(fn)


def test_6_numpy_after_detach_works():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        return (x * 2).detach().numpy().tolist()
    same(fn)


# --- 7. no_grad ---------------------------------------------------------------------------------
def test_7_no_grad_outputs_do_not_require_grad_params_keep_it():
    def fn(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.no_grad():
            y = w * 2
        return y, w.requires_grad, y.requires_grad
    same(fn)


def test_7_autograd_grad_does_not_accumulate_into_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (g,) = torch.autograd.grad((x * x).sum(), x)
        return g, x.grad is None
    same(fn)


def test_7_allow_unused_defaults_to_false():
    def fn(torch):
        x = torch.tensor([1.0], requires_grad=True)
        z = torch.tensor([1.0], requires_grad=True)
        torch.autograd.grad((x * 2).sum(), [x, z])
    same_error(fn)


# --- 8. subgradients ----------------------------------------------------------------------------
def _grad_at(op, values):
    def fn(torch):
        x = torch.tensor(values, requires_grad=True)
        op(torch, x).sum().backward()
        return x.grad
    return fn


def test_8_relu_abs_sqrt_at_zero():
    _, g = same(_grad_at(lambda t, x: t.relu(x), [0.0, 1.0, -1.0]))
    assert g.tolist() == [0.0, 1.0, 0.0]
    _, g = same(_grad_at(lambda t, x: x.abs(), [0.0, 2.0, -2.0]))
    assert g.tolist() == [0.0, 1.0, -1.0]
    _, g = same(_grad_at(lambda t, x: x.sqrt(), [0.0, 4.0]))
    assert g.tolist() == [float("inf"), 0.25]


def test_8_clamp_passes_gradient_at_bounds():
    _, g = same(_grad_at(lambda t, x: x.clamp(0, 1), [0.0, 1.0, -0.5, 0.5, 1.5]))
    assert g.tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]


def test_8_clamp_min_at_bound():
    same(_grad_at(lambda t, x: x.clamp(min=0.0), [0.0, -1.0, 1.0]))


def test_8_max_amax_split_ties_evenly():
    _, g = same(_grad_at(lambda t, x: x.max(), [1.0, 3.0, 3.0]))
    assert g.tolist() == [0.0, 0.5, 0.5]
    same(_grad_at(lambda t, x: x.amax(), [1.0, 3.0, 3.0]))
    same(_grad_at(lambda t, x: x.min(), [1.0, 1.0, 3.0]))


def test_8_max_dim_routes_to_one_index():
    def fn(torch):
        x = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
        values, indices = x.max(dim=1)
        values.sum().backward()
        return values, indices, x.grad
    _, (_, _, g) = same(fn)
    assert g.sum().item() == 2.0


def test_8_amax_dim_splits_ties():
    def fn(torch):
        x = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
        x.amax(dim=1).sum().backward()
        return x.grad
    same(fn)


# --- 12. views and indexing (in-place / view items) -----------------------------------------------
def test_12_view_on_non_contiguous_raises():
    def fn(torch):
        torch.arange(6.0).reshape(2, 3).t().view(6)
    same_error(fn)


def test_12_view_on_non_contiguous_requires_grad_raises():
    def fn(torch):
        x = torch.ones(2, 3, requires_grad=True)
        (x * 1).t().view(-1)
    same_error(fn)


def test_12_t_is_non_contiguous_and_grad_flows():
    def fn(torch):
        x = torch.arange(6.0).reshape(2, 3).requires_grad_()
        y = x.t()
        (y * torch.arange(6.0).reshape(3, 2)).sum().backward()
        return y.is_contiguous(), y, x.grad
    same(fn)


def test_12_expand_has_stride_zero_and_grad_sums():
    def fn(torch):
        x = torch.tensor([[1.0], [2.0]], requires_grad=True)
        y = x.expand(2, 3)
        (y * torch.arange(6.0).reshape(2, 3)).sum().backward()
        return y.stride(), y, x.grad
    same(fn)


def test_5_inplace_on_view_of_non_leaf_rebases_2d():
    def fn(torch):
        x = torch.ones(2, 2, requires_grad=True)
        y = x * 1
        y[0].mul_(2)
        y.sum().backward()
        return y, x.grad
    same(fn)


def test_12_basic_slices_alias():
    def fn(torch):
        a = torch.zeros(2, 4)
        b = a[:, 1:3]
        b += 1
        c = a[1]
        c.fill_(5)
        return a, b._version, a._version
    same(fn)


def test_12_select_of_1d_aliases():
    def fn(torch):
        a = torch.zeros(4)
        c = a[0]
        c.fill_(5)
        return a, a._version
    same(fn)


def test_12_advanced_indexing_copies():
    def fn(torch):
        a = torch.zeros(3)
        b = a[[0, 1]]
        b += 1
        return a, b
    same(fn)


def test_12_advanced_indexing_grad_accumulates_duplicates():
    def fn(torch):
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x[[0, 0, 2]]
        (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
        return y, x.grad
    same(fn)


def test_12_index_add_with_duplicates_adds_once():
    def fn(torch):
        a = torch.zeros(3)
        idx = torch.tensor([0, 0, 2])
        a[idx] += 1
        return a
    same(fn)


def test_12_index_put_accumulate_adds_twice():
    def fn(torch):
        a = torch.zeros(3)
        a.index_put_((torch.tensor([0, 0, 2]),), torch.tensor(1.0), accumulate=True)
        return a
    same(fn)


def test_12_T_on_3d_warns():
    import torch
    import ember

    def run(lib):
        lib.zeros(2, 3, 4).T
    t_warn = warnings_of(run, torch)
    assert t_warn, "torch no longer warns"
    assert warnings_of(run, ember) == t_warn
