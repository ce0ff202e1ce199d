"""torch.nn.parallel.DistributedDataParallel: one model replica per process, gradients averaged during backward."""
import inspect
import warnings
from contextlib import contextmanager

from ..._state import is_grad_enabled
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...distributed.algorithms.join import Join, Joinable, JoinHook
from ..modules.module import Module
from ._reducer import DEFAULT_BUCKET_CAP_MB, FIRST_BUCKET_BYTES, Reducer, bucket_assignment

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
BROADCAST_BUCKET_BYTES = 250 * _MB  # NOTE: PyTorch's: parameters and buffers are broadcast this many bytes at a time


def _dist():
    from ... import distributed  # NOTE: late: ember.distributed is imported after ember.nn
    return distributed


class DistributedDataParallel(Module, Joinable):
    """Runs `module` in every process of the group and averages its gradients across them during backward.

    At construction the parameters and buffers of rank 0 are broadcast to every rank; during backward each
    bucket of gradients (reverse registration order, `bucket_cap_mb` MiB each after a 1 MiB first one) is
    all-reduced asynchronously as soon as its last gradient is accumulated, and every bucket is waited for
    when backward ends. state_dict keys carry the `module.` prefix.

    After the first iteration the buckets are rebuilt once, in the order the gradients became ready (as
    PyTorch, unless find_unused_parameters without static_graph). register_comm_hook replaces the average by a
    hook's reduction; join() trains on uneven inputs; gradient_as_bucket_view=True makes each .grad a view into
    its bucket.

    Differences from PyTorch: mixed_precision is accepted and ignored; sparse gradients and device_mesh are not
    supported; _register_builtin_comm_hook runs the Python hooks of the same arithmetic."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        Module.__init__(self)
        Joinable.__init__(self)
        dist = _dist()
        if process_group is not None and device_mesh is not None:
            raise RuntimeError("Cannot specify both process_group and device_mesh arguments.")
        if device_mesh is not None:
            raise NotImplementedError("DistributedDataParallel(device_mesh=...) is not supported in ember")
        # NOTE: asking the default group's size raises PyTorch's error where init_process_group was not called
        dist.get_world_size(process_group)
        self.process_group = process_group if process_group is not None else dist.group.WORLD
        self.parameters_to_ignore = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
        named = [(n, p) for n, p in module.named_parameters() if n not in self.parameters_to_ignore]
        self._module_parameters = [p for _, p in named]
        if not any(p.requires_grad for p in self._module_parameters):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        self.device_type = self._one_device_type()
        self.is_multi_device_module = len({p.device for p in self._module_parameters}) > 1
        if not device_ids or self.device_type == "cpu" or self.is_multi_device_module:
            if device_ids or output_device:
                devices = {p.device for p in self._module_parameters}
                raise ValueError(
                    "DistributedDataParallel device_ids and output_device arguments only work with "
                    "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                    f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
            self.device_ids = None
            self.output_device = None
        else:
            self.device_ids = [_device_index(d) for d in device_ids]
            self.output_device = _device_index(output_device if output_device is not None else device_ids[0])
        self.static_graph = False
        self.dim = dim
        self.module = module
        self.device = self._module_parameters[0].device
        self.forward_sync_buffers, init_sync_buffers = _buffer_sync_flags(broadcast_buffers, forward_sync_buffers)
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.mixed_precision = mixed_precision
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module is deprecated. "
                          "Please avoid using it.", FutureWarning, stacklevel=2)
        self.broadcast_bucket_size = BROADCAST_BUCKET_BYTES
        per_bucket = [int(mb * _MB) for mb in bucket_cap_mb_list or ()]
        if per_bucket:
            bucket_cap_mb = max(bucket_cap_mb_list)
        self.bucket_bytes_cap = int((bucket_cap_mb if bucket_cap_mb is not None else DEFAULT_BUCKET_CAP_MB) * _MB)
        first = FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self.modules_buffers = [b for n, b in module.named_buffers() if n not in self.parameters_to_ignore]

        params = [p for p in self._module_parameters if p.requires_grad]
        for sub in module.modules():
            if getattr(sub, "sparse", False) is True:
                raise NotImplementedError(f"DistributedDataParallel over a module with sparse gradients "
                                          f"({type(sub).__name__}(sparse=True)) is not supported in ember")
        if init_sync:
            self._verify_same_parameters(params)
            self._broadcast([p for p in self._module_parameters]
                            + (self.modules_buffers if init_sync_buffers else []))
        # NOTE: PyTorch 2.13's bucketing: one bucket for the first iteration unless find_unused_parameters
        # (without static_graph), which keeps [first, cap]-sized buckets and never rebuilds; the rebuild after
        # the first iteration uses [first, cap] (or bucket_cap_mb_list)
        rebuild_limits = per_bucket or [first, self.bucket_bytes_cap]
        if per_bucket:
            limits = per_bucket
        elif static_graph or not find_unused_parameters:
            limits = [float("inf")]
        else:
            limits = [first, self.bucket_bytes_cap] if first < self.bucket_bytes_cap else [self.bucket_bytes_cap]
        buckets, _ = bucket_assignment(params, limits)
        # NOTE: reversed, as PyTorch: the parameters defined last get their gradients first
        self.reducer = Reducer(params, list(reversed(buckets)), rebuild_limits, self.process_group, dist,
                               find_unused_parameters or static_graph, gradient_as_bucket_view)
        self._comm_hooks = []
        self._divide_by_initial_world_size = True
        if static_graph:
            self._set_static_graph()

    def __del__(self):
        reducer = self.__dict__.get("reducer")
        if reducer is not None:
            reducer.remove_hooks()

    def _one_device_type(self):
        types = {p.device.type for p in self._module_parameters}
        if len(types) != 1:
            raise ValueError("DistributedDataParallel's input module must be on the same type of devices, but "
                             f"input module parameters locate in {types}.")
        return next(iter(types))

    def _set_static_graph(self):
        """Declare the graph the same every iteration: unused parameters are then found without
        find_unused_parameters, and the buckets are still rebuilt after the first iteration."""
        if self.static_graph:
            warnings.warn("You've set static_graph to be True, no need to set it again.", stacklevel=2)
            return
        self.static_graph = True
        self.reducer.static_graph = True
        self.reducer.find_unused = True
        if self.find_unused_parameters:
            warnings.warn("You passed find_unused_parameters=true to DistributedDataParallel, `_set_static_graph` "
                          "will detect unused parameters automatically, so you do not need to set "
                          "find_unused_parameters=true, just be sure these unused parameters will not change "
                          "during training loop while calling `_set_static_graph`.", stacklevel=2)

    # --- communication hooks ---------------------------------------------------------------------
    def register_comm_hook(self, state, hook):
        """Reduce each bucket with hook(state, bucket) -> Future of the bucket's reduced flat tensor, instead of
        the average (the hook divides by the world size itself). Called once, before the first backward."""
        self._check_comm_hook(hook)
        if self.reducer.comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        self._comm_hooks.append((hook, state))
        self.reducer.comm_hook = (state, hook)

    def _register_builtin_comm_hook(self, comm_hook_type):
        """PyTorch's C++ hooks by dist.BuiltinCommHookType: ember runs the Python hooks that compute the same
        (ALLREDUCE: allreduce_hook, FP16_COMPRESS: fp16_compress_hook) on the DDP's process group."""
        from ...distributed.algorithms.ddp_comm_hooks import default_hooks
        dist = _dist()
        hooks = {dist.BuiltinCommHookType.ALLREDUCE: default_hooks.allreduce_hook,
                 dist.BuiltinCommHookType.FP16_COMPRESS: default_hooks.fp16_compress_hook}
        if comm_hook_type not in hooks:
            raise TypeError(f"_register_builtin_comm_hook(): comm_hook_type must be a "
                            f"torch.distributed.BuiltinCommHookType, not {type(comm_hook_type).__name__}")
        if self.reducer.comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        self.reducer.comm_hook = (self.process_group, hooks[comm_hook_type])

    def _check_comm_hook(self, hook):
        from ...futures import Future
        if not callable(hook):
            raise TypeError("Communication hook must be callable.")
        sig = inspect.signature(hook)
        bucket = sig.parameters.get("bucket")
        if bucket is not None and bucket.annotation is not inspect.Parameter.empty \
                and bucket.annotation is not _dist().GradBucket:
            raise ValueError("Communication hook: bucket annotation should be dist.GradBucket.")
        if sig.return_annotation is not inspect.Signature.empty and sig.return_annotation is not Future:
            raise ValueError("Communication hook: return annotation should be torch.futures.Future[torch.Tensor].")

    # --- uneven inputs ---------------------------------------------------------------------------
    def join(self, divide_by_initial_world_size=True, enable=True, throw_on_early_termination=False):
        """Context manager for ranks with different numbers of batches: a rank that has run out shadows the
        others' gradient all_reduces with zeros until every rank is done; then every rank takes the model of
        the last to finish. Gradients are divided by the initial world size (or by the ranks still training)."""
        return Join([self], enable, throw_on_early_termination,
                    divide_by_initial_world_size=divide_by_initial_world_size)

    def join_hook(self, **kwargs):
        """DDP's JoinHook (kwargs: divide_by_initial_world_size)."""
        self._divide_by_initial_world_size = kwargs.get("divide_by_initial_world_size", True)
        return _DDPJoinHook(self)

    @property
    def join_device(self):
        return self.device

    @property
    def join_process_group(self):
        return self.process_group

    def _find_common_rank(self, rank_cond):
        """The highest rank of the group where rank_cond holds (an all_reduce MAX)."""
        from ... import tensor
        dist = _dist()
        rank = dist.get_rank(self.process_group)
        chosen = tensor([rank if rank_cond else -1], device=self.device)
        dist.all_reduce(chosen, op=dist.ReduceOp.MAX, group=self.process_group)
        if chosen.item() == -1:
            raise ValueError("BUG! Expected rank_cond to be true for at least one process. This indicates a bug in "
                             "PyTorch, please report an issue.")
        return int(chosen.item())

    def _check_global_requires_backward_grad_sync(self, is_joined_rank):
        from ... import ones, zeros
        flag = (ones if not is_joined_rank and self.require_backward_grad_sync else zeros)(1, device=self.device)
        work = _dist().all_reduce(flag, group=self.process_group, async_op=True)
        if is_joined_rank:
            work.wait()
            return flag.item() != 0
        return work

    # --- forward ---------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if is_grad_enabled():  # NOTE: inside no_sync too, as PyTorch
            self.reducer.check_prior_reduction()
        # NOTE: the collectives below run in PyTorch's order: a joined rank's _DDPJoinHook shadows them in it
        work = Join.notify_join_context(self)
        if work is not None:
            self.reducer.set_forward_pass_work_handle(work, self._divide_by_initial_world_size)
        if is_grad_enabled():
            self.reducer.rebuild_buckets()
        if self.will_sync_module_buffers():
            self._sync_buffers()
        if self._join_config.enable:
            self._check_global_requires_backward_grad_sync(is_joined_rank=False)
        if self.device_ids:
            inputs, kwargs = _to_device((inputs, kwargs), self.device)
        output = self.module(*inputs, **kwargs)
        if sync:
            self.require_forward_param_sync = True
            found = _find_tensors(output) if self.reducer.find_unused else []
            self.reducer.prepare_for_backward(found)
        else:
            self.require_forward_param_sync = False
        return output

    def will_sync_module_buffers(self):
        """Whether the next forward first broadcasts rank 0's buffers (broadcast_buffers, after a synced step)."""
        return self.require_forward_param_sync and self.forward_sync_buffers and len(self.modules_buffers) > 0

    def _sync_buffers(self):
        root = self._find_common_rank(True) if self._join_config.enable else 0
        self._broadcast(self.modules_buffers, root)

    @contextmanager
    def no_sync(self):
        """Within this context backward accumulates gradients locally; the first backward after it averages them."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # --- construction-time collectives -----------------------------------------------------------
    def _broadcast(self, tensors, root=0):
        """Rank root's values of `tensors` into every rank's, packed into flat tensors of up to 250 MiB per dtype
        (root: a rank of the group)."""
        from ... import cat
        dist = _dist()
        root = dist.get_global_rank(self.process_group, root) if self.process_group is not dist.group.WORLD else root
        groups = {}
        for t in tensors:
            groups.setdefault((t.dtype, t.device), []).append(t)
        with no_grad():
            for group in groups.values():
                for chunk in _chunks(group, self.broadcast_bucket_size):
                    if len(chunk) == 1:
                        dist.broadcast(chunk[0].data, root, group=self.process_group)
                        continue
                    flat = cat([t.detach().reshape(-1) for t in chunk])
                    dist.broadcast(flat, root, group=self.process_group)
                    offset = 0
                    for t in chunk:
                        t.copy_(flat[offset:offset + t.numel()].view(t.shape))
                        offset += t.numel()

    def _verify_same_parameters(self, params):
        """PyTorch's check that every rank wraps the same model (as many parameters, the same shapes)."""
        dist = _dist()
        shapes = [tuple(p.shape) for p in params]
        everyone = [None] * dist.get_world_size(self.process_group)
        dist.all_gather_object(everyone, shapes, group=self.process_group)
        me = dist.get_rank(self.process_group)
        for rank, theirs in enumerate(everyone):
            if len(theirs) != len(shapes):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {me} has {len(shapes)} "
                                   f"params, while rank {rank} has inconsistent {len(theirs)} params.")
            for i, (mine, other) in enumerate(zip(shapes, theirs)):
                if mine != other:
                    raise RuntimeError(f"DDP expects same model across all ranks, but Rank {me} has parameter {i} "
                                       f"of shape {list(mine)}, while rank {rank} has shape {list(other)}.")


