"""torch.utils.benchmark.utils.valgrind_wrapper.timer_interface: FunctionCounts, CallgrindStats, CopyIfCallgrind.

ember has no Callgrind bindings (PyTorch's live in torch._C), so collection raises OSError("Valgrind is not
supported on this platform."), what PyTorch raises on a platform without them. The result containers work
on counts built by hand.
"""
import collections
import dataclasses
import enum
import operator
import textwrap
from typing import NamedTuple

__all__ = ["FunctionCount", "FunctionCounts", "CallgrindStats", "CopyIfCallgrind"]


class FunctionCount(NamedTuple):
    count: int
    function: str


@dataclasses.dataclass(repr=False, eq=False, frozen=True)
class FunctionCounts:
    """Instruction counts per function: add, subtract, index, filter, transform, denoise."""
    _data: tuple
    inclusive: bool
    truncate_rows: bool = True
    _linewidth: int = None

    def __iter__(self):
        yield from self._data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, item):
        data = self._data[item]
        return FunctionCounts(data, self.inclusive, truncate_rows=False) if isinstance(data, tuple) else data

    def __repr__(self):
        from ....._tensor_str import PRINT_OPTS
        count_len = max((len(str(c)) + int(c < 0) for c, _ in self), default=0)
        fn_len = max((self._linewidth or PRINT_OPTS.linewidth) - count_len - 4, 40)
        lines = []
        for c, fn in self:
            if len(fn) > fn_len:
                left = (fn_len - 5) // 2
                fn = fn[:left] + " ... " + fn[-(fn_len - left - 5):]
            lines.append(f"  {c:>{count_len}}  {fn}")
        if self.truncate_rows and len(lines) > 18:
            lines = lines[:9] + ["...".rjust(count_len + 2)] + lines[-9:]
        if not self.inclusive:
            lines += ["", f"Total: {self.sum()}"]
        return "\n".join([object.__repr__(self)] + lines)

    def __add__(self, other):
        return self._merge(other, lambda c: c)

    def __sub__(self, other):
        return self._merge(other, operator.neg)

    def __mul__(self, other):
        return self._from_dict({fn: int(c * other) for c, fn in self._data}, self.inclusive)

    def transform(self, map_fn):
        """Rename the functions by map_fn (counts of names that meet are added)."""
        counts = collections.defaultdict(int)
        for c, fn in self._data:
            counts[map_fn(fn)] += c
        return self._from_dict(counts, self.inclusive)

    def filter(self, filter_fn):
        """Keep the entries whose function name passes filter_fn."""
        return FunctionCounts(tuple(e for e in self if filter_fn(e.function)), self.inclusive)

    def sum(self):
        return sum(c for c, _ in self)

    def denoise(self):
        """Drop CPython's noisy dict lookups."""
        return self.filter(lambda fn: "dictobject.c:lookdict_unicode" not in fn)

    def _merge(self, second, merge_fn):
        if self.inclusive != second.inclusive:
            raise AssertionError("Cannot merge inclusive and exclusive counts.")
        counts = collections.defaultdict(int)
        for c, fn in self:
            counts[fn] += c
        for c, fn in second:
            counts[fn] += merge_fn(c)
        return self._from_dict(counts, self.inclusive)

    @staticmethod
    def _from_dict(counts, inclusive):
        return FunctionCounts(tuple(sorted((FunctionCount(c, fn) for fn, c in counts.items() if c), reverse=True)),
                              inclusive)


@dataclasses.dataclass(repr=False, eq=False, frozen=True)
class CallgrindStats:
    """The counts of one collect_callgrind call (ember never produces one: see the module's note)."""
    task_spec: object
    number_per_run: int
    built_with_debug_symbols: bool
    baseline_inclusive_stats: FunctionCounts
    baseline_exclusive_stats: FunctionCounts
    stmt_inclusive_stats: FunctionCounts
    stmt_exclusive_stats: FunctionCounts
    stmt_callgrind_out: str = None

    def stats(self, inclusive=False):
        """The statement's counts, less the baseline's."""
        if inclusive:
            return self.stmt_inclusive_stats - self.baseline_inclusive_stats
        return self.stmt_exclusive_stats - self.baseline_exclusive_stats

    def counts(self, *, denoise=False):
        """The total instruction count of the statement."""
        stats = self.stmt_exclusive_stats
        return (stats.denoise() if denoise else stats).sum()

    def delta(self, other, inclusive=False):
        """The difference of two statements' counts."""
        return self.stats(inclusive=inclusive) - other.stats(inclusive=inclusive)


class Serialization(enum.Enum):
    PICKLE = 0
    TORCH = 1
    TORCH_JIT = 2


class CopyIfCallgrind:
    """Marks a global that collect_callgrind may replace with a deserialized copy."""

    def __init__(self, value, *, setup=None):
        from .... import _tensor, nn
        allowed = {Serialization.PICKLE: (str, bytes, bool, int, float, complex),
                   Serialization.TORCH: (_tensor.Tensor, nn.Module)}
        for method, types in allowed.items():
            if isinstance(value, types):
                self._value, self._setup, self._serialization = value, setup, method
                return
        names = "\n".join(t.__name__ for ts in allowed.values() for t in ts)
        raise ValueError(f"Unsupported type: {type(value)}\n`collect_callgrind` restricts globals to the "
                         f"following types:\n{textwrap.indent(names, '  ')}")

    @property
    def value(self):
        return self._value

    @property
    def setup(self):
        return self._setup

    @property
    def serialization(self):
        return self._serialization

    @staticmethod
    def unwrap_all(globals):
        return {k: (v.value if isinstance(v, CopyIfCallgrind) else v) for k, v in globals.items()}


class _NoValgrind:
    def _validate(self):
        raise OSError("Valgrind is not supported on this platform.")


def wrapper_singleton():
    return _NoValgrind()
