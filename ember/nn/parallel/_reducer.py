"""DistributedDataParallel's reducer: parameters in buckets, each bucket's gradients averaged across the ranks
by one all_reduce launched as soon as the bucket's last gradient is accumulated, all waited for when the
backward walk ends."""
import weakref

from ... import _creation, _dtype
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


def bucket_assignment(tensors, size_limits):
    """Indices of `tensors` grouped into buckets (PyTorch's _compute_bucket_assignment_by_size): in order, one open
    bucket per dtype and device, closed once it holds `limit` bytes, where the limit steps through size_limits
    (then stays at the last); buckets are listed by their first index. Returns (buckets, each one's limit)."""
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
    closed.sort(key=lambda bucket: bucket[0][0])
    return [b[0] for b in closed], [b[1] for b in closed]


class _Bucket:
    """Parameters whose gradients travel in one flat tensor (one all_reduce)."""

    __slots__ = ("params", "flat", "left", "work")

    def __init__(self, params):
        self.params = params  # indices into the reducer's parameter list
        self.flat = None
        self.left = 0
        self.work = None


class Reducer:
    """Averages the gradients of `params` across `group` during backward (see the module docstring)."""

    def __init__(self, params, bucket_indices, group, dist, find_unused):
        self.params = params
        self.group = group
        self.dist = dist
        self.find_unused = find_unused
        self.world_size = dist.get_world_size(group)
        self.buckets = []
        self.where = {}  # parameter index -> (bucket, offset)
        for indices in bucket_indices:
            bucket = _Bucket(indices)
            offset = 0
            for i in indices:
                self.where[i] = (bucket, offset)
                offset += params[i].numel()
            first = params[indices[0]]
            bucket.flat = _creation.zeros(offset, dtype=first.dtype, device=first.device)
            self.buckets.append(bucket)
        # NOTE: each parameter's place in its bucket, in the parameter's shape, made once
        self.views = [None] * len(params)
        for i, (bucket, offset) in self.where.items():
            p = params[i]
            self.views[i] = bucket.flat[offset:offset + p.numel()].view(p.shape)
        self.expect_hooks = False
        self.ready = [False] * len(params)
        self.next_bucket = 0
        self.unused = []
        self.unused_marked = False
        self.used_since_sync = set()  # NOTE: params that got a gradient since the last reduction (no_sync too)
        me = weakref.ref(self)  # NOTE: the hooks outlive nothing: a reducer that is gone makes them no-ops
        self.handles = [p.register_post_accumulate_grad_hook(_hook(me, i)) for i, p in enumerate(params)]

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()
        self.handles = []

    # --- iteration boundaries ----------------------------------------------------------------
    def check_prior_reduction(self):
        """PyTorch's error where the last synchronised backward left some bucket unreduced."""
        if not self.expect_hooks or self.next_bucket == 0 and not any(self.ready):
            self.expect_hooks = False
            return
        missing = " ".join(str(i) for i, done in enumerate(self.ready) if not done)
        self._abandon()
        raise RuntimeError(ERR_PRIOR_REDUCTION.format(rank=self.dist.get_rank(self.group), indices=missing))

    def prepare_for_backward(self, outputs):
        """Expect every parameter's gradient in the next backward; with find_unused, mark those the graph
        of `outputs` does not reach (their share is zeros, or .grad as it is)."""
        self.expect_hooks = True
        self.ready = [False] * len(self.params)
        self.next_bucket = 0
        for bucket in self.buckets:
            bucket.left = len(bucket.params)
            bucket.work = None
        self.unused_marked = False
        self.unused = _unreached(self.params, outputs) if self.find_unused else []

    def _abandon(self):
        for bucket in self.buckets:
            if bucket.work is not None:
                bucket.work.wait()  # NOTE: an MPI request left open would pair with the next collective
                bucket.work = None
        self.expect_hooks = False

    # --- gradients arriving ------------------------------------------------------------------
    def on_grad(self, index):
        self.used_since_sync.add(index)
        if not self.expect_hooks:
            return  # NOTE: inside no_sync, or a backward not through this DDP's forward: .grad stays local
        if not self.unused_marked:
            self.unused_marked = True
            queue_callback(self.finalize)
            for i in self.unused:
                self.mark_ready(i)
        self.mark_ready(index)

    def mark_ready(self, index):
        if self.ready[index]:
            return  # NOTE: marked unused, then reached from outside forward: its share was taken, as PyTorch
        self.ready[index] = True
        bucket = self.where[index][0]
        grad = self.params[index].grad
        with no_grad():
            if grad is None:
                self.views[index].zero_()
            else:
                self.views[index].copy_(grad)
        bucket.left -= 1
        if bucket.left == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self):
        # NOTE: in bucket order on every rank, as PyTorch: MPI pairs collectives by the order they are called in
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].left == 0:
            bucket = self.buckets[self.next_bucket]
            with no_grad():
                if self.world_size > 1:
                    bucket.flat.div_(self.world_size)  # NOTE: divided before the sum, as PyTorch's reducer
                bucket.work = self.dist.all_reduce(bucket.flat, group=self.group, async_op=True)
            self.next_bucket += 1

    def finalize(self):
        """At the end of backward: wait for every bucket and write the averaged gradients into .grad."""
        if not self.expect_hooks or self.next_bucket < len(self.buckets):
            return  # NOTE: some gradient never came; the next forward raises PyTorch's error
        self.expect_hooks = False
        globally_used = self._globally_used() if self.find_unused else None
        prev = _grad_state.grad_enabled
        _grad_state.grad_enabled = False
        try:
            for bucket in self.buckets:
                bucket.work.wait()
                bucket.work = None
                for i in bucket.params:
                    if globally_used is not None and not globally_used[i]:
                        continue  # NOTE: no rank used it: .grad is left as it was (None stays None), as PyTorch
                    param = self.params[i]
                    averaged = self.views[i]
                    if param.grad is None:
                        param.grad = averaged.clone()
                    else:
                        param.grad.copy_(averaged)
        finally:
            _grad_state.grad_enabled = prev
        self.used_since_sync = set()

    def _globally_used(self):
        used = _creation.zeros(len(self.params), dtype=_dtype.int32)
        with no_grad():
            for i in self.used_since_sync:
                used[i] = 1
        self.dist.all_reduce(used, op=self.dist.ReduceOp.MAX, group=self.group)
        return [bool(v) for v in used.tolist()]


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
