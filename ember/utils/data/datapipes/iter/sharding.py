"""torch.utils.data.datapipes.iter.sharding:
ShardingFilter (sharding_filter): keep every n-th element for one of n workers/ranks."""
from enum import IntEnum

from .._common import _sized_len
from .._decorator import functional_datapipe
from ..datapipe import IterDataPipe

__all__ = ["SHARDING_PRIORITIES", "ShardingFilterIterDataPipe"]


class SHARDING_PRIORITIES(IntEnum):
    """Sharding groups: DEFAULT shards by everything; DISTRIBUTED and MULTIPROCESSING combine."""
    DEFAULT = 1
    DISTRIBUTED = 2
    MULTIPROCESSING = 3


@functional_datapipe("sharding_filter")
class ShardingFilterIterDataPipe(IterDataPipe):
    """Yield only this instance's shard (element i when i % num_of_instances == instance_id)
    (functional: sharding_filter); apply_sharding sets the shard."""

    def __init__(self, source_datapipe, sharding_group_filter=None):
        self.source_datapipe = source_datapipe
        self.sharding_group_filter = sharding_group_filter
        self.groups = {}
        self.num_of_instances = 1
        self.instance_id = 0
        self._update_num_of_instances()

    def is_shardable(self):
        """True: this DataPipe takes apply_sharding."""
        return True

    def apply_sharding(self, num_of_instances, instance_id, sharding_group=SHARDING_PRIORITIES.DEFAULT):
        """Take shard instance_id of num_of_instances (within sharding_group)."""
        if instance_id >= num_of_instances:
            raise ValueError(f"instance_id({instance_id}) should be smaller than num_of_instances({num_of_instances})")
        if sharding_group == SHARDING_PRIORITIES.DEFAULT:
            if len(self.groups) and SHARDING_PRIORITIES.DEFAULT not in self.groups:
                raise RuntimeError("ShardingFilter cannot mix DEFAULT and non DEFAULT groups")
        elif SHARDING_PRIORITIES.DEFAULT in self.groups:
            raise RuntimeError("ShardingFilter cannot mix DEFAULT and non DEFAULT groups")
        self.groups[sharding_group] = (num_of_instances, instance_id)
        self._update_num_of_instances()

    def _update_num_of_instances(self):
        # NOTE: groups combine highest priority first: its index varies fastest, the next ones above it.
        groups = [self.groups[k] for k in sorted(self.groups, reverse=True)
                  if self.sharding_group_filter is None or k == self.sharding_group_filter]
        self.num_of_instances, self.instance_id = 1, 0
        for n, i in groups:
            self.instance_id += i * self.num_of_instances
            self.num_of_instances *= n

    def __iter__(self):
        for i, item in enumerate(self.source_datapipe):
            if i % self.num_of_instances == self.instance_id:
                yield item

    def __len__(self):
        n = _sized_len(self, self.source_datapipe)
        return n // self.num_of_instances + (1 if self.instance_id < n % self.num_of_instances else 0)
