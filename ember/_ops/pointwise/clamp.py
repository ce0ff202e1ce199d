"""clamp / clip (scalar or tensor bounds, either one optional), clamp_min and clamp_max."""
from ..._tensor import Tensor
from ...autograd.function import Primitive
from .._registry import OpSpec, apply_inplace, bind, bind_method, public, register, spec, write_out


@register(OpSpec("clamp", kwargs=({"min": -1.0, "max": 1.0}, {"min": 0.0}, {"max": 0.5}),
                 nondiff_points=(-1.0, 1.0, 0.0, 0.5)),
          OpSpec("clamp", arity=3, shapes="ternary"))
class Clamp(Primitive):
    """Limit values to [min, max]; the gradient passes at the bounds themselves."""
    promote = "promote"
    inputs = 3
    node_name = "ClampBackward1"

    @staticmethod
    def check(x, min=None, max=None):
        from ..._creation import check_number_operand
        check_number_operand(x, min)  # NOTE: PyTorch's overflow error for clamp(uint8, 0, 300)
        check_number_operand(x, max)

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        xp = ctx.xp
        y = x
        if min is not None:
            y = xp.maximum(y, min)
        if max is not None:
            y = xp.minimum(y, max)
        ctx.save_for_backward(x, min, max)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        inside = g_lo = g_hi = None
        if lo is not None:
            inside = x >= lo
            if ctx.needs_input_grad[1]:
                g_lo = _where(g, (x < lo) if hi is None else (x < lo) & (lo <= hi))
        if hi is not None:
            below = x <= hi
            inside = below if inside is None else inside & below
            if ctx.needs_input_grad[2]:
                # NOTE: with min > max the result is max, whatever x is.
                g_hi = _where(g, (x if lo is None else x.maximum(lo)) > hi)
        return _where(g, inside), g_lo, g_hi


def _where(g, mask):
    """g where mask holds, 0 elsewhere: a selection, not a product, so an inf or nan in g where the mask is
    false gives 0 (as PyTorch's clamp_backward) rather than nan."""
    return g.masked_fill(~mask, 0)


class ClampTensor(Clamp):
    node_name = "ClampBackward0"


class ClampMin(Clamp):
    node_name = "ClampMinBackward0"


class ClampMax(Clamp):
    node_name = "ClampMaxBackward0"


def _clamp_class(min, max):
    # NOTE: PyTorch names the node by overload: ClampBackward0 for tensor bounds, ClampBackward1 for numbers.
    return ClampTensor if isinstance(min, Tensor) or isinstance(max, Tensor) else Clamp


spec(OpSpec("clamp_min", kwargs=({"min": 0.5},)), OpSpec("clamp_max", kwargs=({"max": -0.5},)))


@public(method=True)
def clamp_min(input, min):
    """max(input, min)."""
    return ClampMin.apply(input, min, None)


@public(method=True)
def clamp_max(input, max):
    """min(input, max)."""
    return ClampMax.apply(input, None, max)


def _clamp_min_(self, min):
    return apply_inplace(ClampMin, self, min, None)


def _clamp_max_(self, max):
    return apply_inplace(ClampMax, self, None, max)


bind("clamp_min_", _clamp_min_, method=True)
bind("clamp_max_", _clamp_max_, method=True)


@public
def clamp(input, min=None, max=None, *, out=None):
    """Limit values to [min, max]."""
    result = _clamp_class(min, max).apply(input, min, max)
    return result if out is None else write_out(out, result, "clamp")


def _clamp_method(self, min=None, max=None):
    return _clamp_class(min, max).apply(self, min, max)


def _clamp_inplace(self, min=None, max=None):
    return apply_inplace(_clamp_class(min, max), self, min, max)


bind_method("clamp", _clamp_method)
bind_method("clip", _clamp_method)
bind("clip", clamp)
bind("clamp_", _clamp_inplace, method=True)
bind("clip_", _clamp_inplace, method=True)


def _tensor_bound_sample(g):
    """x and one tensor bound that broadcasts against it."""
    shape = g.shape(min_dims=1)
    x = g.values(shape)
    bound = g.values(shape[g.integers(0, len(shape)):], domain=(-1, 1))
    return [x, bound], {}


spec(OpSpec("clamp", sample=_tensor_bound_sample, call=lambda torch, x, lo: torch.clamp(x, min=lo)),
     OpSpec("clamp", sample=_tensor_bound_sample, call=lambda torch, x, hi: torch.clamp(x, max=hi)),
     OpSpec("clamp", dtypes=("int64",), grad=False, kwargs=({"min": -1, "max": 2}, {"min": 0.5})),
     OpSpec("clip", kwargs=({"min": -1.0, "max": 1.0}, {"max": 0.5})),
     OpSpec("clip", arity=3, shapes="ternary"),
     OpSpec("clamp_", dtypes=("float32",), kwargs=({"min": -1.0, "max": 1.0}, {"min": 0.0}),
            call=lambda torch, x, **kw: x.clone().clamp_(**kw)),
     OpSpec("clip_", dtypes=("float32",), kwargs=({"max": 0.0},), call=lambda torch, x, **kw: x.clone().clip_(**kw)),
     OpSpec("clamp_min", sample=_tensor_bound_sample, call=lambda torch, x, lo: torch.clamp_min(x, lo)),
     OpSpec("clamp_max_", dtypes=("float32",), kwargs=({"max": 0.5},),
            call=lambda torch, x, **kw: x.clone().clamp_max_(**kw)))
