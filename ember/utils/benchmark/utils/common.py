"""torch.utils.benchmark.utils.common: TaskSpec, Measurement and the small formatting helpers.

NOTE: PyTorch computes the statistics with float32 tensors in a few places (the log10 that picks the unit,
the rounding of trim_sigfig, the spread behind significant_figures). ember does the same sums in Python
floats and rounds trim_sigfig's result to float32, so the printed tables agree with PyTorch's.
"""
import collections
import contextlib
import dataclasses
import math
import struct
import textwrap

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig", "ordered_unique",
           "set_torch_threads"]

_MAX_SIGFIGS = 4
_MIN_CI = 25e-9  # NOTE: 25 ns: no measurement is trusted past this confidence interval
_IQR_WARN = 0.1
_IQR_GROSS_WARN = 0.25

_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}
_UNIT_NAMES = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}


def _f32(x):
    """x rounded to the nearest float32, as a Python float."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _log10(x):
    # NOTE: torch.tensor(x).log10() of 0 is -inf; math.log10 raises. Keep PyTorch's answer.
    return math.log10(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _log10_f32(x):
    """log10 as PyTorch takes it on a float32 tensor: x rounded to float32, the result too (so that
    log10(1e-9) is -9 exactly, not a hair below, and the unit is ns)."""
    lg = _log10(_f32(x))
    return _f32(lg) if math.isfinite(lg) else lg


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a Timer measures (all of its arguments but globals)."""
    stmt: str
    setup: str
    global_setup: str = ""
    label: str = None
    sub_label: str = None
    description: str = None
    env: str = None
    num_threads: int = 1

    @property
    def title(self):
        """A label for the measurement: the label (or the one-line stmt), with the sub_label."""
        sub = self.sub_label
        if self.label is not None:
            return self.label + (f": {sub}" if sub else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {sub}" if sub else "")
        head = f"stmt: ({sub})" if sub else "stmt:"
        return head + "\n" + textwrap.indent(self.stmt, "  ")

    def setup_str(self):
        if not self.setup or self.setup == "pass":
            return ""
        if "\n" in self.setup:
            return "setup:\n" + textwrap.indent(self.setup, "  ")
        return "setup: " + self.setup

    def summarize(self):
        """The TaskSpec lines of a Measurement's repr."""
        parts = [p for p in (self.title, self.description or "", self.setup_str()) if p]
        return "\n".join(p + "\n" if "\n" in p else p for p in parts)


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


def _quantile(sorted_values, q):
    """Linear interpolation between the closest ranks, as torch.quantile's default."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    a, b = sorted_values[lo], sorted_values[hi]
    return a + (b - a) * frac


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The result of a Timer measurement: raw_times of number_per_run runs each, with statistics."""
    number_per_run: int
    raw_times: list
    task_spec: TaskSpec
    metadata: dict = None  # NOTE: free for the user's own payload

    def __post_init__(self):
        self._sorted_times = ()
        self._warnings = ()
        self._median = self._mean = self._p25 = self._p75 = -1.0

    def __getattr__(self, name):
        if name in _TASKSPEC_FIELDS:  # NOTE: stmt, label, num_threads, ... read through to the TaskSpec
            return getattr(self.__dict__["task_spec"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def times(self):
        """Time per run of each measurement (seconds)."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self):
        self._lazy_init()
        return self._median

    @property
    def mean(self):
        self._lazy_init()
        return self._mean

    @property
    def iqr(self):
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self):
        """How many figures of the median the spread of the interquartile times supports (1 to 4)."""
        self._lazy_init()
        n = len(self._sorted_times)
        inner = self._sorted_times[n // 4:math.ceil(3 * n / 4)]
        mean = sum(inner) / len(inner)
        std = math.sqrt(sum((x - mean) ** 2 for x in inner) / len(inner))
        ci = max(1.645 * std / math.sqrt(len(inner)), _MIN_CI)
        figures = math.floor(_log10_f32(self._median / ci))
        return min(max(figures, 1), _MAX_SIGFIGS)

    @property
    def has_warnings(self):
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self):
        if not self.raw_times or self._sorted_times:
            return
        self._sorted_times = tuple(sorted(self.times))
        s = self._sorted_times
        self._median = _quantile(s, 0.5)
        self._mean = sum(s) / len(s)
        self._p25 = _quantile(s, 0.25)
        self._p75 = _quantile(s, 0.75)
        if not self.meets_confidence(_IQR_GROSS_WARN):
            why = "This suggests significant environmental influence."
        elif not self.meets_confidence(_IQR_WARN):
            why = "This could indicate system fluctuation."
        else:
            return
        self._warnings += (f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% "
                           f"of the median measurement.\n           {why}",)

    def meets_confidence(self, threshold=_IQR_WARN):
        """Whether iqr / median is below threshold."""
        return self.iqr / self.median < threshold

    @property
    def title(self):
        return self.task_spec.title

    @property
    def env(self):
        # NOTE: PyTorch's env property ends up returning task_spec.env itself (None when unset)
        return self.task_spec.env

    @property
    def as_row_name(self):
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self):
        self._lazy_init()
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        lines = [object.__repr__(self), self.task_spec.summarize()]
        lines.append(f"  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}")
        if n >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({self._p25 / scale:.2f} to "
                         f"{self._p75 / scale:.2f})")
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"
        runs = "per measurement," if n > 1 else ","
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs {runs} {threads}")
        lines.append("\n".join(self._warnings))
        return "\n".join(lines).strip()

    @staticmethod
    def merge(measurements):
        """One Measurement per TaskSpec, holding all the replicates' times at number_per_run=1 (no metadata)."""
        groups = collections.defaultdict(list)
        for m in measurements:
            groups[m.task_spec].extend(m.times)
        return [Measurement(number_per_run=1, raw_times=times, task_spec=spec, metadata=None)
                for spec, times in groups.items()]


def select_unit(t):
    """(unit, scale) that bring a time in seconds to O(1): ns, us, ms or s."""
    lg = _log10_f32(t)
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(lg // 3) if math.isfinite(lg) else None, "s")
    return unit, _UNITS[unit]


def unit_to_english(u):
    """"us" -> "microsecond", and so on."""
    return _UNIT_NAMES[u]


def trim_sigfig(x, n):
    """x kept to n significant figures (3.14159, 2 -> 3.1)."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = math.ceil(_log10_f32(abs(x)))
    scale = 10 ** (magnitude - n)
    return _f32(round(_f32(x / scale)) * _f32(scale))  # NOTE: a float32 product, as PyTorch's


def ordered_unique(elements):
    """The distinct elements, in their first order."""
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n):
    """Within the block, torch.get_num_threads() is n."""
    from .... import _runtime
    prior = _runtime.get_num_threads()
    try:
        _runtime.set_num_threads(n)
        yield
    finally:
        _runtime.set_num_threads(prior)
