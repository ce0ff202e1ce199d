"""In-place ops under autograd: the version counter and its message, leaf errors, in-place on
non-leaves and on views of non-leaves (CopySlices rebasing), out=, and .numpy()."""
import pytest

from autograd_compare import same, same_error

W = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]


def _weighted(torch, y):
    """A non-uniform loss, so that every element's gradient is visible."""
    w = torch.arange(1.0, y.numel() + 1).reshape(y.shape)
    return (y * w).sum()


# --- the version counter ----------------------------------------------------------------------------------
def test_version_counter_increments():
    def fn(torch):
        x = torch.ones(3)
        v = [x._version]
        x.add_(1)
        v.append(x._version)
        x[0] = 5
        v.append(x._version)
        x.mul_(2).add_(1)
        v.append(x._version)
        view = x[1:]
        view.zero_()
        v.append((x._version, view._version))
        y = x + 1
        v.append(y._version)
        return v
    same(fn)


def test_version_message_for_saved_output():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.add_(1)
        y.sum().backward()
    msg = same_error(fn)
    assert "which is output 0 of Exp, is at version 1; expected version 0 instead" in msg


def test_version_message_for_saved_input_names_its_current_history():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y * y
        y.add_(1)
        z.sum().backward()
    msg = same_error(fn)
    assert "which is output 0 of Add," in msg


def test_version_message_for_non_leaf_modified_under_no_grad():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y * y
        with torch.no_grad():
            y.add_(1)
        z.sum().backward()
    msg = same_error(fn)
    assert "which is output 0 of Mul," in msg


def test_version_message_for_leaf_has_no_output_clause():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        z = x * x
        with torch.no_grad():
            x.add_(1)
        z.sum().backward()
    msg = same_error(fn)
    assert "[torch.FloatTensor [2]] is at version 1; expected version 0 instead" in msg


def test_version_message_float64_2d_and_version_2():
    def fn(torch):
        x = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
        y = x.tanh()
        y.mul_(2)
        y.mul_(2)
        y.sum().backward()
    msg = same_error(fn)
    assert "[torch.DoubleTensor [2, 3]], which is output 0 of Tanh, is at version 2" in msg


def test_view_rebuilt_after_in_place_is_as_strided():
    def fn(torch):
        x = torch.ones(2, 2, requires_grad=True)
        y = x * 3
        v, w, u = y[0], y[:, 1], y.view(4)
        v.mul_(2)
        return [v, w, u, y]
    same(fn)


def test_version_check_passes_when_saved_tensor_untouched():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y.exp()      # saves its output, not y
        y.add_(1)        # y is not needed by ExpBackward: fine
        z.sum().backward()
        return x.grad
    same(fn)


def test_version_check_on_retained_graph_second_backward():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.sigmoid()
        s = y.sum()
        s.backward(retain_graph=True)
        with torch.no_grad():
            y.mul_(2)
        s.backward()
    same_error(fn)


# --- leaves ----------------------------------------------------------------------------------------------
LEAF_INPLACE = {
    "add_": lambda t, x: x.add_(1),
    "iadd": lambda t, x: x.__iadd__(1),
    "setitem": lambda t, x: x.__setitem__(0, 1.0),
    "zero_": lambda t, x: x.zero_(),
    "copy_": lambda t, x: x.copy_(t.zeros(2, 2)),
    "fill_": lambda t, x: x.fill_(2.0),
    "view_add_": lambda t, x: x.view(-1).add_(1),
    "select_mul_": lambda t, x: x[0].mul_(2),
    "slice_setitem": lambda t, x: x[:, 1:].__setitem__(0, 3.0),
    "t_exp_": lambda t, x: x.t().exp_(),
}


@pytest.mark.parametrize("case", list(LEAF_INPLACE))
def test_in_place_on_leaf_or_view_of_leaf_raises(case):
    def fn(torch):
        x = torch.ones(2, 2, requires_grad=True)
        LEAF_INPLACE[case](torch, x)
    same_error(fn)


