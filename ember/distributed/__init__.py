"""torch.distributed on existing engines: MPI through mpi4py for CPU tensors (the 'gloo' and 'mpi' backends)
and NCCL through CuPy for CUDA tensors ('nccl'). Start the ranks with `python -m ember.distributed.run
--nproc-per-node N script.py` (one machine) or `mpiexec -n N python script.py` (an MPI cluster)."""
from ._types import (Backend, DistBackendError, DistError, DistNetworkError, DistStoreError, ReduceOp,
                     default_pg_timeout)
from ._world import (GroupMember, ProcessGroup, destroy_process_group, get_backend, get_global_rank,
                     get_group_rank, get_node_local_rank, get_pg_count, get_process_group_ranks, get_rank,
                     get_world_size, group, init_process_group, is_available, is_backend_available,
                     is_gloo_available, is_initialized, is_mpi_available, is_nccl_available,
                     is_torchelastic_launched, new_group)
from ._collectives import (P2POp, all_gather, all_gather_into_tensor, all_reduce, all_to_all, all_to_all_single,
                           barrier, batch_isend_irecv, broadcast, gather, irecv, isend, monitored_barrier, recv,
                           reduce, reduce_scatter, reduce_scatter_tensor, scatter, send)
from ._objects import (all_gather_object, broadcast_object_list, gather_object, recv_object_list,
                       scatter_object_list, send_object_list)
from ._work import Work
from ._extras import (BackendConfig, BuiltinCommHookType, DebugLevel, GroupName, RankType, all_gather_coalesced,
                      all_gather_single, all_reduce_coalesced, breakpoint, get_backend_config,
                      get_debug_level, get_default_backend_for_device, is_ucc_available, is_xccl_available,
                      new_subgroups, new_subgroups_by_enumeration, record_comm, reduce_scatter_single, set_debug_level,
                      set_debug_level_from_env, split_group, supports_complex, timedelta)
from ._url_rendezvous import register_rendezvous_handler, rendezvous
from ._stores import FileStore, HashStore, PrefixStore, QueueEmptyError, Store
from ._tcp_store import TCPStore
from ..nn.parallel._grad_bucket import GradBucket
from . import algorithms

__all__ = [name for name in dir() if not name.startswith("_")]
