"""torch.distributed.algorithms.join: training with uneven inputs. A rank that runs out of batches leaves the
`with Join([...])` block and then shadows the collectives the others still run (through each Joinable's
JoinHook) until every rank has left."""
import warnings
from abc import ABC, abstractmethod
from typing import NamedTuple

__all__ = ["Join", "JoinHook", "Joinable"]


def _dist():
    from ... import distributed
    return distributed


class JoinHook:
    """What a joined rank does for one Joinable: main_hook() once per collective round the others still run,
    post_hook(is_last_joiner) once every rank has joined."""

    def main_hook(self):
        """Shadow one training iteration's collectives of the ranks still training."""

    def post_hook(self, is_last_joiner):
        """Clean up once every rank has joined (is_last_joiner: this rank was among the last)."""


class _JoinConfig(NamedTuple):
    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config():
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Joinable(ABC):
    """A class that can take part in Join: gives a join_hook(), a join_device and a join_process_group, and
    calls Join.notify_join_context(self) in each iteration before its own collectives."""

    @abstractmethod
    def __init__(self):
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abstractmethod
    def join_hook(self, **kwargs):
        """The JoinHook for this Joinable (kwargs: those given to Join)."""

    @property
    @abstractmethod
    def join_device(self):
        """The device the join context's own all_reduces use."""

    @property
    @abstractmethod
    def join_process_group(self):
        """The process group of the join context's collectives."""


class Join:
    """Context manager for uneven inputs: each rank runs its own batches inside `with Join(joinables):`; a rank
    that finishes early shadows the others' collectives (DDP's gradient all_reduces with zeros) until all end.

    throw_on_early_termination=True: every rank raises RuntimeError once one has run out of inputs instead."""

    def __init__(self, joinables, enable=True, throw_on_early_termination=False, **kwargs):
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables = joinables
        self._join_hooks = [joinable.join_hook(**kwargs) for joinable in self._joinables]
        self._enable = enable
        self._throw_on_early_termination = throw_on_early_termination
        first = True
        for joinable in self._joinables:
            joinable._join_config = _JoinConfig(enable=enable, throw_on_early_termination=throw_on_early_termination,
                                                is_first_joinable=first)
            first = False
        process_group = device = None
        for joinable in self._joinables:
            if process_group is None:
                process_group = joinable.join_process_group
            elif process_group != joinable.join_process_group:
                raise ValueError("Using join context manager with multiple process groups")
            if device is None:
                device = joinable.join_device
        self._process_group = process_group
        self._rank = _dist().get_rank(process_group)
        self._device = device

    def __enter__(self):
        pass

    def __exit__(self, type, value, traceback):
        if not self._enable or type:
            return  # NOTE: an exception inside the block propagates as it is, as PyTorch
        all_joined = False
        is_last_joiner = True
        rounds = 0
        warn_after = 1000
        while not all_joined:
            if rounds > warn_after:
                warnings.warn(f"Detected uneven input skew of greater than {warn_after}. This means that rank "
                              f"{self._rank} has at least {warn_after} fewer inputs than other currently-active "
                              "ranks. This level of skew could lead to performance degradation during training.",
                              stacklevel=2)
            if self._count(0.0) == 0:
                all_joined = True
            else:
                if self._throw_on_early_termination:
                    self._count(1.0)
                    raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")
                for hook in self._join_hooks:
                    hook.main_hook()
                is_last_joiner = False
            rounds += 1
        for hook in self._join_hooks:
            hook.post_hook(is_last_joiner)

    def _count(self, mine):
        """Sum over the group of `mine` (0: this rank has joined; the ranks still training add 1)."""
        from ... import full
        total = full((1,), mine, device=self._device)
        _dist().all_reduce(total, group=self._process_group)
        return total.item()

    @staticmethod
    def notify_join_context(joinable):
        """Called by a Joinable each iteration: tells joined ranks this one still trains. Returns the async
        all_reduce's Work for the first Joinable of an enabled context, else None."""
        from ... import ones, zeros
        if not hasattr(joinable, "_join_config"):
            raise AssertionError(f"Check that the {type(joinable)} constructor calls the ``Joinable`` constructor")
        config = joinable._join_config
        if not config.is_first_joinable or not config.enable:
            return None
        dist = _dist()
        group = joinable.join_process_group
        work = dist.all_reduce(ones(1, device=joinable.join_device), group=group, async_op=True)
        if config.throw_on_early_termination:
            flag = zeros(1, device=joinable.join_device)
            dist.all_reduce(flag, group=group)
            if flag.item():
                raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")
        return work
