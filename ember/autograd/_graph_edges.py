"""torch.autograd.graph's edge and mutation tools: GradientEdge, get_gradient_edge, allow_mutation_on_saved_tensors,
and the switches that only matter to PyTorch's CUDA streams or compiler (re-exported by autograd/graph.py)."""
import contextlib
from typing import NamedTuple


class GradientEdge(NamedTuple):
    """A position in the backward graph: the gradient flowing into input `output_nr` of `node`."""
    node: object
    output_nr: int
    ownership_token: object = None


def get_gradient_edge(tensor):
    """The GradientEdge whose incoming gradient is `tensor`'s gradient (its grad_fn's, or its AccumulateGrad)."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require "
                           "gradients")
    node, nr = tensor._edge_for_grad()
    return GradientEdge(node, nr)


def _edge_meta(edge):
    """(shape, dtype, device) of the gradient that flows into `edge`."""
    from .graph import AccumulateGrad
    node = edge.node
    if isinstance(node, AccumulateGrad):
        v = node.variable
        return tuple(v.shape), v._dtype, v._device
    return node._out_meta[edge.output_nr]


def edge_seed(edge, g, i):
    """The seed gradient for an output given as a GradientEdge (autograd.grad/backward's grad_outputs[i])."""
    from .. import _device
    from .._tensor import Tensor, _wrap
    shape, dtype, device = _edge_meta(edge)
    shape = tuple(shape)
    if g is None:
        if any(n != 1 for n in shape):
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if dtype.category < 2:
            raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {dtype}")
        with _device.current(device):
            return _wrap(device.backend.xp.ones(shape, dtype=dtype.np), device, dtype)
    if not isinstance(g, Tensor):
        raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
    if tuple(g.shape) != shape:
        from .._tensor import Size
        raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                           f"has a shape of {Size(shape)}.")
    return g


class EdgeInput:
    """A GradientEdge among autograd.grad's inputs, with the two things the engine asks of an input."""

    __slots__ = ("_edge",)
    requires_grad = True
    grad_fn = None  # NOTE: backward(inputs=...) then fills no .grad for it (there is no tensor to fill)

    def __init__(self, edge):
        self._edge = (edge.node, edge.output_nr)

    def _edge_for_grad(self):
        return self._edge


# --- allow_mutation_on_saved_tensors -------------------------------------------------------------------
class _AllowMutationOnSavedContext:
    """The object allow_mutation_on_saved_tensors yields; backward through its graph needs it open."""

    def __init__(self):
        self.closed = False


_active_mutation_ctx = None

_ERR_OUTSIDE = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                "in which the graph was originally recorded.")  # NOTE: PyTorch's text, missing space included


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Inside this block, tensors saved for backward may be modified in place: backward sees their values
    at the time they were saved.

    NOTE: PyTorch clones a saved tensor at its first in-place write (a dispatch mode sees every write);
    ember has no such mode, so each saved tensor is cloned when it is saved (same values, more memory)."""
    global _active_mutation_ctx
    from .graph import saved_tensors_hooks
    if _active_mutation_ctx is not None:
        raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
    ctx = _AllowMutationOnSavedContext()

    def pack(t):
        return t.detach().clone()

    def unpack(copy):
        if ctx.closed:
            raise AssertionError(_ERR_OUTSIDE)
        return copy

    _active_mutation_ctx = ctx
    try:
        with saved_tensors_hooks(pack, unpack):
            yield ctx
    finally:
        ctx.closed = True
        _active_mutation_ctx = None


# --- switches with nothing to switch in ember ------------------------------------------------------------
_switches = {"warn_on_accumulate_grad_stream_mismatch": True, "override_stale_capture_stream": False}


def set_warn_on_accumulate_grad_stream_mismatch(enabled):
    """Whether to warn when a leaf's gradient arrives on another CUDA stream (recorded only: ember's backward
    runs on one stream, so there is never a mismatch)."""
    _switches["warn_on_accumulate_grad_stream_mismatch"] = bool(enabled)


def set_override_stale_capture_stream(enabled):
    """CUDA-graph capture's stale-stream handling (recorded only: ember does not capture CUDA graphs)."""
    _switches["override_stale_capture_stream"] = bool(enabled)


def region_activation_memory_budget(budget):
    """The activation memory budget of a torch.compile region; as in PyTorch, outside a compiled region
    (always, in ember: its torch.compile runs eagerly) it raises RuntimeError."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise TypeError(f"torch.autograd.graph.region_activation_memory_budget: expects a float, got "
                        f"{type(budget).__name__}")
    if not 0.0 <= budget <= 1.0:
        raise ValueError(f"torch.autograd.graph.region_activation_memory_budget: must be in [0, 1], got {budget}")
    raise RuntimeError("torch.autograd.graph.region_activation_memory_budget can only be used inside a "
                       "torch.compile region; it has no effect in eager mode.")
