"""torch.autograd's backward engine: walks the graph iteratively in dependency order and delivers gradients.

One walk serves `Tensor.backward`, `torch.autograd.backward` and `torch.autograd.grad`:
- accumulate=True puts gradients into leaves' `.grad` (only those in `inputs`, when given);
- capture=True returns the gradients that reach `inputs` and touches no `.grad`.
"""
import signal
import _signal  # NOTE: signal.signal's C function, without the enum conversions (a backward calls it twice)
import threading

from .. import _device, _state
from .._tensor import Tensor, _wrap, sum_to
from . import anomaly_mode
from .graph import AccumulateGrad, ERR_BACKWARD_TWICE, hook_result


def _collect(roots):
    """Every node reachable from the roots, and how many edges point at each (iterative DFS)."""
    deps = {}
    seen = set()
    # NOTE: once per node: two outputs of one node as roots must not count its edges twice
    stack = list(dict.fromkeys(n for n in roots if n is not None))
    for n in stack:
        seen.add(n)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps, seen


def _needed(seen, targets):
    """Nodes from which some target node can be reached (to prune an autograd.grad walk)."""
    parents = {}
    for node in seen:
        for nxt, _ in node.next_functions:
            if nxt is not None:
                parents.setdefault(nxt, []).append(node)
    needed = set(targets)
    stack = list(targets)
    while stack:
        node = stack.pop()
        for p in parents.get(node, ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    return needed


_on = _device.current

def _zeros_for(meta):
    shape, dtype, device = meta
    with _on(device):
        return _wrap(device.backend.xp.zeros(shape, dtype=dtype.np), device, dtype)


def _accumulate(buffers, node, nr, g, create_graph):
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * len(node._out_meta)
    old = buf[nr]
    if old is None:
        buf[nr] = g
    elif create_graph or old._sparse or g._sparse or type(old) is not Tensor or type(g) is not Tensor:
        # NOTE: by Tensor ops also for batched gradients (a vmapped backward: jacrev's rows, is_grads_batched)
        buf[nr] = old + g if old._sparse or not g._sparse else g.__radd__(old)  # NOTE: dense + sparse: dense
    else:
        with _on(g._device):
            total = old._data + g._data
            if not total.shape:  # NOTE: NumPy adds two 0-d arrays into a scalar, which is not an array to view
                total = g._device.backend.xp.asarray(total)
            buf[nr] = _wrap(total, g._device, g._dtype)


def _validate(node, grads):
    """PyTorch's validate_outputs: right count, shapes summed back to the inputs', dtypes cast."""
    metas = node._in_meta
    if len(grads) != len(metas):
        if len(grads) > len(metas) and all(g is None for g in grads[len(metas):]):
            grads = grads[: len(metas)]
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                               f"(expected {len(metas)}, got {len(grads)})")
    out = []
    edges = node.next_functions
    for i, (g, meta) in enumerate(zip(grads, metas)):
        if g is None or meta is None or edges[i][0] is None:
            out.append(None)
            continue
        if type(g) is Tensor and g._dtype is meta[1] and g._data.shape == meta[0] and g._device is meta[2]:
            out.append(g)  # NOTE: the common case: nothing to check or fit
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"function {node.name()} returned a gradient of type {type(g).__name__} at index {i}, "
                            "expected a Tensor or None")
        shape, dtype, device = meta
        if g._sparse:  # NOTE: a sparse gradient (nn.Embedding(sparse=True)) has the input's shape already
            out.append(g if g._dtype is dtype else g.to(dtype))
            continue
        if g._data.shape != shape:
            try:
                g = sum_to(g, shape)
            except RuntimeError:
                raise RuntimeError(
                    f"Function {node.name()} returned an invalid gradient at index {i} - got "
                    f"{list(g.shape)} but expected shape compatible with {list(shape)}") from None
        if g._dtype is not dtype:
            g = g.to(dtype)
        if g._device != device:
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - "
                               f"expected device {device} but got {g._device}")
        out.append(g)
    return out


def _run_tensor_hooks(node, nr, g):
    """The hooks of the tensor that is output `nr` of `node`, then its retain_grad hook (which sees their result)."""
    hooks = node._tensor_pre_hooks
    if hooks and nr in hooks:
        for h in list(hooks[nr].values()):
            r = h(g)
            if r is not None:
                g = r
    keep = node._retains_grad_hooks
    if keep and nr in keep:
        keep[nr](g)
    return g


def run(root_edges, root_grads, retain_graph, create_graph, inputs=None, accumulate=True, allow_unused=False):
    """Walk backward from `root_edges` ((node, output_nr) pairs) seeded with `root_grads`."""
    with _DeferredInterrupt():
        return _walk(root_edges, root_grads, retain_graph, create_graph, inputs, accumulate, allow_unused)


