"""torch.utils.data.datapipes.iter.combining:
Iter DataPipes that combine or split streams: Concater (concat), Zipper (zip), Multiplexer (mux),
Forker (fork), Demultiplexer (demux)."""
import copy as copymodule
import warnings
from collections import deque

from .._common import _check_unpickable_fn
from .._decorator import functional_datapipe
from ..datapipe import IterDataPipe

__all__ = ["ConcaterIterDataPipe", "DemultiplexerIterDataPipe", "ForkerIterDataPipe",
           "MultiplexerIterDataPipe", "ZipperIterDataPipe"]


def _check_inputs(datapipes):
    if len(datapipes) == 0:
        raise ValueError("Expected at least one DataPipe, but got nothing")
    if not all(isinstance(dp, IterDataPipe) for dp in datapipes):
        raise TypeError("Expected all inputs to be `IterDataPipe`")


def _check_zip_inputs(datapipes):
    if not all(isinstance(dp, IterDataPipe) for dp in datapipes):
        raise TypeError("All inputs are required to be `IterDataPipe` for `ZipIterDataPipe`.")


def _all_lengths(pipe, datapipes):
    if all(hasattr(type(dp), "__len__") for dp in datapipes):
        return [len(dp) for dp in datapipes]
    raise TypeError(f"{type(pipe).__name__} instance doesn't have valid length")


@functional_datapipe("concat")
class ConcaterIterDataPipe(IterDataPipe):
    """The input DataPipes one after another (functional: concat)."""

    def __init__(self, *datapipes):
        _check_inputs(datapipes)
        self.datapipes = datapipes

    def __iter__(self):
        for dp in self.datapipes:
            yield from dp

    def __len__(self):
        return sum(_all_lengths(self, self.datapipes))


@functional_datapipe("zip")
class ZipperIterDataPipe(IterDataPipe):
    """Tuples of one element from each input, until the shortest ends (functional: zip)."""

    def __init__(self, *datapipes):
        _check_zip_inputs(datapipes)
        super().__init__()
        self.datapipes = datapipes

    def __iter__(self):
        yield from zip(*self.datapipes)

    def __len__(self):
        return min(_all_lengths(self, self.datapipes))


@functional_datapipe("mux")
class MultiplexerIterDataPipe(IterDataPipe):
    """One element from each input in turn; stops at the first round an input cannot complete
    (functional: mux)."""

    def __init__(self, *datapipes):
        self.datapipes = datapipes
        self.buffer = []

    def __iter__(self):
        iterators = [iter(dp) for dp in self.datapipes]
        while iterators:
            for it in iterators:
                try:
                    self.buffer.append(next(it))
                except StopIteration:
                    self.buffer.clear()
                    return
            yield from self.buffer
            self.buffer.clear()

    def __len__(self):
        return min(_all_lengths(self, self.datapipes)) * len(self.datapipes)

    def reset(self):
        self.buffer = []


class _SplitContainer:
    """The shared state of the children of fork/demux: one source iterator, a queue per child.
    NOTE: a child that starts a second iteration starts a new epoch for all (the others' iterators are
    invalidated), as torch's children do."""

    def __init__(self, name, datapipe, num_instances, buffer_size, route, copy_fn=None):
        self.name = name
        self.main_datapipe = datapipe
        self.num_instances = num_instances
        self.buffer_size = buffer_size
        self.route = route
        self.copy_fn = copy_fn
        self._valid_iterator_id = None
        if buffer_size < 0:
            kind = "fork" if route is None else "demux"
            warnings.warn(f"Unlimited buffer size is set for `{kind}`, please be aware of OOM at random places",
                          UserWarning, stacklevel=4)
        self._reset_state()

    def _reset_state(self):
        self._source = None
        self.queues = [deque() for _ in range(self.num_instances)]
        self.started = set()
        self.exhausted = False

    def __getstate__(self):
        # NOTE: a live source iterator cannot be pickled: a copy (a DataLoader worker's) starts afresh
        state = dict(self.__dict__)
        state.update(_source=None, queues=[deque() for _ in range(self.num_instances)], started=set(),
                     exhausted=False)
        return state

    def start(self, child_id):
        if self._valid_iterator_id is None or child_id in self.started:
            self._valid_iterator_id = 0 if self._valid_iterator_id is None else self._valid_iterator_id + 1
            self._reset_state()
        self.started.add(child_id)
        return self._valid_iterator_id

    def _buffered(self):
        return max(len(q) for q in self.queues) if self.route is None else sum(len(q) for q in self.queues)

    def next_for(self, child_id):
        queue = self.queues[child_id]
        while not queue:
            if self.exhausted:
                raise StopIteration
            if self._source is None:
                self._source = iter(self.main_datapipe)
            try:
                value = next(self._source)
            except StopIteration:
                self.exhausted = True
                raise
            if self.route is None:  # fork: every child gets it
                for i, q in enumerate(self.queues):
                    q.append(value if self.copy_fn is None else self.copy_fn(value))
            else:
                target = self.route(value)
                if target is None:
                    continue
                self.queues[target].append(value)
            if self.buffer_size >= 0 and self._buffered() > self.buffer_size:
                # NOTE: torch's fork message lacks the space after the comma; kept identical
                sep = "," if self.route is None else ", "
                raise BufferError(f"{self.name} buffer overflow{sep}buffer size {self.buffer_size} is insufficient.")
        return queue.popleft()


