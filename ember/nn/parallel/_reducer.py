"""DistributedDataParallel's reducer: parameters in buckets, each bucket's gradients averaged across the ranks
by one all_reduce launched as soon as the bucket's last gradient is accumulated, all waited for when the
backward walk ends."""
import weakref

from ... import _creation, _dtype
from ..._tensor import Tensor
from ..._state import local as _grad_state
from ...autograd.engine import queue_callback
from ...autograd.grad_mode import no_grad

# NOTE: PyTorch's defaults: a small first bucket (the parameters defined first, whose gradients come last)
# so that the all_reduce left after backward is short; then bucket_cap_mb.
FIRST_BUCKET_BYTES = 1024 * 1024
DEFAULT_BUCKET_CAP_MB = 25

ERR_PRIOR_REDUCTION = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True` to "
    "`torch.nn.parallel.DistributedDataParallel`, and by \nmaking sure all `forward` function outputs participate "
    "in calculating loss. \nIf you already have done the above, then the distributed data parallel module wasn't "
    "able to locate the output tensors in the return value of your module's `forward` function. Please include "
    "the loss function and the structure of the return value of `forward` of your module when reporting this "
    "issue (e.g. list, dict, iterable).\nParameter indices which did not receive grad for rank {rank}: {indices}")

ERR_PRIOR_REDUCTION_STATIC = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your training graph has changed in this iteration, e.g., one parameter is used in first iteration, but "
    "then got unused in the second iteration. this is not compatible with static_graph set to True.\nParameter "
    "indices which did not receive grad for rank {rank}: {indices}")
ERR_STATIC_GRAPH_CHANGED = (
    "Your training graph has changed in this iteration, e.g., one parameter is unused in first iteration, but then "
    "got used in the second iteration. this is not compatible with static_graph set to True.")


def bucket_assignment(tensors, size_limits, sort=True):
    """Indices of `tensors` grouped into buckets (PyTorch's _compute_bucket_assignment_by_size): in order, one open
    bucket per dtype and device, closed once it holds `limit` bytes, where the limit steps through size_limits
    (then stays at the last); buckets are listed by their first index (sort=False: in the order they closed,
    open ones last, as PyTorch's rebuild). Returns (buckets, each one's limit)."""
    open_buckets = {}  # (dtype, device) -> [indices, bytes, limit position]
    closed = []
    for i, t in enumerate(tensors):
        key = (t.dtype, t.device)
        entry = open_buckets.get(key)
        if entry is None:
            entry = open_buckets[key] = [[], 0, 0]
        entry[0].append(i)
        entry[1] += t.numel() * t.element_size()
        limit = size_limits[min(entry[2], len(size_limits) - 1)]
        if entry[1] >= limit:
            closed.append((entry[0], limit))
            open_buckets[key] = [[], 0, entry[2] + 1]
    for indices, _, step in open_buckets.values():
        if indices:
            closed.append((indices, size_limits[min(step, len(size_limits) - 1)]))
    if sort:
        closed.sort(key=lambda bucket: bucket[0][0])
    return [b[0] for b in closed], [b[1] for b in closed]


class _Bucket:
    """Parameters whose gradients travel in one flat tensor (one all_reduce, or one comm hook call)."""

    __slots__ = ("params", "flat", "views", "left", "future")

    def __init__(self, params):
        self.params = params  # indices into the reducer's parameter list
        self.flat = None
        self.views = []
        self.left = 0
        self.future = None


class Reducer:
    """Averages the gradients of `params` across `group` during backward (see the module docstring)."""

    def __init__(self, params, bucket_indices, size_limits, group, dist, find_unused, gradient_as_bucket_view=False):
        self.params = params
        self.group = group
        self.dist = dist
        self.find_unused = find_unused
        self.static_graph = False
        # NOTE: static_graph: what the first iteration used stays fixed (PyTorch's static graph contract)
        self.static_first = True
        self.static_unused = []  # parameters this rank gave no gradient in the first iteration
        self.static_used_anywhere = None  # per parameter: whether any rank used it in the first iteration
        self.fired = set()
        self.started = False
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.size_limits = size_limits
        self.world_size = dist.get_world_size(group)
        self.div_factor = self.world_size
        self.comm_hook = None  # (state, hook) from DDP.register_comm_hook
        self.has_rebuilt = False
        self.ready_order = []  # NOTE: the order gradients became ready in, recorded until the buckets are rebuilt
        self.ready_seen = set()
        self.join_work = None  # (work, divide_by_initial_world_size) from Join.notify_join_context
        self._layout(bucket_indices)
        self.expect_hooks = False
        self.ready = [False] * len(params)
        self.next_bucket = 0
        self.unused = []
        self.unused_marked = False
        self.used_since_sync = set()  # NOTE: params that got a gradient since the last reduction (no_sync too)
        me = weakref.ref(self)  # NOTE: the hooks outlive nothing: a reducer that is gone makes them no-ops
        self.handles = [p.register_post_accumulate_grad_hook(_hook(me, i)) for i, p in enumerate(params)]

    def _layout(self, bucket_indices):
        """Make the buckets' flat tensors and each parameter's view into them (in the parameter's shape)."""
        params = self.params
        self.buckets = []
        self.where = {}  # parameter index -> bucket
        self.views = [None] * len(params)
        for indices in bucket_indices:
            bucket = _Bucket(list(indices))
            first = params[indices[0]]
            total = sum(params[i].numel() for i in indices)
            bucket.flat = _creation.zeros(total, dtype=first.dtype, device=first.device)
            offset = 0
            for i in indices:
                p = params[i]
                view = bucket.flat[offset:offset + p.numel()].view(p.shape)
                bucket.views.append(view)
                self.views[i] = view
                self.where[i] = bucket
                offset += p.numel()
            self.buckets.append(bucket)
        if self.gradient_as_bucket_view:
            # NOTE: as PyTorch: gradients that exist are moved into the buckets and .grad becomes the view
            with no_grad():
                for i, p in enumerate(params):
                    if p.grad is not None:
                        self.views[i].copy_(p.grad)
                        p.grad = self.views[i]

    def bucket_layout(self):
        """The parameter indices of each bucket, in reduction order."""
        return [list(b.params) for b in self.buckets]

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()
        self.handles = []

    # --- bucket rebuild ------------------------------------------------------------------------
    def should_rebuild(self):
        return not self.has_rebuilt and (self.static_graph or not self.find_unused)

    def rebuild_buckets(self):
        """Once, at the forward after the first backward: buckets again by size limits, in the order gradients
        became ready (PyTorch's rebuild), rank 0's order on every rank. Returns whether it rebuilt."""
        if not self.should_rebuild() or not self.ready_order:
            return False
        order = list(self.ready_order)
        seen = set(order)
        order += [i for i in reversed(range(len(self.params))) if i not in seen]
        layout, _ = bucket_assignment([self.params[i] for i in order], self.size_limits, sort=False)
        layout = [[order[j] for j in bucket] for bucket in layout]
        if self.world_size > 1:
            chosen = [layout]
            self.dist.broadcast_object_list(chosen, src=self.dist.get_global_rank(self.group, 0), group=self.group)
            layout = chosen[0]
        self.has_rebuilt = True
        self.ready_order, self.ready_seen = [], set()
        self._layout(layout)
        return True

    # --- iteration boundaries ----------------------------------------------------------------
    def check_prior_reduction(self):
        """PyTorch's error where the last synchronised backward left some bucket unreduced."""
        if not self.expect_hooks or not self.started:
            self.expect_hooks = False
            return
        missing = " ".join(str(i) for i, done in enumerate(self.ready) if not done)
        self._abandon()
        text = ERR_PRIOR_REDUCTION_STATIC if self._static_fixed() else ERR_PRIOR_REDUCTION
        raise RuntimeError(text.format(rank=self.dist.get_rank(self.group), indices=missing))

    def _static_fixed(self):
        """Whether the static graph's first iteration is done (its unused parameters are then fixed)."""
        return self.static_graph and not self.static_first

    def needs_used_map(self):
        """Whether finalize all_reduces which parameters some rank used (find_unused, and a static graph's first
        iteration; afterwards the static graph's answer is kept)."""
        return self.find_unused and not self._static_fixed()

    def prepare_for_backward(self, outputs):
        """Expect every parameter's gradient in the next backward; with find_unused, mark those the graph
        of `outputs` does not reach (their share is zeros, or .grad as it is)."""
        self.expect_hooks = True
        self.ready = [False] * len(self.params)
        self.next_bucket = 0
        for bucket in self.buckets:
            bucket.left = len(bucket.params)
            bucket.future = None
        self.unused_marked = False
        self.started = False
        self.fired = set()
        if self._static_fixed():
            self.unused = list(self.static_unused)
        else:
            self.unused = _unreached(self.params, outputs) if self.find_unused else []

    def push_all_rebuilt_params(self):
        """Join: a joined rank that saw no gradient records every parameter, in order, so that it takes part in
        the rebuild the others run at their next forward (PyTorch's _push_all_rebuilt_params)."""
        if self.should_rebuild() and not self.ready_order:
            self.ready_order = list(range(len(self.params)))
            self.ready_seen = set(self.ready_order)

    def set_forward_pass_work_handle(self, work, divide_by_initial_world_size):
        """Join: the all_reduce counting the ranks still training; without divide_by_initial_world_size the
        gradients are averaged over those ranks only."""
        self.join_work = (work, divide_by_initial_world_size)

    def _abandon(self):
        """Wait for the buckets in flight; the unfinished reduction stays (PyTorch's error is raised again at
        every forward with grad enabled)."""
        for bucket in self.buckets:
            if bucket.future is not None:
                bucket.future.wait()  # NOTE: an MPI request left open would pair with the next collective
                bucket.future = None

    # --- gradients arriving ------------------------------------------------------------------
    def on_grad(self, index):
        self.used_since_sync.add(index)
        if not self.expect_hooks:
            return  # NOTE: inside no_sync, or a backward not through this DDP's forward: .grad stays local
        self.started = True
        if not self.unused_marked:
            self.unused_marked = True
            queue_callback(self.finalize)
            for i in self.unused:
                self.mark_ready(i)
        if self._static_fixed() and index in self.static_unused:
            raise RuntimeError(ERR_STATIC_GRAPH_CHANGED)
        self.fired.add(index)
        self.mark_ready(index)

    def mark_ready(self, index):
        if self.ready[index]:
            return  # NOTE: marked unused, then reached from outside forward: its share was taken, as PyTorch
        self.ready[index] = True
        if self.should_rebuild() and index not in self.ready_seen:
            self.ready_seen.add(index)
            self.ready_order.append(index)
        bucket = self.where[index]
        param = self.params[index]
        grad = param.grad
        view = self.views[index]
        with no_grad():
            if grad is None:
                view.zero_()
            elif grad is not view:
                view.copy_(grad)
                if self.gradient_as_bucket_view:
                    param.grad = view  # NOTE: as PyTorch: from now on autograd accumulates into the bucket
        bucket.left -= 1
        if bucket.left == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self):
        # NOTE: in bucket order on every rank, as PyTorch: MPI pairs collectives by the order they are called in
        if self.join_work is not None:
            work, divide_by_initial = self.join_work
            self.join_work = None
            work.wait()
            if not divide_by_initial:
                self.div_factor = int(work.result()[0].item())
            else:
                self.div_factor = self.world_size
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].left == 0:
            bucket = self.buckets[self.next_bucket]
            bucket.future = self.run_comm_hook(self.grad_bucket(self.next_bucket))
            self.next_bucket += 1

    def grad_bucket(self, index, zeros=False):
        """The GradBucket handed to the comm hook for bucket `index` (zeros=True: a joined rank's zeros)."""
        from ._grad_bucket import GradBucket
        bucket = self.buckets[index]
        flat, views = bucket.flat, bucket.views
        if zeros:
            flat = _creation.zeros_like(bucket.flat)
            views, offset = [], 0
            for i in bucket.params:
                n = self.params[i].numel()
                views.append(flat[offset:offset + n].view(self.params[i].shape))
                offset += n
        return GradBucket(index, flat, views, [self.params[i] for i in bucket.params],
                          index == len(self.buckets) - 1)

    def run_comm_hook(self, grad_bucket):
        """A future of the bucket's reduced flat tensor: the registered hook's, or the default average."""
        if self.comm_hook is not None:
            state, hook = self.comm_hook
            fut = hook(state, grad_bucket)
            if not hasattr(fut, "wait") or not hasattr(fut, "then"):
                kind = type(fut)
                raise RuntimeError("DDP communication hook's callback must return a torch.futures.Future object, "
                                   f"but got {kind.__module__}.{kind.__qualname__}")
            return fut
        flat = grad_bucket.buffer()
        with no_grad():
            if self.div_factor > 1:
                flat.div_(self.div_factor)  # NOTE: divided before the sum, as PyTorch's reducer
            work = self.dist.all_reduce(flat, group=self.group, async_op=True)
        return _Pending(work, flat)

    def finalize(self):
        """At the end of backward: wait for every bucket and write the averaged gradients into .grad."""
        if not self.expect_hooks or self.next_bucket < len(self.buckets):
            return  # NOTE: some gradient never came; the next forward raises PyTorch's error
        self.expect_hooks = False
        results = [self._result(bucket) for bucket in self.buckets]
        if self.needs_used_map():
            globally_used = self._globally_used()
            if self.static_graph:
                self.static_first = False
                self.static_unused = [i for i in range(len(self.params)) if i not in self.fired]
                self.static_used_anywhere = globally_used
        else:
            globally_used = self.static_used_anywhere if self._static_fixed() else None
        prev = _grad_state.grad_enabled
        _grad_state.grad_enabled = False
        try:
            for bucket, result in zip(self.buckets, results):
                if result is not bucket.flat:
                    bucket.flat.copy_(result)
                for i, view in zip(bucket.params, bucket.views):
                    if globally_used is not None and not globally_used[i]:
                        continue  # NOTE: no rank used it: .grad is left as it was (None stays None), as PyTorch
                    param = self.params[i]
                    if self.gradient_as_bucket_view:
                        if param.grad is not view:
                            param.grad = view
                    elif param.grad is None:
                        param.grad = view.clone()
                    else:
                        param.grad.copy_(view)
        finally:
            _grad_state.grad_enabled = prev
        self.used_since_sync = set()
        self.div_factor = self.world_size

    def _result(self, bucket):
        fut, bucket.future = bucket.future, None
        result = fut.wait()
        if not isinstance(result, Tensor):
            raise RuntimeError(f"Unable to cast {result!r} to Tensor")
        if tuple(result.shape) != tuple(bucket.flat.shape):
            raise RuntimeError("Communication hook: the future's value must be the bucket's flat tensor of "
                               f"{bucket.flat.numel()} elements, got {type(result).__name__}")
        return result

    def local_used_map(self):
        used = _creation.zeros(len(self.params), dtype=_dtype.int32)
        with no_grad():
            for i in self.used_since_sync:
                used[i] = 1
        return used

    def _globally_used(self):
        used = self.local_used_map()
        self.dist.all_reduce(used, op=self.dist.ReduceOp.MAX, group=self.group)
        return [bool(v) for v in used.tolist()]


class _Pending:
    """The default reduction in flight: wait() waits for the all_reduce and returns the averaged flat tensor.

    NOTE: lighter than a Future chained with then(), on the path every DDP step takes."""

    __slots__ = ("work", "flat")

    def __init__(self, work, flat):
        self.work, self.flat = work, flat

    def wait(self):
        self.work.wait()
        return self.flat


def _hook(reducer_ref, index):
    def hook(param):
        reducer = reducer_ref()
        if reducer is not None:
            reducer.on_grad(index)
    return hook


def _unreached(params, outputs):
    """Indices of the parameters whose gradient node the backward graph of `outputs` does not reach."""
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return [i for i, p in enumerate(params) if p._accum is None or p._accum not in seen]
