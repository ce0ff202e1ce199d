"""torch.utils.data.datapipes.iter.grouping:
Iter DataPipes that group: Batcher (batch), UnBatcher (unbatch), Grouper (groupby)."""
from collections import defaultdict

from .._common import _check_unpickable_fn, _sized_len
from .._decorator import functional_datapipe
from ..datapipe import DataChunk, IterDataPipe

__all__ = ["BatcherIterDataPipe", "GrouperIterDataPipe", "UnBatcherIterDataPipe"]


@functional_datapipe("batch")
class BatcherIterDataPipe(IterDataPipe):
    """Batches of batch_size elements as wrapper_class (DataChunk); drop_last drops a short last one
    (functional: batch)."""

    def __init__(self, datapipe, batch_size, drop_last=False, wrapper_class=DataChunk):
        if batch_size <= 0:
            raise AssertionError("Batch size is required to be larger than 0!")
        super().__init__()
        self.datapipe = datapipe
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.wrapper_class = wrapper_class

    def __iter__(self):
        batch = []
        for x in self.datapipe:
            batch.append(x)
            if len(batch) == self.batch_size:
                yield self.wrapper_class(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.wrapper_class(batch)

    def __len__(self):
        n = _sized_len(self, self.datapipe)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


@functional_datapipe("unbatch")
class UnBatcherIterDataPipe(IterDataPipe):
    """Undo batching unbatch_level deep (-1: all the way) (functional: unbatch)."""

    def __init__(self, datapipe, unbatch_level=1):
        self.datapipe = datapipe
        self.unbatch_level = unbatch_level

    def _dive(self, element, level):
        if level < -1:
            raise ValueError("unbatch_level must be -1 or >= 0")
        if level == -1:
            if isinstance(element, (list, DataChunk)):
                for item in element:
                    yield from self._dive(item, -1)
            else:
                yield element
        elif level == 0:
            yield element
        elif isinstance(element, (list, DataChunk)):
            for item in element:
                yield from self._dive(item, level - 1)
        else:
            raise IndexError(f"unbatch_level {self.unbatch_level} exceeds the depth of the DataPipe")

    def __iter__(self):
        for element in self.datapipe:
            yield from self._dive(element, self.unbatch_level)


@functional_datapipe("groupby")
class GrouperIterDataPipe(IterDataPipe):
    """Group elements by group_key_fn into DataChunks of up to group_size, holding at most buffer_size
    elements (functional: groupby)."""

    def __init__(self, datapipe, group_key_fn, *, keep_key=False, buffer_size=10000, group_size=None,
                 guaranteed_group_size=None, drop_remaining=False):
        _check_unpickable_fn(group_key_fn)
        self.datapipe = datapipe
        self.group_key_fn = group_key_fn
        self.keep_key = keep_key
        self.max_buffer_size = buffer_size
        self.buffer_elements = defaultdict(list)
        self.curr_buffer_size = 0
        self.group_size = group_size
        self.guaranteed_group_size = None
        if group_size is not None and buffer_size is not None:
            if not 0 < group_size <= buffer_size:
                raise AssertionError("group_size must be > 0 and <= buffer_size")
            self.guaranteed_group_size = group_size
        if guaranteed_group_size is not None:
            if group_size is None or not 0 < guaranteed_group_size <= group_size:
                raise AssertionError("guaranteed_group_size must be > 0 and <= group_size and group_size must be set")
            self.guaranteed_group_size = guaranteed_group_size
        self.drop_remaining = drop_remaining
        self.wrapper_class = DataChunk

    def _evict_biggest(self):
        """Drop the largest group from the buffer; return it unless it is below the guaranteed size."""
        key = max(self.buffer_elements, key=lambda k: len(self.buffer_elements[k]))
        size = len(self.buffer_elements[key])
        if self.guaranteed_group_size is not None and size < self.guaranteed_group_size and not self.drop_remaining:
            raise RuntimeError("Failed to group items", str(self.buffer_elements[key]))
        group = self.buffer_elements.pop(key)
        self.curr_buffer_size -= size
        return group if self.guaranteed_group_size is None or size >= self.guaranteed_group_size else None

    def __iter__(self):
        for x in self.datapipe:
            key = self.group_key_fn(x)
            self.buffer_elements[key].append(x)
            self.curr_buffer_size += 1
            if self.group_size is not None and len(self.buffer_elements[key]) == self.group_size:
                chunk = self.wrapper_class(self.buffer_elements.pop(key))
                self.curr_buffer_size -= len(chunk)
                yield (key, chunk) if self.keep_key else chunk
            if self.curr_buffer_size == self.max_buffer_size:
                group = self._evict_biggest()
                if group is not None:
                    # NOTE: torch pairs an evicted group with the key of the element just read (not the
                    # group's own key); kept so that keep_key outputs match.
                    yield (key, self.wrapper_class(group)) if self.keep_key else self.wrapper_class(group)
        for key in tuple(self.buffer_elements):
            chunk = self.wrapper_class(self.buffer_elements.pop(key))
            self.curr_buffer_size -= len(chunk)
            yield (key, chunk) if self.keep_key else chunk

    def reset(self):
        self.curr_buffer_size = 0
        self.buffer_elements = defaultdict(list)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["buffer_elements"] = defaultdict(list)
        state["curr_buffer_size"] = 0
        return state