class _ChildDataPipe(IterDataPipe):
    """One output of fork/demux."""

    _is_child_datapipe = True

    def __init__(self, container, instance_id):
        self.main_datapipe = container
        self.instance_id = instance_id

    def __iter__(self):
        container = self.main_datapipe
        epoch = container.start(self.instance_id)
        while True:
            if container._valid_iterator_id != epoch:
                raise RuntimeError("This iterator has been invalidated, because a new iterator has been "
                                   f"created from one of the ChildDataPipes of {container.name}.")
            try:
                value = container.next_for(self.instance_id)
            except StopIteration:
                return
            yield value
    __iter__._ember_hooked = True  # NOTE: the epoch check above replaces the generic single-iterator hook

    def __len__(self):
        if self.main_datapipe.route is None:
            return len(self.main_datapipe.main_datapipe)
        raise TypeError  # NOTE: torch's demux children raise a bare TypeError


def _copy_fn(copy):
    if copy is None:
        return None
    if copy == "shallow":
        return copymodule.copy
    if copy == "deep":
        return copymodule.deepcopy
    raise ValueError(f"Unknown copy method `{copy}` requested, choose one of None, `shallow` or `deep`.")


@functional_datapipe("fork")
class ForkerIterDataPipe(IterDataPipe):
    """Split into num_instances DataPipes that each yield every element; a child may run at most
    buffer_size elements ahead of the slowest (-1: unlimited) (functional: fork). Returns a list."""

    def __new__(cls, datapipe, num_instances, buffer_size=1000, copy=None):
        if num_instances < 1:
            raise ValueError(f"Expected `num_instances` larger than 0, but {num_instances} is found")
        if num_instances == 1:
            return datapipe
        container = _SplitContainer("ForkerIterDataPipe", datapipe, num_instances, buffer_size, None,
                                    _copy_fn(copy))
        return [_ChildDataPipe(container, i) for i in range(num_instances)]


class _Classifier:
    """demux's routing: the child index classifier_fn gives (None: dropped if drop_none). A class, not a
    closure, so that the children pickle (to DataLoader workers)."""

    def __init__(self, classifier_fn, num_instances, drop_none):
        self.classifier_fn, self.num_instances, self.drop_none = classifier_fn, num_instances, drop_none

    def __call__(self, value):
        target = self.classifier_fn(value)
        if target is None and self.drop_none:
            return None
        if target is None or not 0 <= target < self.num_instances:
            raise ValueError(f"Output of the classification fn should be between 0 and "
                             f"{self.num_instances - 1}. {target} is returned.")
        return target


@functional_datapipe("demux")
class DemultiplexerIterDataPipe(IterDataPipe):
    """Split into num_instances DataPipes by classifier_fn(element) (an index; None drops it if drop_none),
    buffering at most buffer_size elements (-1: unlimited) (functional: demux). Returns a list."""

    def __new__(cls, datapipe, num_instances, classifier_fn, drop_none=False, buffer_size=1000):
        if num_instances < 1:
            raise ValueError(f"Expected `num_instances` larger than 0, but {num_instances} is found")
        _check_unpickable_fn(classifier_fn)
        route = _Classifier(classifier_fn, num_instances, drop_none)
        container = _SplitContainer("DemultiplexerIterDataPipe", datapipe, num_instances, buffer_size, route)
        return [_ChildDataPipe(container, i) for i in range(num_instances)]
