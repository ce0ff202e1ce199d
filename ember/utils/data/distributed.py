"""torch.utils.data.distributed: DistributedSampler, each process's share of a dataset."""
import math

import ember

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _from_group(what):
    """The default process group's world size or rank (PyTorch's error when there is none)."""
    from ... import distributed as dist  # NOTE: late: ember.distributed imports utils.data's neighbours
    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size() if what == "world_size" else dist.get_rank()


class DistributedSampler(Sampler):
    """Indices of the share of `dataset` that process `rank` of `num_replicas` reads (padded by repeating
    the first indices so every process gets as many, or trimmed with drop_last); call set_epoch(e) at each
    epoch for a new order (the same order as PyTorch's for the same seed and epoch)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _from_group("world_size")
        if rank is None:
            rank = _from_group("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        size = len(dataset)
        if drop_last and size % num_replicas:
            # NOTE: the tail that cannot be shared evenly is dropped, so each process gets floor(size / n)
            self.num_samples = math.ceil((size - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(size / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        size = len(self.dataset)
        if self.shuffle:
            # NOTE: seeded by seed + epoch alone, so every process draws the same permutation
            generator = ember.Generator()
            generator.manual_seed(self.seed + self.epoch)
            order = ember.randperm(size, generator=generator).tolist()
        else:
            order = list(range(size))
        missing = self.total_size - len(order)
        if missing > 0:
            repeats = math.ceil(missing / len(order))
            order += (order * repeats)[:missing]
        else:
            order = order[:self.total_size]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch that, with the seed, picks the shuffled order (the same on every process)."""
        self.epoch = epoch
