"""The multi-output views of torch.split, split_with_sizes, chunk and unbind: one grad_fn for all pieces, and PyTorch's
refusal to write into such a piece in place while autograd records.

The ops (ember/_ops/shape/splits.py, split_dims.py) make each piece by a Slice/Select view primitive (which
links it to its base and rebuilds it after writes); `pieces` then gives them PyTorch's one shared node
(SplitBackward0, output i) and marks them (`_view_meta` "multi", kept by the views made of them), which
autograd/inplace.py and Tensor._sync_view read to raise
"Output i of Split is a view and is being modified inplace. This view is the output of a function that returns
multiple views..." as PyTorch's CreationMeta::MULTI_OUTPUT_NODE does.
"""
from .. import _state
from .._tensor import Tensor, _wrap
from .function import _edge
from .graph import Node


class _PiecesBackward(Node):
    """The gradient of pieces of the input along `dim`: the pieces' gradients put back together (a piece
    nobody used contributes zeros, materialized by the engine)."""

    __slots__ = ()

    def _backward(self, grads):
        from .._ops.shape.join import cat
        return (cat(list(grads), self.dim),)


class SplitBackward0(_PiecesBackward):
    __slots__ = ()


class SplitWithSizesBackward0(_PiecesBackward):
    __slots__ = ()


class UnsafeSplitBackward0(_PiecesBackward):
    __slots__ = ()


class UnsafeSplitWithSizesBackward0(_PiecesBackward):
    __slots__ = ()


class UnbindBackward0(_PiecesBackward):
    """The pieces had `dim` removed: their gradients are stacked back along it."""

    __slots__ = ()

    def _backward(self, grads):
        from .._ops.shape.join import stack
        return (stack(list(grads), self.dim),)


def pieces(input, outputs, node_cls, dim):
    """The views `outputs` of `input` as the outputs of one `node_cls` node (when autograd recorded them), marked
    as multi-output views."""
    if not _state.local.grad_enabled or _state.vmap_depth:
        return outputs  # NOTE: no_grad/inference_mode pieces keep the single-view rules (PyTorch's NO_GRAD_MODE)
    for out in outputs:
        out._view_meta = "multi"
    if outputs and outputs[0]._grad_fn is not None:
        _one_node(input, outputs, node_cls, dim)
    return outputs


def unsafe_pieces(input, outputs, node_cls, dim):
    """The pieces of the unsafe_ forms: as in PyTorch they share the input's memory but are not views for
    autograd (their own version counters; a write into one changes only its own history, never the input's)."""
    if _state.vmap_depth or _state.fw_visible or _state.local.inference:
        # NOTE: batched or dual pieces stay the views their primitives made; so do inference_mode's, as in PyTorch
        # (whose kernel that unlinks them is the autograd one, skipped there)
        return outputs
    tracked = bool(outputs) and outputs[0]._grad_fn is not None
    plain = tuple(_wrap(o._data, o._device, o._dtype) for o in outputs)
    if tracked:
        _one_node(input, plain, node_cls, dim)
    return plain


def _one_node(input, outputs, node_cls, dim):
    node = node_cls()
    node.dim = dim
    node.next_functions = (_edge(input),)
    node.needs_input_grad = (True,)
    node._in_meta = ((input._data.shape, input._dtype, input._device),)
    node._out_meta = tuple((o._data.shape, o._dtype, o._device) for o in outputs)
    for i, out in enumerate(outputs):
        out._grad_fn, out._output_nr, out._requires_grad = node, i, True


def is_multi_view(t):
    """Whether `t` is (a view of) a piece of a multi-output view op made while autograd recorded."""
    return isinstance(t, Tensor) and getattr(t, "_view_meta", None) == "multi"