class _DDPJoinHook(JoinHook):
    """What a DDP rank that has run out of inputs does while the others still train (PyTorch's order)."""

    def __init__(self, ddp):
        self.ddp = ddp

    def main_hook(self):
        ddp = self.ddp
        reducer = ddp.reducer
        reducer.rebuild_buckets()
        if ddp.will_sync_module_buffers():
            ddp._broadcast(ddp.modules_buffers, ddp._find_common_rank(False))
        should_sync = ddp._check_global_requires_backward_grad_sync(is_joined_rank=True)
        ddp.require_forward_param_sync = should_sync
        if not should_sync:
            return
        # NOTE: one reduction per bucket, in the reducer's order, with zeros for this rank's share
        futures = [reducer.run_comm_hook(reducer.grad_bucket(i, zeros=True)) for i in range(len(reducer.buckets))]
        for fut in futures:
            fut.wait()
        if reducer.needs_used_map():
            from ... import zeros
            from ..._dtype import int32
            dist = _dist()
            dist.all_reduce(zeros(len(reducer.params), dtype=int32), op=dist.ReduceOp.MAX, group=ddp.process_group)
        reducer.push_all_rebuilt_params()

    def post_hook(self, is_last_joiner):
        ddp = self.ddp
        root = ddp._find_common_rank(is_last_joiner)
        ddp._broadcast(list(ddp.module.parameters()) + ddp.modules_buffers, root)