def test_in_place_on_leaf_allowed_under_no_grad_and_when_not_requiring_grad():
    def fn(torch):
        x = torch.ones(2, 2, requires_grad=True)
        with torch.no_grad():
            x.add_(1)
            x[0].mul_(3)
        y = torch.ones(2)
        y.add_(torch.tensor([1.0, 2.0]))
        return x, y
    same(fn)


def test_in_place_on_plain_tensor_with_grad_operand_makes_it_non_leaf():
    def fn(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        a = torch.zeros(2)
        a.add_(w * 2)
        b = torch.zeros(2, 2)
        b[0] = w
        (a.sum() + _weighted(torch, b)).backward()
        return a, b, w.grad
    same(fn)


# --- in-place on non-leaves ---------------------------------------------------------------------------------
def _xyz(torch):
    x = torch.tensor(W, requires_grad=True)
    z = torch.tensor([10.0, 20.0, 30.0], requires_grad=True)
    w = torch.tensor(0.5, requires_grad=True)
    return x, z, w


NON_LEAF_PATTERNS = {
    "setitem_row_then_scale_column": lambda t, y, z, w: (y.__setitem__(0, z), y[:, 1].__imul__(2)),
    "slice_mul_": lambda t, y, z, w: y[1:].mul_(2),
    "t_select_add_": lambda t, y, z, w: y.t()[0].add_(1),
    "view_setitem": lambda t, y, z, w: y.view(-1).__setitem__(2, w),
    "chained_views": lambda t, y, z, w: y[1:][:, :2].t()[1].mul_(w),
    "select_of_select": lambda t, y, z, w: y[2][1:].mul_(z[:2]),
    "whole_tensor_ops": lambda t, y, z, w: y.mul_(2).add_(z).div_(w),
    "iadd_self_view": lambda t, y, z, w: y[0].add_(y[1]),
    "exp_": lambda t, y, z, w: y.exp_(),
    "sigmoid_": lambda t, y, z, w: y.div_(10).sigmoid_(),
    "add_self": lambda t, y, z, w: y.add_(y),
    "pow_": lambda t, y, z, w: y[1:].pow_(2),
    "neg_and_sub_": lambda t, y, z, w: (y.neg_(), y[:, 0].sub_(z)),
    "clamp_": lambda t, y, z, w: y.clamp_(2.0, 7.0),
    "relu_": lambda t, y, z, w: y.sub_(5).relu_(),
    "copy_into_view": lambda t, y, z, w: y[:, 2].copy_(z * w),
    "fill_view": lambda t, y, z, w: y[1].fill_(w),
    "zero_view": lambda t, y, z, w: y[:, :1].zero_(),
    "masked_fill_": lambda t, y, z, w: y.masked_fill_(y > 4.5, 0.0),
    "advanced_setitem": lambda t, y, z, w: y.__setitem__(t.tensor([0, 2]), z[:3] * w),
    "mask_setitem": lambda t, y, z, w: y.__setitem__(y > 5, w),
    "unsqueeze_expand_like_view": lambda t, y, z, w: y.unsqueeze(0)[0, 1:, 1:].mul_(w),
    "two_views_both_modified": lambda t, y, z, w: (y[0].mul_(2), y[:, 0].add_(z)),
}


@pytest.mark.parametrize("case", list(NON_LEAF_PATTERNS))
def test_in_place_on_non_leaf_matches_pytorch_gradients(case):
    def fn(torch):
        x, z, w = _xyz(torch)
        y = x.clone()
        NON_LEAF_PATTERNS[case](torch, y, z, w)
        loss = _weighted(torch, y)
        loss.backward()
        return y, x.grad, z.grad, w.grad
    same(fn)


NON_LEAF_ERRORS = {
    "mul_by_itself": lambda t, y, z: y.mul_(y),          # MulBackward saved y, then y changed
    "sigmoid_then_mul_": lambda t, y, z: (y.sigmoid_(), y.mul_(z)),
    "exp_then_view_mul_": lambda t, y, z: (y.exp_(), y[0].mul_(2)),
}


@pytest.mark.parametrize("case", list(NON_LEAF_ERRORS))
def test_in_place_on_non_leaf_breaking_saved_value_raises(case):
    def fn(torch):
        x = torch.tensor(W, requires_grad=True)
        z = torch.tensor([10.0, 20.0, 30.0], requires_grad=True)
        y = x.clone()
        NON_LEAF_ERRORS[case](torch, y, z)
        _weighted(torch, y).backward()
    same_error(fn)


def test_in_place_on_view_then_use_view_and_base():
    def fn(torch):
        x, z, w = _xyz(torch)
        y = x * 2
        v = y[1]
        v.mul_(w)
        loss = _weighted(torch, v) + _weighted(torch, y) * 2
        loss.backward()
        return y, v, x.grad, w.grad
    same(fn, grad_fn=False)


def test_in_place_on_base_after_creating_view_then_use_view():
    def fn(torch):
        x, z, w = _xyz(torch)
        y = x * 1
        v = y[:, 1]
        y.mul_(w)
        y.add_(z)
        loss = _weighted(torch, v)
        loss.backward()
        return v, x.grad, z.grad, w.grad
    same(fn, grad_fn=False)


def test_in_place_on_one_view_then_use_another_view():
    def fn(torch):
        x, z, w = _xyz(torch)
        y = x * 1
        a = y[0]
        b = y[:, 0]
        a.mul_(w)
        loss = _weighted(torch, b)
        loss.backward()
        return a, b, x.grad, w.grad
    same(fn, grad_fn=False)


def test_view_requires_grad_after_base_gets_grad_in_place():
    def fn(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        y = torch.zeros(2, 2)
        v = y[1]
        before = v.requires_grad
        y[0] = w
        after = v.requires_grad
        (v.sum() + y.sum()).backward()
        return before, after, v.is_leaf, w.grad
    same(fn)


def test_in_place_on_view_saved_by_another_op_raises():
    def fn(torch):
        x = torch.tensor(W, requires_grad=True)
        y = x * 1
        v = y[0]
        z = v * v
        y.add_(1)
        z.sum().backward()
    import ember
    import torch
    from autograd_compare import outcome
    (t_type, t_msg), (e_type, e_msg) = outcome(fn, torch), outcome(fn, ember)
    assert t_type is e_type is RuntimeError
    assert e_msg == t_msg


def test_in_place_on_non_leaf_then_second_backward_through_old_history():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        s = y.sum()
        y.mul_(3)
        (s + y.sum()).backward()
        return x.grad
    same(fn)


def test_in_place_chain_with_double_backward():
    def fn(torch):
        x = torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64, requires_grad=True)
        y = x * x
        y[1:].mul_(x[:2])
        y.exp_()
        (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = torch.autograd.grad(g.sum(), x)
        return y, g, h
    same(fn, rtol=1e-7, atol=1e-9, grad_fn=False)


def test_in_place_grad_of_dtype_mixed_operand():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        d = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
        y = x * 1
        y.mul_(d)
        y.sum().backward()
        return y, x.grad, d.grad
    same(fn)


def test_in_place_result_type_cannot_be_cast_raises():
    def fn(torch):
        a = torch.ones(2, dtype=torch.int64)
        a.mul_(torch.tensor([1.5, 2.0]))
    same_error(fn)


def test_in_place_broadcast_shape_mismatch_raises():
    def fn(torch):
        a = torch.ones(2)
        a.add_(torch.ones(2, 2))
    same_error(fn)


# --- out= ------------------------------------------------------------------------------------------------
OUT_CALLS = {
    "add": lambda t, x: t.add(x, x, out=t.empty(2)),
    "mul": lambda t, x: t.mul(x, 2.0, out=t.empty(2)),
    "exp": lambda t, x: t.exp(x, out=t.empty(2)),
    "sum_dim": lambda t, x: t.sum(x, 0, out=t.empty(())),
    "matmul": lambda t, x: t.mm(x.view(1, 2), x.view(2, 1), out=t.empty(1, 1)),
}


@pytest.mark.parametrize("op", list(OUT_CALLS))
def test_out_with_input_requiring_grad_raises(op):
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        OUT_CALLS[op](torch, x)
    same_error(fn)


def test_out_with_out_requiring_grad_raises():
    def fn(torch):
        out = torch.empty(2, requires_grad=True)
        torch.add(torch.ones(2), torch.ones(2), out=out)
    same_error(fn)


def test_out_under_no_grad_is_allowed():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        out = torch.empty(2)
        with torch.no_grad():
            r = torch.mul(x, x, out=out)
        return r is out, out, out._version > 0
    same(fn)


# --- .numpy() ----------------------------------------------------------------------------------------------
def test_numpy_on_non_leaf_requiring_grad_raises():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).numpy()
    same_error(fn)


def test_numpy_on_detached_shares_memory():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        a = x.detach().numpy()
        a[0] = 7.0
        return x
    same(fn)


# --- functions returning several views (split, chunk, unbind) ---------------------------------------------------
MULTI_VIEW = {
    "split_sizes": lambda y: y.split([1, 2]),
    "split": lambda y: y.split(2),
    "chunk": lambda y: y.chunk(3),
    "unbind": lambda y: y.unbind(1),
}


@pytest.mark.parametrize("case", list(MULTI_VIEW))
def test_multi_view_outputs_gradients(case):
    def fn(torch):
        x = torch.arange(6.0).reshape(3, 2).requires_grad_()
        parts = MULTI_VIEW[case](x * 1)
        loss = sum((p * (i + 2)).sum() for i, p in enumerate(parts))
        loss.backward()
        return [p.detach() for p in parts], x.grad
    same(fn)


@pytest.mark.parametrize("case", list(MULTI_VIEW))
def test_multi_view_output_modified_in_place_raises(case):
    def fn(torch):
        x = torch.arange(6.0).reshape(3, 2).requires_grad_()
        MULTI_VIEW[case](x * 1)[0].mul_(2)
    same_error(fn)


# --- in-place on an expanded tensor (internal overlap) --------------------------------------------------------
EXPANDED_WRITES = {
    "add_": lambda t, y: y.add_(1),
    "mul_": lambda t, y: y.mul_(2),
    "exp_": lambda t, y: y.exp_(),
    "copy_": lambda t, y: y.copy_(t.ones(2, 3)),
    "setitem": lambda t, y: y.__setitem__(0, 1.0),
}


@pytest.mark.parametrize("case", list(EXPANDED_WRITES))
def test_in_place_on_expanded_tensor_raises(case):
    def fn(torch):
        x = torch.ones(2, 1, requires_grad=True)
        EXPANDED_WRITES[case](torch, (x * 1).expand(2, 3))
    same_error(fn)


# --- requires_grad_ on views ------------------------------------------------------------------------------
def test_requires_grad_on_a_view_of_a_plain_tensor():
    def fn(torch):
        x = torch.ones(3)
        v = x[:2]
        v.requires_grad_()
        w = v[:1]
        (v * 2).sum().backward()
        return v.requires_grad, v.is_leaf, x.requires_grad, w.requires_grad, v.grad, x.grad
    same(fn)


VIEW_REQUIRES_GRAD_ERRORS = {
    "view made a leaf then written": lambda torch: torch.ones(3)[:2].requires_grad_().mul_(2),
    "view of a leaf set False": lambda torch: torch.ones(3, requires_grad=True)[:2].requires_grad_(False),
    "view of an int tensor": lambda torch: torch.arange(3)[:2].requires_grad_(),
}


@pytest.mark.parametrize("case", list(VIEW_REQUIRES_GRAD_ERRORS))
def test_requires_grad_on_views_errors(case):
    same_error(VIEW_REQUIRES_GRAD_ERRORS[case])
