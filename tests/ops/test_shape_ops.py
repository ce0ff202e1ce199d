"""Shape, joining and indexing ops: what the generic spec test cannot express (error types and messages,
views vs copies and their strides, gradients at ties and zeros, in-place variants), each against PyTorch."""
import os
import sys
import warnings

import pytest

import ember

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "core"))
from _core_helpers import same  # noqa: E402


def grid(t, *shape, dtype="float32"):
    """arange(numel) in `shape`: every element distinct."""
    n = 1
    for s in shape:
        n *= s
    return t.arange(n).to(getattr(t, dtype)).reshape(shape)


def leaf(t, *shape):
    return grid(t, *shape, dtype="float64").requires_grad_()


# --- bad input: PyTorch's exception types and messages ---------------------------------------------------
ERRORS = {
    "cat_shapes": lambda t: t.cat([t.zeros(2, 3), t.zeros(3, 3)], 1),
    "cat_ndims": lambda t: t.cat([t.zeros(2, 3), t.zeros(3)], 1),
    "cat_none": lambda t: t.cat([]),
    "cat_0d": lambda t: t.cat([t.zeros(2), t.zeros(())]),
    "cat_dim": lambda t: t.cat([t.zeros(2, 3), t.zeros(2, 3)], 5),
    "cat_not_list": lambda t: t.cat(t.zeros(2, 3)),
    "stack_shapes": lambda t: t.stack([t.zeros(2, 3), t.zeros(3, 3)]),
    "stack_none": lambda t: t.stack([]),
    "stack_dim": lambda t: t.stack([t.zeros(2, 3), t.zeros(2, 3)], -4),
    "hstack_none": lambda t: t.hstack([]),
    "sum_dim": lambda t: t.zeros(2, 3).flip(5),
    "transpose_dim": lambda t: t.zeros(2, 3).transpose(0, 5),
    "roll_dim": lambda t: t.zeros(2, 3).roll(1, 5),
    "roll_align": lambda t: t.zeros(2, 3).roll((1, 2)),
    "roll_align_dims": lambda t: t.zeros(2, 3).roll((1, 2), 0),
    "flip_int": lambda t: t.flip(t.zeros(2, 3), 0),
    "flip_repeat": lambda t: t.zeros(2, 3).flip(0, 0),
    "fliplr_1d": lambda t: t.zeros(3).fliplr(),
    "flipud_0d": lambda t: t.zeros(()).flipud(),
    "gather_high": lambda t: t.zeros(2, 3).gather(1, t.tensor([[5]])),
    "gather_negative": lambda t: t.zeros(2, 3).gather(1, t.tensor([[-1]])),
    "gather_float": lambda t: t.zeros(2, 3).gather(1, t.tensor([[0.0]])),
    "gather_ndim": lambda t: t.zeros(2, 3).gather(1, t.tensor([0])),
    "gather_size": lambda t: t.zeros(2, 3).gather(1, t.tensor([[0], [1], [2]])),
    "index_select_high": lambda t: t.zeros(2, 3).index_select(1, t.tensor([5])),
    "index_select_negative": lambda t: t.zeros(2, 3).index_select(1, t.tensor([-1])),
    "index_select_dim0": lambda t: t.zeros(2, 3).index_select(0, t.tensor([2])),
    "index_select_first_bad": lambda t: t.zeros(2, 3, 4).index_select(1, t.tensor([0, 7, -1])),
    "index_select_float": lambda t: t.zeros(2, 3).index_select(1, t.tensor([0.0])),
    "index_select_2d": lambda t: t.zeros(2, 3).index_select(1, t.tensor([[0]])),
    "view_noncontiguous": lambda t: t.zeros(2, 3).t().view(6),
    "repeat_few": lambda t: t.zeros(2, 3).repeat(2),
    "repeat_none": lambda t: t.zeros(2, 3).repeat(),
    "repeat_negative": lambda t: t.zeros(2, 3).repeat(-1, 2),
    "narrow_past_end": lambda t: t.zeros(2, 3).narrow(1, 2, 2),
    "narrow_start": lambda t: t.zeros(2, 3).narrow(1, 4, 0),
    "scatter_high": lambda t: t.zeros(2, 3).scatter(1, t.tensor([[5]]), t.ones(1, 1)),
    "scatter_float": lambda t: t.zeros(2, 3).scatter(1, t.tensor([[0.0]]), t.ones(1, 1)),
    "scatter_dtype": lambda t: t.zeros(2, 3).scatter(1, t.tensor([[0]]), t.ones(1, 1, dtype=t.float64)),
    "scatter_small_src": lambda t: t.zeros(2, 3).scatter(1, t.tensor([[0, 1]]), t.ones(1, 1)),
    "scatter_reduce_name": lambda t: t.zeros(2, 3).scatter(1, t.tensor([[0]]), t.ones(1, 1), reduce="sum"),
    "scatter_add_dtype": lambda t: t.zeros(2, 3).scatter_add(1, t.tensor([[0]]), t.ones(1, 1, dtype=t.float64)),
    "scatter_reduce_bad": lambda t: t.zeros(2, 3).scatter_reduce(1, t.tensor([[0]]), t.ones(1, 1), "foo"),
    "index_add_high": lambda t: t.zeros(2, 3).index_add(1, t.tensor([5]), t.ones(2, 1)),
    "index_add_count": lambda t: t.zeros(2, 3).index_add(1, t.tensor([0]), t.ones(2, 2)),
    "index_add_float": lambda t: t.zeros(2, 3).index_add(1, t.tensor([0.0]), t.ones(2, 1)),
    "index_add_dtype": lambda t: t.zeros(2, 3).index_add(1, t.tensor([0]), t.ones(2, 1, dtype=t.float64)),
    "index_add_2d": lambda t: t.zeros(2, 3).index_add(1, t.tensor([[0]]), t.ones(2, 1)),
    "index_copy_high": lambda t: t.zeros(2, 3).index_copy(1, t.tensor([5]), t.ones(2, 1)),
    "index_copy_count": lambda t: t.zeros(2, 3).index_copy(1, t.tensor([0]), t.ones(2, 2)),
    "index_fill_1d_value": lambda t: t.zeros(2, 3).index_fill(1, t.tensor([0]), t.tensor([7.0])),
    "index_fill_high": lambda t: t.zeros(2, 3).index_fill(1, t.tensor([5]), 1),
    "masked_scatter_short": lambda t: t.zeros(2, 3).masked_scatter(t.tensor([True, False, True]), t.arange(3.0)),
    "masked_scatter_mask": lambda t: t.zeros(2, 3).masked_scatter(t.tensor([1, 0, 1]), t.arange(10.0)),
    "masked_scatter_dtype": lambda t: t.zeros(2, 3).masked_scatter(t.tensor([True, False, True]),
                                                                 t.arange(10.0).double()),
    "masked_fill_1d_value": lambda t: t.zeros(2, 3).masked_fill(t.tensor([True, False, True]), t.tensor([1.0])),
    "take_high": lambda t: t.zeros(2, 3).take(t.tensor([6])),
    "take_float": lambda t: t.zeros(2, 3).take(t.tensor([6.0])),
    "take_along_ndim": lambda t: t.zeros(2, 3).take_along_dim(t.tensor([[[0]]]), 1),
    "take_along_broadcast": lambda t: t.zeros(2, 3).take_along_dim(t.tensor([[0, 1, 1, 1]]), 0),
    "take_along_noncontiguous": lambda t: t.zeros(2, 3).t().take_along_dim(t.tensor([0, 1])),
    "rot90_dims": lambda t: t.zeros(3, 4).rot90(1, [0]),
    "rot90_same": lambda t: t.zeros(3, 4).rot90(1, [0, 0]),
    "rot90_1d": lambda t: t.zeros(3).rot90(),
    "diag_3d": lambda t: t.zeros(3, 3, 3).diag(),
    "diagonal_same": lambda t: t.zeros(3, 4).diagonal(0, 0, 0),
    "trace_1d": lambda t: t.zeros(3).trace(),
    "tril_1d": lambda t: t.zeros(3).tril(),
    "triu_1d": lambda t: t.zeros(3).triu(),
    "unfold_size": lambda t: t.zeros(2, 3).unfold(1, 4, 1),
    "unfold_step": lambda t: t.zeros(2, 3).unfold(1, 2, 0),
    "as_strided_bounds": lambda t: t.arange(6.0).as_strided((2, 2), (1, 2), 10),
    "meshgrid_2d": lambda t: t.meshgrid(t.zeros(3), t.zeros(2, 2), indexing="ij"),
    "meshgrid_dtype": lambda t: t.meshgrid(t.zeros(3), t.zeros(2, dtype=t.int64), indexing="ij"),
    "meshgrid_indexing": lambda t: t.meshgrid(t.zeros(3), indexing="foo"),
    "meshgrid_none": lambda t: t.meshgrid(),
    "tensor_split_float": lambda t: t.tensor_split(t.zeros(7), t.tensor([3.0])),
    "tensor_split_2d": lambda t: t.tensor_split(t.zeros(7), t.tensor([[3]])),
    "squeeze_repeat": lambda t: t.zeros(2, 3, 1, 1).squeeze((0, 0)),
    "t_leaf": lambda t: t.zeros(2, 3, requires_grad=True).t_(),
    "expand_shrink": lambda t: t.zeros(2, 3).expand(3, 3),
    "broadcast_tensors": lambda t: t.broadcast_tensors(t.zeros(2, 3), t.zeros(4)),
    "repeat_interleave_size": lambda t: t.zeros(2, 3).repeat_interleave(t.tensor([1, 2]), dim=1),
}