class _DeferredInterrupt:
    """Holds back SIGINT while the walk runs, then delivers it to the handler that was installed.

    NOTE: PyTorch's engine runs backward in C++, where Ctrl-C lands only after the walk; a Python walk
    interrupted midway would leave some leaves with gradients and others without. Only the main
    thread may set signal handlers, and only a Python-level handler can be called later."""

    __slots__ = ("old", "pending")

    def __enter__(self):
        self.old = None
        self.pending = None
        if threading.current_thread() is not threading.main_thread():
            return self
        old = _signal.signal(signal.SIGINT, self._hold)
        if callable(old):
            self.old = old
        else:  # SIG_IGN, SIG_DFL or a handler set outside Python: leave it in charge
            _signal.signal(signal.SIGINT, old)
        return self

    def _hold(self, signum, frame):
        self.pending = (signum, frame)

    def __exit__(self, *exc):
        if self.old is None:
            return False
        _signal.signal(signal.SIGINT, self.old)
        if self.pending is not None:
            self.old(*self.pending)  # default_int_handler raises KeyboardInterrupt here
        return False


class GraphTask:
    """One backward walk as hooks see it (PyTorch's graph task): which nodes it runs, and a place for state
    that lives as long as the walk (register_multi_grad_hook keeps its per-walk gradients there)."""

    __slots__ = ("seen", "needed", "accumulate", "hook_state", "node", "partial", "callbacks")

    def __init__(self, seen, needed, accumulate, partial=False):
        self.seen, self.needed, self.accumulate = seen, needed, accumulate
        self.partial = partial  # NOTE: run for chosen inputs (autograd.grad, backward(inputs=)): not every leaf
        self.hook_state = {}
        self.callbacks = []  # NOTE: run when the walk has delivered every gradient (queue_callback)
        self.node = None  # NOTE: kept only with anomaly detection on: the node running (parent of new nodes)

    def will_execute(self, node):
        """Whether this walk runs `node` (PyTorch's torch._C._will_engine_execute_node)."""
        if not self.accumulate and type(node) is AccumulateGrad:
            raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are currently running "
                               "autograd.grad(). This is currently not supported.")
        return node in self.seen and (self.needed is None or node in self.needed)


_running = threading.local()  # NOTE: .tasks: the walks running in this thread, innermost last


def current_task():
    """The backward walk running in this thread (the innermost one), or None outside backward."""
    tasks = getattr(_running, "tasks", None)
    return tasks[-1] if tasks else None


def is_checkpoint_valid():
    """torch.autograd._is_checkpoint_valid: False inside a walk run by autograd.grad or backward(inputs=...),
    where a reentrant checkpoint's inner backward would accumulate into leaves the caller did not ask for."""
    task = current_task()
    return task is None or not task.partial


def queue_callback(callback):
    """Run callback() once the running backward walk ends (PyTorch's Variable._execution_engine.queue_callback)."""
    task = current_task()
    if task is None:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    task.callbacks.append(callback)


def _walk(root_edges, root_grads, retain_graph, create_graph, inputs, accumulate, allow_unused):
    roots = [n for n, _ in root_edges]
    deps, seen = _collect(roots)
    targets = None
    needed = None
    if inputs is not None:
        targets = {}
        for i, t in enumerate(inputs):
            edge = t._edge_for_grad()
            targets.setdefault(edge, []).append(i)
        if not accumulate:
            needed = _needed(seen, [e[0] for e in targets if e[0] is not None])
    captured = [None] * (len(inputs) if inputs is not None else 0)

    buffers = {}
    for (node, nr), g in zip(root_edges, root_grads):
        if node is not None:
            _accumulate(buffers, node, nr, g, create_graph)
    ready = [n for n in dict.fromkeys(roots) if n is not None and deps.get(n, 0) == 0]

    anomaly = _state.anomaly_enabled
    check_nan = anomaly and _state.anomaly_check_nan
    profiled = getattr(_state.op_log, "run_node", None)  # NOTE: a profiler times each node (ember/profiler)
    tasks = getattr(_running, "tasks", None)
    if tasks is None:
        tasks = _running.tasks = []
    task = GraphTask(seen, needed, accumulate, inputs is not None)
    tasks.append(task)
    prev = _state.local.grad_enabled
    _state.local.grad_enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            if anomaly:
                task.node = node
            grads = buffers.pop(node, None)
            if needed is not None and node not in needed:
                _release_children(node, deps, ready)
                continue
            # NOTE: a try costs nothing until something is raised; with anomaly detection on, an error while
            # the node runs (its hooks, its backward, the checks of its result) is preceded by the
            # traceback of the forward call that made the node.
            try:
                if grads is not None and (targets is not None or node._tensor_pre_hooks is not None
                                          or node._retains_grad_hooks is not None):
                    for nr in range(len(grads)):
                        if grads[nr] is not None:
                            grads[nr] = _run_tensor_hooks(node, nr, grads[nr])
                            for idx in targets.get((node, nr), ()) if targets is not None else ():
                                captured[idx] = grads[nr] if captured[idx] is None else captured[idx] + grads[nr]
                if type(node) is AccumulateGrad:
                    if grads is not None and grads[0] is not None and accumulate and (
                            targets is None or (node, 0) in targets):
                        if node._pre_hooks or node._post_hooks or node._post_accumulate_hooks:
                            _accumulate_with_hooks(node, grads, create_graph)
                        else:
                            _accumulate_into_leaf(node.variable, grads[0], create_graph)
                    continue
                in_grads = None
                if grads is not None:
                    in_grads = (_run_node(node, grads, retain_graph) if profiled is None
                                else profiled(_run_node, node, grads, retain_graph))
                    if check_nan and in_grads is not None:
                        anomaly_mode.check_nan(node, in_grads)
            except BaseException:
                if _state.anomaly_enabled:
                    anomaly_mode.warn_error_in(node)
                raise
            if not retain_graph:
                node._release()
            # NOTE: the hot loop of the walk: hand each input's gradient to the node that wants it
            i = 0
            for nxt, nr in node.next_functions:
                if nxt is not None:
                    if in_grads is not None:
                        g = in_grads[i]
                        if g is not None:
                            _accumulate(buffers, nxt, nr, g, create_graph)
                    left = deps[nxt] - 1
                    deps[nxt] = left
                    if left == 0:
                        ready.append(nxt)
                i += 1
        if task.callbacks:
            _state.local.grad_enabled = False
            for callback in task.callbacks:  # NOTE: a callback may queue another: the list grows as it runs
                callback()
    finally:
        _state.local.grad_enabled = prev
        tasks.pop()

    if inputs is not None and not accumulate:
        for i, g in enumerate(captured):
            if g is None and not allow_unused:
                # NOTE: PyTorch 2.13 names the first unused input by its index.
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
    return captured


