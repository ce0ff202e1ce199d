"""torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp of a function of tensors.

Each takes `inputs` as a Tensor or a tuple of Tensors, calls `func(*inputs)` (a Tensor or a tuple of
Tensors back) on stand-ins for the inputs, and differentiates with autograd.grad. A result is nested as
its arguments were: a Tensor for a Tensor, a tuple for a tuple (jacobian: outputs outside, inputs inside).

- create_graph=False: results are detached; True: they are differentiable again (w.r.t. the inputs when
  these require grad, and w.r.t. `v`).
- strict=False: an output independent of an input gives zeros, the mathematical value; strict=True
  raises PyTorch's errors instead.
- jvp, hvp use the double-backward trick, as PyTorch does: the vjp g(u) = u^T J is linear in u, so the
  gradient of g(u)·v w.r.t. u is J v.
"""
from .. import _state
from .._tensor import Tensor
from .grad_mode import enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ----------------------------------------------------------------------------------------------------
# argument handling, shared by all six
# ----------------------------------------------------------------------------------------------------

def _as_tuple(value, arg_name, fn_name):
    """(whether value was a tuple, value as a tuple), refusing anything that is not Tensors."""
    was_tuple = isinstance(value, tuple)
    items = value if was_tuple else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"the value at index {i} has type {type(el)}" if was_tuple else \
                f"the given {arg_name} has type {type(el)}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"{where}.")
    return was_tuple, items