# NOTE: PyTorch prints the offending tensor in C++'s format here; only the message's start is compared.
MESSAGE_STARTS = {"meshgrid_2d": "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got:"}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_input_raises_as_torch(name):
    torch_out, _ = same(ERRORS[name], messages=MESSAGE_STARTS.get(name, True))
    assert type(torch_out).__name__ == "Raised", "this case should be an error in PyTorch"


@pytest.mark.parametrize("name", ["cat_dim", "stack_dim", "sum_dim", "transpose_dim"])
def test_out_of_range_dim_message(name):
    torch_out, ember_out = same(ERRORS[name])
    assert ember_out.type is IndexError
    assert "Dimension out of range (expected to be in range of [" in ember_out.message


def test_cat_mismatch_names_both_sizes():
    _, ours = same(ERRORS["cat_shapes"])
    assert ours.message == ("Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for "
                            "tensor number 1 in the list.")


# --- views where PyTorch gives views; copies elsewhere -------------------------------------------------------
VIEWS = {
    "diagonal": lambda x: x.diagonal(1, 0, 2),
    "diagonal_neg": lambda x: x.diagonal(-1, -1, 1),
    "unfold": lambda x: x.unfold(2, 2, 1),
    "as_strided": lambda x: x.as_strided((3, 2), (1, 4), 2),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "select": lambda x: x.select(2, -1),
    "split": lambda x: x.split(2, dim=2)[1],
    "chunk": lambda x: x.chunk(2, 1)[0],
    "tensor_split": lambda x: x.tensor_split([1, 3], dim=2)[1],
    "unbind": lambda x: x.unbind(1)[2],
    "movedim": lambda x: x.movedim(0, -1),
    "swapaxes": lambda x: x.swapaxes(0, 2),
    "swapdims": lambda x: x.swapdims(1, 2),
    "moveaxis": lambda x: x.moveaxis((0, 1), (2, 0)),
    "expand": lambda x: x[:, :1].expand(2, 3, 4),
    "broadcast_to": lambda x: x[:1].broadcast_to((2, 3, 4)),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "flatten": lambda x: x.flatten(1),
    "squeeze_tuple": lambda x: x[:1, :, :1].squeeze((0, 2)),
    "atleast_3d": lambda x: x[0, 0].atleast_3d(),
    "atleast_2d": lambda x: x[0, 0].atleast_2d(),
    "view": lambda x: x.view(6, 4),
    "ravel": lambda x: x.ravel(),
    "permute": lambda x: x.permute(2, 0, 1),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_ops_share_memory_with_torch_strides(name):
    fn = VIEWS[name]

    def check(t):
        x = grid(t, 2, 3, 4)
        v = fn(x)
        layout = (tuple(v.shape), v.stride(), v.storage_offset(), v.is_contiguous(), v._base is x)
        x.add_(100)  # the view sees writes to its base
        return layout, v.clone()
    same(check)


COPIES = {
    "flip": lambda x: x.flip(0),
    "roll": lambda x: x.roll(1, 2),
    "rot90": lambda x: x.rot90(1, (1, 2)),
    "repeat": lambda x: x.repeat(1, 1, 1),
    "tile": lambda x: x.tile((1,)),
    "cat": lambda x: ember_or_torch(x).cat([x]),
    "diag": lambda x: x[0].diag(),
    "tril": lambda x: x.tril(),
    "take": lambda x: x.take(ember_or_torch(x).tensor([0, 5])),
    "index_select": lambda x: x.index_select(1, ember_or_torch(x).tensor([0, 1, 2])),
    "repeat_interleave": lambda x: x.repeat_interleave(1, dim=0),
    "masked_select": lambda x: x.masked_select(x > -1),
    "gather": lambda x: x.gather(2, ember_or_torch(x).zeros(2, 3, 1, dtype=ember_or_torch(x).long)),
}


def ember_or_torch(x):
    import torch
    return torch if isinstance(x, torch.Tensor) else ember


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_ops_do_not_alias(name):
    def check(t):
        x = grid(t, 2, 3, 4)
        y = COPIES[name](x)
        before = y.clone()
        x.add_(100)
        return bool((y == before).all()), tuple(y.shape), y.stride()
    same(check)


def test_flip_keeps_a_transposed_layout():
    same(lambda t: t.flip(grid(t, 2, 3).t(), [0]), strides=True)


def test_as_strided_counts_from_the_storage_start():
    same(lambda t: (t.arange(6.0)[1:].as_strided((2, 2), (1, 2)),
                    t.arange(6.0)[1:].as_strided((2, 2), (1, 2), 0),
                    t.as_strided(t.arange(6.0), (2, 2), (1, 2), 1)), strides=True)


def test_cat_skips_legacy_empty_and_promotes():
    same(lambda t: (t.cat([grid(t, 2, 3), t.zeros(0)], 1), t.cat([t.zeros(0), t.zeros(0)]),
                    t.cat([grid(t, 2, dtype="int32"), grid(t, 2, dtype="int64")]),
                    t.cat([grid(t, 2, dtype="bool"), grid(t, 2, dtype="uint8")]),
                    t.cat((grid(t, 2, 3),), dim=-1), t.concat([grid(t, 2)], axis=0),
                    t.concatenate([grid(t, 2), grid(t, 1)], axis=0)), strides=True)


def test_stacks_of_low_dim_tensors():
    same(lambda t: (t.stack([t.tensor(1.0), t.tensor(2.0)]), t.hstack([t.tensor(1.0), t.tensor(2.0)]),
                    t.vstack([grid(t, 3), grid(t, 3)]), t.row_stack([grid(t, 3), grid(t, 3)]),
                    t.dstack([grid(t, 3), grid(t, 3)]), t.column_stack([grid(t, 3), grid(t, 3, 2)]),
                    t.column_stack([t.tensor(1.0), grid(t, 1, 2)]),
                    t.stack([grid(t, 2, 3), grid(t, 2, 3)], axis=1)), strides=True)


def test_atleast_forms():
    same(lambda t: (t.atleast_1d(grid(t, 3)), t.atleast_1d(grid(t, 3), grid(t, 2)),
                    t.atleast_1d([grid(t, 3), t.tensor(2.0)]), t.atleast_1d((grid(t, 3),)),
                    t.atleast_3d(grid(t, 2, 3, 4, 5)), t.atleast_3d(t.tensor(1.0))), strides=True)
    x = ember.zeros(3)
    assert ember.atleast_1d(x) is x


def test_meshgrid_views_and_default_indexing_warning():
    same(lambda t: [(g.stride(), g.shape) for g in t.meshgrid(grid(t, 3), grid(t, 2), grid(t, 4), indexing="xy")])
    same(lambda t: t.meshgrid([grid(t, 3), t.tensor(5.0)], indexing="ij"), strides=True)
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        ember.meshgrid(ember.zeros(2), ember.zeros(3))


def test_tensor_split_forms():
    same(lambda t: ([p.shape for p in t.tensor_split(t.zeros(7), t.tensor([2, 5]))],
                    [p.shape for p in t.tensor_split(t.zeros(7), t.tensor(3))],
                    [p.shape for p in t.tensor_split(t.zeros(7), [5, 2])],
                    [p.shape for p in t.tensor_split(t.zeros(7), [-2, 9])]))


def test_repeat_interleave_forms():
    same(lambda t: (t.repeat_interleave(t.tensor([2, 0, 1])), grid(t, 2, 2).repeat_interleave(2),
                    grid(t, 2, 3).repeat_interleave(t.tensor([1, 0, 2]), dim=1),
                    t.tensor(3.0).repeat_interleave(2)))


def test_diag_forms_and_indices():
    same(lambda t: (t.diag(grid(t, 3), 1), t.diag(grid(t, 3, 4), -1), t.diagflat(grid(t, 2, 2), -1),
                    t.diag_embed(grid(t, 2, 3), 1, 0, 2), t.trace(grid(t, 3, 3, dtype="int32")),
                    t.tril_indices(3, 4, 1), t.triu_indices(4, 3, -1), t.tril_indices(0, 3),
                    t.triu_indices(3, 3, dtype=t.int32)), strides=True)


def test_tril_triu_keep_infinities_out_of_the_zero_side():
    same(lambda t: (t.tensor([[1.0, float("inf")], [float("nan"), 2.0]]).tril(),
                    t.tensor([[1.0, float("inf")], [float("nan"), 2.0]]).triu()))


# --- gradients at ties, zeros, repeats and boundaries ----------------------------------------------------------
def grads(fn):
    """Run fn on float64 leaves in both libraries; compare outputs and gradients."""
    def run(t):
        x = leaf(t, 2, 3)
        y = fn(t, x)
        y.backward(t.ones_like(y) * grid(t, *y.shape, dtype="float64").add(1))
        return y.detach(), x.grad
    same(run, exact=False)


GRADS = {
    "scatter_reduce_amax_ties": lambda t, x: (x * 0 + 1).scatter_reduce(
        1, t.tensor([[0, 0, 1], [2, 2, 2]]), t.ones(2, 3, dtype=t.float64), "amax"),
    "scatter_reduce_amin_ties_src": lambda t, x: t.zeros(2, 3, dtype=t.float64).scatter_reduce(
        1, t.tensor([[0, 0, 0], [1, 1, 2]]), x * 0 + 2, "amin", include_self=False),
    "scatter_reduce_prod_zero": lambda t, x: (x + 1).scatter_reduce(
        1, t.tensor([[0, 0, 0], [1, 1, 2]]), x * t.tensor([[0.0, 1, 1], [0, 0, 1]], dtype=t.float64), "prod"),
    "scatter_reduce_prod_no_self": lambda t, x: x.scatter_reduce(
        1, t.tensor([[0, 0, 0], [1, 1, 2]]), x - 1, "prod", include_self=False),
    "scatter_reduce_mean": lambda t, x: x.scatter_reduce(1, t.tensor([[0, 0, 2]]), x[:1] * 3, "mean"),
    "index_put_accumulate_repeats": lambda t, x: x.index_put((t.tensor([0, 0, 1]),), x[:, :1].repeat(1, 3)[0],
                                                              accumulate=True),
    "index_put_repeats_once": lambda t, x: x.index_put((t.tensor([0, 1]), t.tensor([2, 2])), x[0, :2] * 5),
    "index_add_repeats": lambda t, x: x.index_add(1, t.tensor([0, 0, 2]), x * 2, alpha=-0.5),
    "index_fill_value_tensor": lambda t, x: x.index_fill(1, t.tensor([0, 0]), x.sum()),
    "masked_scatter": lambda t, x: x.masked_scatter(t.tensor([True, False, True]), x.flip(0) * 2),
    "masked_fill_value_tensor": lambda t, x: x.masked_fill(t.tensor([True, False, True]), x[0, 0]),
    "cat_with_legacy_empty": lambda t, x: t.cat([x, t.zeros(0, dtype=t.float64, requires_grad=True)]),
    "repeat": lambda t, x: x.repeat(2, 1, 2),
    "tile_short": lambda t, x: x.tile((2,)),
    "unfold_overlapping": lambda t, x: x.unfold(1, 2, 1),
    "as_strided_overlapping": lambda t, x: x.as_strided((2, 2), (1, 1), 1),
    "diagonal_offset": lambda t, x: x.diagonal(1),
    "diag_embed": lambda t, x: t.diag_embed(x, -1),
    "rot90": lambda t, x: x.rot90(3),
    "roll_flat": lambda t, x: x.roll(4),
    "take_negative": lambda t, x: x.take(t.tensor([[-1, 0], [5, -1]])),
    "take_along_dim": lambda t, x: x.take_along_dim(t.tensor([[2], [0]]), 1),
    "gather_repeats": lambda t, x: x.gather(1, t.tensor([[0, 0], [2, 2]])),
    "meshgrid": lambda t, x: t.meshgrid(x[0], x[1, :2], indexing="xy")[0],
    "broadcast_tensors": lambda t, x: t.broadcast_tensors(x[:, None, :], x)[0],
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradients_match_torch(name):
    grads(GRADS[name])


def test_scatter_with_reduce_has_no_derivative():
    def run(t):
        x = leaf(t, 2, 3)
        y = x.scatter(1, t.tensor([[0]]), x[:, :1], reduce="add")
        y.sum().backward()
    same(run)


@pytest.mark.parametrize("name", ["diagonal", "unfold", "as_strided", "diag_embed", "scatter_reduce_prod"])
def test_second_derivatives(name):
    fns = {
        "diagonal": lambda x: (x.diagonal(1) ** 2).sum(),
        "unfold": lambda x: (x.unfold(1, 2, 1) ** 3).sum(),
        "as_strided": lambda x: (x.as_strided((2, 2), (1, 2), 1) ** 3).sum(),
        "diag_embed": lambda x: (ember_or_torch(x).diag_embed(x) ** 3).sum(),
        "scatter_reduce_prod": lambda x: x.scatter_reduce(1, ember_or_torch(x).tensor([[0, 0, 1], [1, 1, 1]]), x,
                                                          "prod").sum(),
    }

    def run(t):
        x = leaf(t, 2, 3).add(0.5).detach().requires_grad_()
        (g,) = t.autograd.grad(fns[name](x), x, create_graph=True)
        (gg,) = t.autograd.grad(g.sum(), x)
        return g.detach(), gg
    same(run, exact=False)


# --- in-place variants, on views too ---------------------------------------------------------------------------
INPLACE = {
    "index_add_": lambda t, y, w: y.index_add_(0, t.tensor([1, 1]), w[:2]),
    "index_copy_": lambda t, y, w: y.index_copy_(1, t.tensor([2, 0]), w[:2, :2]),
    "index_fill_": lambda t, y, w: y.index_fill_(1, t.tensor([1]), -1.0),
    "index_fill_tensor_": lambda t, y, w: y.index_fill_(1, t.tensor([1]), w[0, 0]),
    "scatter_": lambda t, y, w: y.scatter_(1, t.tensor([[1], [0]]), w[:2, 2:]),
    "scatter_value_": lambda t, y, w: y.scatter_(1, t.tensor([[1], [0]]), 4.0),
    "scatter_add_": lambda t, y, w: y.scatter_add_(0, t.tensor([[1, 1, 0]]), w[:1]),
    "scatter_reduce_": lambda t, y, w: y.scatter_reduce_(1, t.tensor([[0, 0], [1, 1]]), w[:2, 1:], "amax"),
    "masked_scatter_": lambda t, y, w: y.masked_scatter_(t.tensor([False, True, True]), w),
    "masked_fill_": lambda t, y, w: y.masked_fill_(t.tensor([False, True, True]), w[1, 1]),
    "index_put_": lambda t, y, w: y.index_put_((t.tensor([0, 0]), t.tensor([1, 1])), w[0, :2], accumulate=True),
    "tril_": lambda t, y, w: y.tril_(),
    "triu_": lambda t, y, w: y.triu_(1),
    "t_": lambda t, y, w: y.t_(),
    "transpose_": lambda t, y, w: y.transpose_(0, 1),
    "swapaxes_": lambda t, y, w: y.swapaxes_(1, 0),
    "unsqueeze_": lambda t, y, w: y.unsqueeze_(1),
    "squeeze_": lambda t, y, w: y.unsqueeze_(0).squeeze_(0),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
@pytest.mark.parametrize("on_view", [False, True], ids=["tensor", "view"])
def test_inplace_variants_rebase_the_graph(name, on_view):
    def run(t):
        x = leaf(t, 4, 3)
        base = x * 1
        w = x.flip(0) * 2 + 1
        y = base[1:3] if on_view else base[1:3].clone()
        out = INPLACE[name](t, y, w)
        assert out is y
        total = (base * grid(t, 4, 3, dtype="float64")).sum() + (y * y).sum()
        total.backward()
        return base.detach(), y.detach(), x.grad, y._version > 0
    same(run, exact=False)


def test_view_op_in_place_keeps_base_and_strides():
    def run(t):
        z = t.zeros(2, 3, 1)
        v = z[0]
        v.squeeze_()
        w = grid(t, 2, 3)
        w.t_()
        return v.shape, v.stride(), v._base is z, w.shape, w.stride(), w._base is None
    same(run)


def test_index_put_accumulate_adds_repeats_and_plain_put_keeps_one():
    same(lambda t: (t.zeros(3).index_put((t.tensor([0, 0, 2]),), t.tensor([1.0, 2.0, 3.0]), accumulate=True),
                    t.zeros(3).index_put_((t.tensor([1, 1]),), t.tensor(5.0), accumulate=True)))


def test_masked_fill_function_and_value_dtype():
    same(lambda t: (t.masked_fill(t.zeros(2, 3), t.tensor([True, False, True]), 2),
                    t.zeros(2, 3).masked_fill(t.tensor([True, False, True]), t.tensor(1.0, dtype=t.float64))))


def test_gather_and_scatter_on_0d_and_empty():
    same(lambda t: (t.tensor(3.0).gather(0, t.tensor(0)), t.zeros(()).scatter(0, t.tensor(0), t.ones(())),
                    grid(t, 2, 3).gather(0, t.zeros(0, 3, dtype=t.long)),
                    t.zeros(2, 3).gather(1, t.tensor([[0]], dtype=t.int32))))


def test_scatter_reduce_integer_mean_floors():
    same(lambda t: t.tensor([[0, 5, -3]]).scatter_reduce(1, t.tensor([[0, 0, 2, 2]]), t.tensor([[1, 1, -2, 0]]),
                                                         "mean"))


def test_unfold_of_0d_and_transposed():
    same(lambda t: (t.tensor(2.0).unfold(0, 1, 1), grid(t, 2, 3).t().unfold(0, 2, 1)), strides=True)


def test_no_warnings_from_plain_shape_ops():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = ember.zeros(2, 3)
        ember.cat([x, x]), ember.stack([x, x]), x.flip(0), x.roll(1), x.repeat(2, 1), x.diagonal(), x.unfold(1, 2, 1)
