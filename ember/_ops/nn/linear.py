"""The primitive behind torch.nn.functional.linear with a bias: y = x @ W^T + b as one op, as PyTorch's
addmm is. A Linear layer is then one node of the graph: forward is one matrix product with the bias added
in place, backward two products and a sum (composed of the matmul and linear ops there, so it is
differentiable again). float16/bfloat16 are computed in float32 and rounded once, as addmm's kernel does.
Other cases (no bias, complex, a non-contiguous batched input, bad shapes) are composed of matmul and add
by F.linear, which also gives PyTorch's errors."""
import math

from ...autograd.function import Primitive
from .._registry import OpSpec, spec


class Linear(Primitive):
    """input (2-D) @ weight_t + bias, where weight_t is the layer's weight.t(): PyTorch's addmm(bias, input,
    weight.t()), whose saved mat2 is that transposed view (so an in-place write to the weight is caught by
    the version check, and named, as PyTorch's is)."""
    batch_rule = ("linear",)
    inputs = 3
    node_name = "AddmmBackward0"
    upcast = True  # NOTE: product and bias sum round to float16/bfloat16 once, not twice

    @staticmethod
    def forward(ctx, x, wt, b):
        need = ctx.needs_input_grad  # NOTE: each factor is saved only for the other's gradient
        ctx.save_for_backward(x if need[1] else None, wt if need[0] else None)
        ctx.shape = x.shape
        out = ctx.xp.matmul(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), wt)
        out += b  # NOTE: into the product's own new array: no second output array
        return out.reshape(x.shape[:-1] + (wt.shape[1],))

    @staticmethod
    def backward(ctx, g):
        x, wt = ctx.saved_tensors
        need = ctx.needs_input_grad
        batched = len(ctx.shape) != 2
        if batched:
            rows = math.prod(ctx.shape[:-1])
            g = g.reshape(rows, g.shape[-1])
            x = x.reshape(rows, ctx.shape[-1]) if x is not None else None
        gx = g.mm(wt.t()) if need[0] else None
        gw = x.t().mm(g) if need[1] else None
        gb = g.sum(0) if need[2] else None
        return (gx.reshape(ctx.shape) if batched and gx is not None else gx), gw, gb

    @staticmethod
    def jvp(ctx, tx, twt, tb):
        x, wt, b = ctx.inputs
        terms = [None if tx is None else tx.matmul(wt), None if twt is None else x.matmul(twt), tb]
        total = None
        for t in terms:
            if t is not None:
                total = t if total is None else total + t
        return total


class LinearBatched(Linear):
    """input (1-D, or 3-D and more, contiguous) @ weight_t + bias: PyTorch views the input as a matrix for
    one addmm and views the result back, so its output's grad_fn is a ViewBackward0."""
    node_name = "ViewBackward0"


def linear_primitive(input, weight, bias):
    """The primitive that computes F.linear(input, weight, bias) as PyTorch's addmm does (applied to input,
    weight.t() and bias), or None where the composed form is PyTorch's (or gives its errors)."""
    x = input._data
    w = weight._data
    b = bias._data
    if not (w.ndim == 2 and b.ndim == 1 and x.ndim >= 1 and x.shape[-1] == w.shape[1] and b.shape[0] == w.shape[0]):
        return None
    dt = input._dtype
    if weight._dtype is not dt or bias._dtype is not dt or not dt.is_floating_point:
        return None
    if x.ndim == 2:
        return Linear
    return LinearBatched if input.is_contiguous() else None


def _linear_sample(g):
    batch = g.shape(min_dims=1, max_dims=3)
    n_in, n_out = g.integers(0, 4), g.integers(1, 4)
    return [g.values(batch + (n_in,)), g.values((n_out, n_in)), g.values((n_out,))], {}


spec(OpSpec("nn.functional.linear", sample=_linear_sample,
            call=lambda torch, x, w, b: torch.nn.functional.linear(x, w, b)))