def _buffer_sync_flags(broadcast_buffers, forward_sync_buffers):
    """(sync buffers before each forward, sync them at construction), with PyTorch 2.13's deprecation warnings."""
    if broadcast_buffers is not None:
        if forward_sync_buffers is not None:
            warnings.warn("Both `broadcast_buffers` and `forward_sync_buffers` were specified. `broadcast_buffers` "
                          "is deprecated and its value is ignored when `forward_sync_buffers` is provided.",
                          FutureWarning, stacklevel=3)
        else:
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. IMPORTANT: unlike "
                          "`broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers at init. If "
                          "you rely on buffers NOT being synced at init (e.g. rank-local buffers), keep using "
                          "`broadcast_buffers=False` until `init_sync_buffers` is available.",
                          FutureWarning, stacklevel=3)
    if forward_sync_buffers is not None:
        return forward_sync_buffers, True
    effective = broadcast_buffers if broadcast_buffers is not None else True
    return effective, effective


def _chunks(tensors, limit):
    chunk, size = [], 0
    for t in tensors:
        nbytes = t.numel() * t.element_size()
        if chunk and size + nbytes > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(t)
        size += nbytes
    if chunk:
        yield chunk


def _device_index(device):
    if isinstance(device, int):
        return device
    index = getattr(device, "index", None)
    if index is not None:
        return index
    from ... import device as make_device
    return make_device(device).index


def _find_tensors(obj):
    """The tensors in a forward's output (nested in tuples, lists and dicts)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _find_tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _find_tensors(item)]
    return []


def _to_device(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, tuple):
        return tuple(_to_device(item, device) for item in obj)
    if isinstance(obj, list):
        return [_to_device(item, device) for item in obj]
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    return obj