def _run_node(node, grads, retain_graph):
    """One node's backward on its output gradients (hooks, zeros for unused outputs, the device made
    current); its input gradients checked and fitted to the inputs, or None when no gradient came."""
    for g in grads:
        if g is not None:
            break
    else:
        return None
    if node._pre_hooks:
        grads = _run_pre_hooks(node, grads)
    given = grads
    if node.materialize_grads:
        grads = [g if g is not None else _zeros_for(m) for g, m in zip(grads, node._out_meta)]
    if node._freed:
        raise RuntimeError(ERR_BACKWARD_TWICE)
    if not retain_graph:
        node.last_use_of_saved = True
    device = getattr(node, "device", None)
    activate = device.backend.activate if device is not None else None
    if activate is None:
        in_grads = _validate(node, node._backward(grads))
    else:
        with activate(device.index):
            in_grads = _validate(node, node._backward(grads))
    if node._post_hooks:
        # NOTE: post-hooks see the output gradients as they came (None where none did), as in PyTorch
        for h in list(node._post_hooks.values()):
            r = h(tuple(in_grads), tuple(given))
            if r is not None:
                in_grads = hook_result(h, r, len(in_grads))
    return in_grads


def _run_pre_hooks(node, grads):
    for h in list(node._pre_hooks.values()):
        r = h(tuple(grads))
        if r is not None:
            grads = hook_result(h, r, len(grads))
    return grads


def _accumulate_with_hooks(node, grads, create_graph):
    """A leaf's gradient through the pre- and post-hooks registered on its AccumulateGrad node."""
    if node._pre_hooks:
        grads = _run_pre_hooks(node, grads)
    if grads[0] is not None:
        _accumulate_into_leaf(node.variable, grads[0], create_graph)
        if node._post_accumulate_hooks and node.variable is not None:
            _run_post_accumulate_hooks(node)
    if node._post_hooks:
        for h in list(node._post_hooks.values()):
            r = h((), tuple(grads))
            if r is not None:
                hook_result(h, r, 0)


def _run_post_accumulate_hooks(node):
    var = node.variable
    for h in list(node._post_accumulate_hooks.values()):
        r = h(var)
        if r is not None:
            if isinstance(r, Tensor):
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")
            raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")


def _release_children(node, deps, ready):
    for nxt, _ in node.next_functions:
        if nxt is None:
            continue
        deps[nxt] -= 1
        if deps[nxt] == 0:
            ready.append(nxt)


def _accumulate_into_leaf(var, g, create_graph):
    if var is None:  # NOTE: the leaf is gone: nothing can read its gradient
        return
    old = var._grad
    if g._sparse or (old is not None and old._sparse):
        _accumulate_sparse(var, old, g)
    elif old is None:
        if create_graph:
            var._grad = g
        else:
            # NOTE: a fresh copy, since the same gradient Tensor may reach several leaves.
            with _on(g._device):
                var._grad = _wrap(g._data.copy(), g._device, g._dtype)
    elif create_graph or old._requires_grad:
        var._grad = old + g
    else:
        with _on(g._device):
            old._data += g._data
        old._vc[0] += 1


def _accumulate_sparse(var, old, g):
    """.grad with sparse gradients, as PyTorch's AccumulateGrad: a sparse gradient is stored (a copy), a
    second sparse one appends its entries, and a dense .grad takes a sparse one added in place."""
    if old is None:
        var._grad = g.clone()
    elif old._sparse and g._sparse:
        var._grad = old.clone().add_(g)
    elif g._sparse:
        from .._sparse import add_into
        add_into(old, g)
    else:
        var._grad = old.__radd__(g)  # NOTE: sparse .grad + dense gradient: a dense .grad
