"""torch.utils.data.datapipes.iter.combinatorics: Shuffler (shuffle) and Sampler."""
from ...sampler import SequentialSampler
from .._common import _Shuffling, _sized_len
from .._decorator import functional_datapipe
from ..datapipe import IterDataPipe

__all__ = ["SamplerIterDataPipe", "ShufflerIterDataPipe"]


class SamplerIterDataPipe(IterDataPipe):
    """Yield what sampler(data_source=datapipe, ...) yields."""

    def __init__(self, datapipe, sampler=SequentialSampler, sampler_args=None, sampler_kwargs=None):
        if not hasattr(datapipe, "__len__"):
            raise AssertionError("Sampler class requires input datapipe implemented `__len__`")
        super().__init__()
        self.datapipe = datapipe
        self.sampler_args = () if sampler_args is None else sampler_args
        self.sampler_kwargs = {} if sampler_kwargs is None else sampler_kwargs
        self.sampler = sampler(*self.sampler_args, data_source=self.datapipe, **self.sampler_kwargs)

    def __iter__(self):
        return iter(self.sampler)

    def __len__(self):
        if hasattr(self.sampler, "__len__"):
            return len(self.sampler)
        raise TypeError(f"{type(self).__name__} instance doesn't have valid length")


@functional_datapipe("shuffle")
class ShufflerIterDataPipe(_Shuffling, IterDataPipe):
    """Shuffle through a buffer of buffer_size elements (functional: shuffle). Each iteration is seeded
    from set_seed's seed, else from ember's global RNG (as torch's); set_shuffle(False) turns it off."""

    def __init__(self, datapipe, *, buffer_size=10000, unbatch_level=0):
        super().__init__()
        self._buffer = []
        if buffer_size <= 0:
            raise AssertionError("buffer_size should be larger than 0")
        self.datapipe = datapipe if unbatch_level == 0 else datapipe.unbatch(unbatch_level=unbatch_level)
        self.buffer_size = buffer_size
        self._init_shuffling()

    def _draw(self):
        return self._rng.randint(0, len(self._buffer) - 1)

    def __iter__(self):
        if not self._enabled:
            yield from self.datapipe
            return
        # NOTE: a full buffer swaps a random slot out for each new element; the rest leaves in random
        # order. The same draws from random.Random as torch's, so a seed gives torch's order.
        for x in self.datapipe:
            if len(self._buffer) < self.buffer_size:
                self._buffer.append(x)
                continue
            slot = self._draw()
            out = self._buffer[slot]
            self._buffer[slot] = x
            yield out
        while self._buffer:
            yield self._buffer.pop(self._draw())

    def __len__(self):
        return _sized_len(self, self.datapipe)

    def reset(self):
        self._buffer = []
        if self._enabled:
            self._seed_rng()
