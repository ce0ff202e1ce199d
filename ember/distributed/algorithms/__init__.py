"""torch.distributed.algorithms: the Join context manager for uneven inputs, and DDP's communication hooks
(ember.distributed.algorithms.ddp_comm_hooks)."""
from .join import Join, Joinable, JoinHook

__all__ = ["Join", "Joinable", "JoinHook"]
