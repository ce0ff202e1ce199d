"""torch.utils.data.datapipes.iter.callable:
Iter DataPipes that call a function: Mapper (map), Collator (collate), Filter (filter)."""
from ..._collate import default_collate
from .._common import _check_input_col, _check_unpickable_fn, _sized_len
from .._decorator import functional_datapipe
from ..datapipe import IterDataPipe

__all__ = ["CollatorIterDataPipe", "FilterIterDataPipe", "MapperIterDataPipe"]


def _pick(data, input_col, fn):
    """fn over the input column(s) of data (a list, tuple or dict)."""
    if isinstance(input_col, (list, tuple)):
        return fn(*(data[c] for c in input_col))
    return fn(data[input_col])


@functional_datapipe("map")
class MapperIterDataPipe(IterDataPipe):
    """Apply fn to each element (or to its input_col columns, writing output_col) (functional: map)."""

    def __init__(self, datapipe, fn, input_col=None, output_col=None):
        super().__init__()
        self.datapipe = datapipe
        _check_unpickable_fn(fn)
        self.fn = fn
        self.input_col = input_col
        _check_input_col(fn, input_col)
        if input_col is None and output_col is not None:
            raise ValueError("`output_col` must be None when `input_col` is None.")
        if isinstance(output_col, (list, tuple)):
            if len(output_col) > 1:
                raise ValueError("`output_col` must be a single-element list or tuple")
            output_col = output_col[0]
        self.output_col = output_col

    def _apply(self, data):
        if self.input_col is None and self.output_col is None:
            return self.fn(data)
        result = _pick(data, self.input_col, self.fn)
        was_tuple = isinstance(data, tuple)
        # NOTE: a tuple is rebuilt (it cannot be written); lists and dicts are written in place, as torch.
        if was_tuple:
            data = list(data)
        if self.output_col is None:
            if isinstance(self.input_col, (list, tuple)):
                data[self.input_col[0]] = result
                for col in sorted(self.input_col[1:], reverse=True):
                    del data[col]
            else:
                data[self.input_col] = result
        elif self.output_col == -1:
            data.append(result)
        else:
            data[self.output_col] = result
        return tuple(data) if was_tuple else data

    def __iter__(self):
        for data in self.datapipe:
            yield self._apply(data)

    def __len__(self):
        return _sized_len(self, self.datapipe)


@functional_datapipe("collate")
class CollatorIterDataPipe(MapperIterDataPipe):
    """Collate each element (a batch) with collate_fn, or conversion (default_collate) (functional: collate).
    Differs from PyTorch: a dict `conversion` (a dataframe feature) raises NotImplementedError."""

    def __init__(self, datapipe, conversion=default_collate, collate_fn=None):
        if collate_fn is not None:
            fn = collate_fn
        elif isinstance(conversion, dict):
            raise NotImplementedError("CollatorIterDataPipe: a dict `conversion` needs dataframes, "
                                      "which ember does not have")
        elif callable(conversion):
            fn = conversion
        else:
            raise TypeError(f"Unsupported conversion type {type(conversion)}")
        super().__init__(datapipe, fn=fn)


@functional_datapipe("filter")
class FilterIterDataPipe(IterDataPipe):
    """Keep the elements for which filter_fn (of input_col, if given) is True (functional: filter)."""

    def __init__(self, datapipe, filter_fn, input_col=None):
        super().__init__()
        self.datapipe = datapipe
        _check_unpickable_fn(filter_fn)
        self.filter_fn = filter_fn
        self.input_col = input_col
        _check_input_col(filter_fn, input_col)

    def _keep(self, data):
        result = self.filter_fn(data) if self.input_col is None else _pick(data, self.input_col, self.filter_fn)
        if not isinstance(result, bool):
            raise ValueError("Boolean output is required for `filter_fn` of FilterIterDataPipe, got",
                             type(result))
        return result

    def __iter__(self):
        for data in self.datapipe:
            if self._keep(data):
                yield data
