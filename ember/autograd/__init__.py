"""torch.autograd: backward, grad, Function, grad modes, gradcheck, Variable."""
from .. import _device
from .._tensor import Tensor, _wrap
from . import anomaly_mode, engine, forward_ad, graph
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .function import Function, once_differentiable
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck
from ._overrides import handle_torch_function, has_torch_function, is_tensor_like
from .legacy import NestedIOFunction, SavedTensor, variable
from .switches import (enforce_grad_layout_policy, is_multithreading_enabled, is_view_replay_enabled,
                       set_multithreading_enabled)


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs, grads, is_grads_batched=False):
    """Seed gradients: given ones checked against their outputs, ones for scalars, else PyTorch's error."""
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if o.requires_grad and o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if o._dtype.category < 2:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {o.dtype}")
            with _device.current(o._device):
                g = _wrap(o._device.backend.xp.ones(o._data.shape, dtype=o._dtype.np), o._device, o._dtype)
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        elif g._data.shape != o._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                               f"has a shape of {o.shape}.")
        elif g._dtype.category != o._dtype.category:
            raise RuntimeError(f"For complex Tensors, both grad_output and output are required to have the "
                               f"same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                               f"output[{i}] has a dtype of {o.dtype}.")
        out.append(g)
    return out


def _check_counts(outputs, seeds):
    # NOTE: as in PyTorch, _make_grads zips (extra gradients are ignored, a non-Tensor one is a
    # TypeError first); only too few gradients is an error, from the engine.
    if len(seeds) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(seeds)} gradients")


def _root_edges(outputs):
    edges = []
    for i, o in enumerate(outputs):
        if not o.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        edges.append(o._edge_for_grad())
    return edges


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate into `.grad` of the graph leaves the gradients of `tensors`."""
    outputs = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if grad_tensors is None and grad_variables is None:
        grads = (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs) or None
    for t in inputs or ():
        if not t.requires_grad:  # NOTE: PyTorch's text (it retains the grad of every input)
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    seeds = _make_grads(outputs, grads)
    _check_counts(outputs, seeds)
    captured = engine.run(_root_edges(outputs), seeds, retain_graph, create_graph, inputs=inputs, accumulate=True)
    done = set()
    for t, g in zip(inputs or (), captured):
        # NOTE: non-leaf inputs get their .grad too (leaves got theirs from AccumulateGrad).
        if g is not None and t.grad_fn is not None and id(t) not in done:
            done.add(id(t))
            engine._accumulate_into_leaf(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of `outputs` w.r.t. `inputs`, returned (not accumulated into .grad)."""
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    gos = _as_tuple(grad_outputs)
    if grad_outputs is None:
        gos = (None,) * len(outs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    seeds = _make_grads(outs, gos)
    _check_counts(outs, seeds)
    result = engine.run(_root_edges(outs), seeds, retain_graph, create_graph, inputs=ins, accumulate=False,
                        allow_unused=allow_unused)
    if materialize_grads:
        result = [g if g is not None else t.new_zeros(t.shape) for g, t in zip(result, ins)]
    if not create_graph:
        result = [g.detach() if g is not None else None for g in result]
    return tuple(result)


def _is_checkpoint_valid():
    """torch.autograd._is_checkpoint_valid: whether the running backward is a full one (not grad() or inputs=)."""
    return engine.is_checkpoint_valid()


def Variable(data=None, requires_grad=False, volatile=False):
    """The legacy wrapper: a new leaf sharing data's memory (data.detach()), with requires_grad set."""
    from .._compat.legacy import variable
    return variable(data, requires_grad)


__all__ = ["Function", "Variable", "backward", "grad", "gradcheck", "gradgradcheck", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "once_differentiable", "graph", "is_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "NestedIOFunction", "SavedTensor", "variable",
           "set_multithreading_enabled", "is_multithreading_enabled", "enforce_grad_layout_policy",
           "is_view_replay_enabled", "handle_torch_function", "has_torch_function", "is_tensor_like"]

from . import functional  # NOTE: last: it calls grad(), defined above
