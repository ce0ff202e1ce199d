"""torch.distributed.algorithms.ddp_comm_hooks: DDP communication hooks (default_hooks, debugging_hooks) and
DDPCommHookType/register_ddp_comm_hook.

Not in ember: the quantization, PowerSGD, post-local-SGD and optimizer-overlap hooks."""
import enum
from functools import partial

from . import debugging_hooks as debugging
from . import default_hooks as default

__all__ = ["DDPCommHookType", "register_ddp_comm_hook"]


# NOTE: Python 3.11+ wants enum.member for a partial to be a member; 3.10 makes it one anyway
_member = getattr(enum, "member", lambda value: value)


def _ddp_comm_hook_wrapper(comm_hook, model, state):
    model.register_comm_hook(state, comm_hook)


class DDPCommHookType(enum.Enum):
    """The built-in hooks by name: DDPCommHookType.ALLREDUCE.value(model=model, state=process_group)."""

    ALLREDUCE = _member(partial(_ddp_comm_hook_wrapper, comm_hook=default.allreduce_hook))
    FP16_COMPRESS = _member(partial(_ddp_comm_hook_wrapper, comm_hook=default.fp16_compress_hook))
    BF16_COMPRESS = _member(partial(_ddp_comm_hook_wrapper, comm_hook=default.bf16_compress_hook))
    NOOP = _member(partial(_ddp_comm_hook_wrapper, comm_hook=debugging.noop_hook))


def register_ddp_comm_hook(comm_hook_type, model, state=None):
    """Register the hook `comm_hook_type` names on the DDP `model` (state: its process group, None: the default)."""
    comm_hook_type.value(model=model, state=state)
