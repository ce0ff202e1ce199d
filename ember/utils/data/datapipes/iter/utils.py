"""torch.utils.data.datapipes.iter.utils: IterableWrapper: any iterable as an IterDataPipe."""
import copy
import warnings

from ..datapipe import IterDataPipe

__all__ = ["IterableWrapperIterDataPipe"]


class IterableWrapperIterDataPipe(IterDataPipe):
    """Wrap an iterable; deepcopy=True iterates a deep copy each time (so in-place edits do not leak)."""

    _ember_data_attrs = ("iterable",)  # NOTE: data, not pipes: graph walks skip it (_graph.py)

    def __init__(self, iterable, deepcopy=True):
        self.iterable = iterable
        self.deepcopy = deepcopy

    def __iter__(self):
        source = self.iterable
        if self.deepcopy:
            try:
                source = copy.deepcopy(self.iterable)
            except TypeError:
                warnings.warn("The input iterable can not be deepcopied, please be aware of in-place "
                              "modification would affect source data.")
        yield from source

    def __len__(self):
        if hasattr(type(self.iterable), "__len__"):
            return len(self.iterable)
        raise TypeError(f"{type(self).__name__} instance doesn't have valid length")
