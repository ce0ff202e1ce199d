"""torch.utils.data.datapipes.map (callable, combinatorics, combining, grouping, utils):
Map-style DataPipes: SequenceWrapper, Mapper (map), Batcher (batch), Concater (concat), Zipper (zip),
and Shuffler (shuffle: an IterDataPipe over a MapDataPipe, as in torch)."""
import copy
import warnings

from .._common import _Shuffling, _check_unpickable_fn, _sized_len
from .._decorator import functional_datapipe
from ..datapipe import DataChunk, IterDataPipe, MapDataPipe

__all__ = ["BatcherMapDataPipe", "ConcaterMapDataPipe", "MapperMapDataPipe", "SequenceWrapperMapDataPipe",
           "ShufflerIterDataPipe", "ZipperMapDataPipe"]


class SequenceWrapperMapDataPipe(MapDataPipe):
    """A sequence or mapping as a MapDataPipe (deep-copied unless deepcopy=False)."""

    _ember_data_attrs = ("sequence",)  # NOTE: data, not pipes: graph walks skip it (_graph.py)

    def __init__(self, sequence, deepcopy=True):
        self.sequence = sequence
        if deepcopy:
            try:
                self.sequence = copy.deepcopy(sequence)
            except TypeError:
                warnings.warn("The input sequence can not be deepcopied, please be aware of in-place "
                              "modification would affect source data", stacklevel=2)

    def __getitem__(self, index):
        return self.sequence[index]

    def __len__(self):
        return len(self.sequence)


def _identity(data):
    return data


@functional_datapipe("map")
class MapperMapDataPipe(MapDataPipe):
    """fn applied to each item as it is read (functional: map)."""

    def __init__(self, datapipe, fn=_identity):
        super().__init__()
        self.datapipe = datapipe
        _check_unpickable_fn(fn)
        self.fn = fn

    def __getitem__(self, index):
        return self.fn(self.datapipe[index])

    def __len__(self):
        return len(self.datapipe)


@functional_datapipe("batch")
class BatcherMapDataPipe(MapDataPipe):
    """Item i is the i-th batch of batch_size items (functional: batch)."""

    def __init__(self, datapipe, batch_size, drop_last=False, wrapper_class=DataChunk):
        if batch_size <= 0:
            raise AssertionError("Batch size is required to be larger than 0!")
        super().__init__()
        self.datapipe = datapipe
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.wrapper_class = wrapper_class

    def __getitem__(self, index):
        batch = []
        try:
            for i in range(index * self.batch_size, (index + 1) * self.batch_size):
                batch.append(self.datapipe[i])
        except IndexError as e:
            if self.drop_last or not batch:
                raise IndexError(f"Index {index} is out of bound.") from e
        return self.wrapper_class(batch)

    def __len__(self):
        n = _sized_len(self, self.datapipe)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


def _check_map_inputs(datapipes):
    if len(datapipes) == 0:
        raise ValueError("Expected at least one DataPipe, but got nothing")
    if not all(isinstance(dp, MapDataPipe) for dp in datapipes):
        raise TypeError("Expected all inputs to be `MapDataPipe`")
    if not all(hasattr(dp, "__len__") for dp in datapipes):
        raise TypeError("Expected all inputs to be `Sized`")


@functional_datapipe("concat")
class ConcaterMapDataPipe(MapDataPipe):
    """The inputs one after another; indices run on across them (functional: concat)."""

    def __init__(self, *datapipes):
        _check_map_inputs(datapipes)
        self.datapipes = datapipes

    def __getitem__(self, index):
        offset = 0
        for dp in self.datapipes:
            if index - offset < len(dp):
                return dp[index - offset]
            offset += len(dp)
        raise IndexError(f"Index {index} is out of range.")

    def __len__(self):
        return sum(len(dp) for dp in self.datapipes)


@functional_datapipe("zip")
class ZipperMapDataPipe(MapDataPipe):
    """Item i is the tuple of every input's item i (functional: zip)."""

    def __init__(self, *datapipes):
        _check_map_inputs(datapipes)
        self.datapipes = datapipes

    def __getitem__(self, index):
        items = []
        for dp in self.datapipes:
            try:
                items.append(dp[index])
            except IndexError as e:
                raise IndexError(f"Index {index} is out of range for one of the input MapDataPipes {dp}.") from e
        return tuple(items)

    def __len__(self):
        return min(len(dp) for dp in self.datapipes)


class ShufflerIterDataPipe(_Shuffling, IterDataPipe):
    """The items of a MapDataPipe at indices (default all) in a random order, seeded per iteration as the
    iterable Shuffler (set_seed, set_shuffle) (MapDataPipe functional: shuffle)."""

    def __init__(self, datapipe, *, indices=None):
        super().__init__()
        self.datapipe = datapipe
        self.indices = list(range(len(datapipe))) if indices is None else indices
        self._init_shuffling()
        self._shuffled_indices = self.indices

    def __iter__(self):
        if not self._enabled:
            for idx in self.indices:
                yield self.datapipe[idx]
            return
        # NOTE: popped from the end of the sampled permutation, as torch does (so a seed gives its order)
        while self._shuffled_indices:
            yield self.datapipe[self._shuffled_indices.pop()]

    def reset(self):
        self._seed_rng(draw=self._enabled)
        self._shuffled_indices = self._rng.sample(self.indices, len(self.indices))

    def __len__(self):
        return len(self.datapipe)


MapDataPipe.register_datapipe_as_function("shuffle", ShufflerIterDataPipe)