def _unpack(result, was_tuple):
    """A tuple of results back to the caller's nesting: one level, or (outer, inner) for jacobians."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(row[0] for row in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def _stand_ins(tensors, create_graph, need_graph):
    """The tensors func is called on: connected to the originals only when create_graph needs it."""
    # NOTE: view_as keeps the graph to an input that requires grad (create_graph results are then
    # differentiable w.r.t. it); otherwise a detached leaf, so nothing reaches the caller's graph.
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
                 for t in tensors)


def _finish(tensors, create_graph):
    """Results as handed back: detached unless create_graph (nested tuples for jacobians)."""
    if tensors and isinstance(tensors[0], Tensor):
        return tensors if create_graph else tuple(t.detach() for t in tensors)
    return tuple(_finish(t, create_graph) for t in tensors)


def _check_v(v, other, other_was_tuple):
    if len(v) != len(other):
        if other_was_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.size() != b.size():
            prefix = f"Entry {i} in " if other_was_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}.")


def _take_v(v, other, other_was_tuple, create_graph, fn_name, what):
    """v checked against `other` (func's outputs or inputs); None is allowed for one single-element tensor."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _stand_ins(v, create_graph, need_graph=False)
        _check_v(v, other, other_was_tuple)
        return v
    if len(other) != 1 or other[0].nelement() != 1:
        raise RuntimeError(f"The vector v can only be None if {what} a single Tensor with a single element.")
    return None


def _check_requires_grad(tensors, kind, strict):
    """strict mode: every tensor of `kind` must be connected to the inputs."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode.")
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(f"The hessian of the user-provided function with respect to input {i} is independent "
                               "of the input. This is not allowed in strict mode. You should ensure that your "
                               "function is thrice differentiable and that the hessian depends on the inputs.")
        if kind == "jacobian":
            raise RuntimeError("While computing the hessian, found that the jacobian of the user-provided function "
                               f"with respect to input {i} is independent of the input. This is not allowed in "
                               "strict mode. You should ensure that your function is twice differentiable and that "
                               "the jacobian depends on the inputs (this would be violated by a linear function "
                               "for example).")
        if kind == "grad_inputs":
            raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of the "
                               "user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The outputs must "
                           "be computed in a differentiable manner from the input when running in strict mode.")


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None for every input when none does)."""
    from . import grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gos = zip(*pairs)
    return grad(outs, inputs, gos, allow_unused=True, create_graph=create_graph, retain_graph=retain_graph)


_STRICT_NONE = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in "
            "strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in "
                  "strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed "
                   "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def _zeros_for_none(grads, refs, strict, create_graph, stage):
    """None gradients become zeros shaped as refs[i] (or strict mode's error for the stage)."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_NONE[stage].format(i=i))
            g = refs[i].new_zeros(refs[i].shape)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)


def _outputs_of(func, inputs, fn_name):
    """(whether func returned a tuple, its outputs as a tuple): func called on the stand-ins."""
    return _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)


def _single_scalar_output(outputs, was_tuple, fn_name):
    if was_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")


# ----------------------------------------------------------------------------------------------------
# vjp and jvp
# ----------------------------------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product of func at inputs."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _stand_ins(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _outputs_of(func, inputs, "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _take_v(v, outputs, outputs_tuple, create_graph, "vjp",
                    "the user-provided function returns")
    with set_grad_enabled(create_graph or _state.local.grad_enabled):
        result = _zeros_for_none(_grad(outputs, inputs, v, create_graph=create_graph), inputs, strict,
                                 create_graph, "back")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _stand_ins(inputs, create_graph, need_graph=True)
        v = _take_v(v, inputs, inputs_tuple, create_graph, "jvp",
                    "the input to the user-provided function is")
        outputs_tuple, outputs = _outputs_of(func, inputs, "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # NOTE: u stands for the cotangent; grad_inputs = u^T J is linear in u, built with a graph.
        u = tuple(o.new_zeros(o.shape).requires_grad_() for o in outputs)
        grad_inputs = _grad(outputs, inputs, u, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(create_graph or _state.local.grad_enabled):
        result = _zeros_for_none(_grad(grad_inputs, u, v, create_graph=create_graph), outputs, strict,
                                 create_graph, "back_trick")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), outputs_tuple))


# ----------------------------------------------------------------------------------------------------
# jacobian and hessian
# ----------------------------------------------------------------------------------------------------

def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: for output i and input j, a tensor of shape out_i.shape + in_j.shape.

    NOTE: vectorize=True batches the backward passes of all output elements with vmap, as PyTorch (one pass per
    element with create_graph=True); strategy="forward-mode" (vectorize=True only) uses ember.func.jacfwd."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` and "
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        return _jacobian_forward(func, inputs, strict, vectorize)
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _stand_ins(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _outputs_of(func, inputs, "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        if vectorize:
            rows = _jacobian_stacked(outputs, inputs, create_graph)
        else:
            rows = tuple(_jacobian_of_output(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
    return _unpack(_finish(rows, create_graph), (outputs_tuple, inputs_tuple))


def _row_grads(out, inputs, create_graph):
    """For each element of `out`, its gradient w.r.t. every input (None where it does not reach one)."""
    flat = out.reshape(-1)
    return [_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph) for k in range(out.nelement())]


def _stack_rows(rows, inp):
    from .. import stack  # NOTE: at call time: autograd is imported before the ops are published
    return stack(rows, 0) if rows else inp.new_zeros((0,) + tuple(inp.shape))


def _jacobian_of_output(i, out, inputs, create_graph, strict):
    """The Jacobian of one output w.r.t. every input: one backward pass per element of the output."""
    per_input = [[] for _ in inputs]
    for grads in _row_grads(out, inputs, create_graph):
        for j, (g, inp) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                       "This is not allowed in strict mode.")
                g = inp.new_zeros(inp.shape)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                   "This is not allowed in strict mode when create_graph=True.")
            per_input[j].append(g)
    return tuple(_stack_rows(rows, inp).view(out.shape + inp.shape) for rows, inp in zip(per_input, inputs))


def _jacobian_stacked(outputs, inputs, create_graph):
    """vectorize=True: the rows of all outputs stacked into one tensor per input, then cut per output.

    NOTE: as PyTorch's batched backward does, a block is part of its input's one stacked tensor, so it
    requires grad (create_graph=True) when any output's block for that input does."""
    numels = [out.nelement() for out in outputs]
    if not create_graph and not _state.vmap_depth and not _state.fw_visible and sum(numels):
        # NOTE: all rows in one backward pass vmapped over the identity, as PyTorch's (ember/func/_vectorized.py);
        # with create_graph the rows keep their graphs one by one below
        from ..func._vectorized import vjp_rows
        stacked = vjp_rows(list(outputs), list(inputs), numels)
    else:
        per_input = [[] for _ in inputs]
        for out in outputs:
            for grads in _row_grads(out, inputs, create_graph):
                for j, (g, inp) in enumerate(zip(grads, inputs)):
                    per_input[j].append(inp.new_zeros(inp.shape) if g is None else g)
        stacked = [_stack_rows(rows, inp) for rows, inp in zip(per_input, inputs)]
    blocks = [rows.split(numels, 0) for rows in stacked]
    return tuple(tuple(blocks[j][i].view(out.shape + inp.shape) for j, inp in enumerate(inputs))
                 for i, out in enumerate(outputs))


def _jacobian_forward(func, inputs, strict, vectorize):
    """strategy="forward-mode": PyTorch's checks, then ember.func.jacfwd over every input."""
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not '
                           'supported together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.')
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                  "only implemented for `vectorize=True`.")
    from ..func import jacfwd  # NOTE: at call time: forward-mode AD lives in ember.func
    argnums = tuple(range(len(inputs))) if inputs_tuple else 0
    jac = jacfwd(func, argnums=argnums)(*inputs)
    return jac


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of func (one single-element Tensor out) at inputs: the jacobian of its gradient."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp):
        out = func(*inp)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        _single_scalar_output(outs, out_tuple, "hessian")
        return out.squeeze()

    def gradient(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _unpack(result, (inputs_tuple, inputs_tuple))


# ----------------------------------------------------------------------------------------------------
# vhp and hvp
# ----------------------------------------------------------------------------------------------------

def _gradient_of_scalar(func, inputs, v, create_graph, strict, fn_name):
    """(inputs tuple?, stand-ins, outputs tuple?, outputs, v, gradient with its graph): shared by vhp and hvp."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _stand_ins(inputs, create_graph, need_graph=True)
    v = _take_v(v, inputs, inputs_tuple, create_graph, fn_name, "the input to the user-provided function is")
    outputs_tuple, outputs = _outputs_of(func, inputs, fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    _single_scalar_output(outputs, outputs_tuple, fn_name)
    jac = _grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return inputs_tuple, inputs, outputs_tuple, outputs, v, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of a scalar function."""
    with enable_grad():
        inputs_tuple, inputs, outputs_tuple, outputs, v, jac = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(create_graph or _state.local.grad_enabled):
        result = _zeros_for_none(_grad(jac, inputs, v, create_graph=create_graph), inputs, strict,
                                 create_graph, "double_back")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product of a scalar function, by the double-backward trick."""
    with enable_grad():
        inputs_tuple, inputs, outputs_tuple, outputs, v, jac = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "hvp")
        u = tuple(t.new_zeros(t.shape).requires_grad_() for t in inputs)
        double_back = _grad(jac, inputs, u, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(create_graph or _state.local.grad_enabled):
        result = _zeros_for_none(_grad(double_back, u, v, create_graph=create_graph), inputs, strict,
                                 create_graph, "double_back_trick")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))
