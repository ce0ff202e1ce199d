"""Tensor printing: `repr(tensor)` in PyTorch's exact format, and the print options behind it.

The layout follows torch: every element of a tensor is formatted by one shared formatter (so the
columns line up), rows are wrapped at `linewidth`, tensors with more than `threshold` elements are
summarised to `edgeitems` per side with `...`, and suffixes such as `dtype=`, `device=`,
`requires_grad=True` and `grad_fn=<...>` follow the data.
"""
import contextlib
import math

import numpy as np

from . import _state

# --- print options -----------------------------------------------------------------------------


class _PrintOptions:
    """The print options torch keeps globally (torch._tensor_str.PRINT_OPTS)."""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self):
        self.precision = 4
        self.threshold = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode = None

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """torch.set_printoptions: change how tensors are printed (a profile first, then each option)."""
    # NOTE: torch ignores an unknown profile name silently rather than raising.
    for name, value in _PROFILES.get(profile, {}).items():
        setattr(PRINT_OPTS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    # NOTE: unlike the other options, sci_mode is always assigned, so any call that leaves it
    # out resets it to None (automatic), exactly as torch does.
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """torch._tensor_str.get_printoptions: the current print options as a dict."""
    return PRINT_OPTS.as_dict()


@contextlib.contextmanager
def printoptions(**kwargs):
    """torch._tensor_str.printoptions: set print options inside a `with` block only."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# --- element formatting ------------------------------------------------------------------------


class _Formatter:
    """Chooses one format (integer, fixed or scientific) and one width for a set of values."""

    def __init__(self, values, is_float):
        self.is_float = is_float
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if is_float:
            self._choose_float_mode(flat)
        else:
            # NOTE: np.unique keeps this cheap for big tensors; equal values give equal strings.
            for value in np.unique(flat).tolist():
                self.max_width = max(self.max_width, len(str(value)))

    def _choose_float_mode(self, flat):
        # NOTE: only finite non-zero values decide the mode and the width; zeros, nan and inf are
        # printed afterwards without being measured, which is why torch's columns can go ragged.
        shown = np.unique(flat[np.isfinite(flat) & (flat != 0)])
        if shown.size == 0:
            return
        magnitudes = np.abs(shown)
        low, high = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        # NOTE: integer-valued floats only go scientific for a wide range or huge values; other
        # floats also go scientific for tiny values (fixed notation would print them as 0.0000).
        wide = high / low > 1000.0 or high > 1.0e8
        self.sci_mode = wide if self.int_mode else (wide or low < 1.0e-4)
        # NOTE: a forced sci_mode applies before measuring, so the width fits the printed format.
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode
        for value in shown.tolist():
            self.max_width = max(self.max_width, len(self._plain_text(value)))

    def width(self):
        return self.max_width

    def _plain_text(self, value):
        precision = PRINT_OPTS.precision
        if self.sci_mode:
            return f"{value:.{precision}e}"
        if self.int_mode:
            # NOTE: integer-valued floats print with a trailing '.' ("1."), except nan and inf.
            text = f"{value:.0f}"
            return text + "." if math.isfinite(value) else text
        return f"{value:.{precision}f}"

    def format(self, value):
        """One element as text, right-aligned to the shared width."""
        text = self._plain_text(value) if self.is_float else str(value)
        return text.rjust(self.max_width)


def _join_complex(real_text, imag_text):
    # NOTE: the imaginary part keeps its own sign ("1.-2.j"); a '+' is added when it has none.
    imag_text = (imag_text + "j").lstrip()
    if imag_text[0] in "+-":
        return real_text + imag_text
    return real_text + "+" + imag_text


def _format_value(value, formatters):
    real_fmt, imag_fmt = formatters
    if imag_fmt is None:
        return real_fmt.format(value)
    return _join_complex(real_fmt.format(value.real), imag_fmt.format(value.imag))


# --- layout ------------------------------------------------------------------------------------


def _edge_indices(length, edge):
    return list(range(edge)) + list(range(length - edge, length))


def _summarized(arr):
    """The elements that stay visible when `arr` is summarised (edgeitems per side, every dim)."""
    edge = PRINT_OPTS.edgeitems
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        # NOTE: with edgeitems == 0, arr[-0:] is the whole row, as in torch.
        if arr.shape[0] > 2 * edge:
            return np.concatenate((arr[:edge], arr[-edge:]))
        return arr
    if not edge:
        return np.empty((0,) * arr.ndim, dtype=arr.dtype)
    length = arr.shape[0]
    rows = _edge_indices(length, edge) if length > 2 * edge else range(length)
    return np.stack([_summarized(arr[i]) for i in rows])


def _vector_str(arr, indent, summarize, formatters):
    """A 1-D row, wrapped so each line fits in `linewidth` after `indent` columns."""
    element_length = formatters[0].width() + 2
    if formatters[1] is not None:
        element_length += formatters[1].width() + 1
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and arr.shape[0] > 2 * edge:
        # NOTE: " ..." carries its own leading space, so it prints as ",  ...,".
        items = ([_format_value(v, formatters) for v in arr[:edge].tolist()] + [" ..."]
                 + [_format_value(v, formatters) for v in arr[-edge:].tolist()])
    else:
        items = [_format_value(v, formatters) for v in arr.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(arr, indent, summarize, formatters):
    """The bracketed text of `arr`, whose first line starts at column `indent`."""
    if arr.ndim == 0:
        return _format_value(arr.item(), formatters)
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, formatters)
    edge = PRINT_OPTS.edgeitems
    length = arr.shape[0]
    if summarize and length > 2 * edge:
        blocks = ([_nested_str(arr[i], indent + 1, summarize, formatters) for i in range(edge)]
                  + ["..."]
                  + [_nested_str(arr[i], indent + 1, summarize, formatters)
                     for i in range(length - edge, length)])
    else:
        blocks = [_nested_str(arr[i], indent + 1, summarize, formatters) for i in range(length)]
    # NOTE: blocks are separated by ndim - 2 blank lines: none between the rows of a matrix,
    # one between the matrices of a 3-D tensor, two between the 3-D blocks of a 4-D tensor.
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(blocks) + "]"


def _data_str(arr, category, indent):
    """The data part of a non-empty tensor's repr."""
    summarize = arr.size > PRINT_OPTS.threshold
    visible = _summarized(arr) if summarize else arr
    if category == 3:
        formatters = (_Formatter(visible.real, True), _Formatter(visible.imag, True))
    else:
        formatters = (_Formatter(visible, category == 2), None)
    return _nested_str(arr, indent, summarize, formatters)


# --- the tensor's array and its suffixes -------------------------------------------------------


def _host_array(t):
    """The tensor's values as a NumPy array whose elements format the way torch's do."""
    data = t._device.backend.to_host(t._data)
    category = t._dtype.category
    # NOTE: torch prints float16/bfloat16 through float32; widening every float to float64 is
    # exact and gives the same Python floats that torch's tolist() yields.
    if category == 2:
        return data.astype(np.float64)
    if category == 3:
        return data.astype(np.complex128)
    return data


def _device_suffix(device):
    # NOTE: PyTorch compares with the default *tensor type's* device, which is always the CPU here:
    # set_default_device does not change it, so cuda tensors always print their device.
    dev_type = device.type
    shown = (dev_type != "cpu" or dev_type == "mps"
             or (dev_type == "cuda" and device.index != _state.current_cuda_index()))
    return [f"device='{device}'"] if shown else []


def _dtype_is_implied(dtype):
    # NOTE: the default float dtype, its complex partner, int64 and bool need no dtype= suffix,
    # because torch.tensor() would infer them back from the printed values.
    default = _state.get_default_dtype().name
    default_complex = "complex128" if default == "float64" else "complex64"
    return dtype.name in (default, default_complex, "int64", "bool")


def _content_and_suffixes(t, arr, indent):
    """The bracketed data and the size/dtype suffixes torch prints after it."""
    dtype = t._dtype
    suffixes = []
    if arr.size == 0:
        # NOTE: an empty tensor shows its shape unless it is (0,), and any dtype other than the
        # default float one, since no printed values hint at the dtype.
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dtype.name != _state.get_default_dtype().name:
            suffixes.append(f"dtype={dtype!r}")
        return "[]", suffixes
    if not PRINT_OPTS.edgeitems:
        suffixes.append(f"size={tuple(arr.shape)}")
    if not _dtype_is_implied(dtype):
        suffixes.append(f"dtype={dtype!r}")
    return _data_str(arr, dtype.category, indent), suffixes


def _grad_suffix(t):
    grad_fn = t.grad_fn
    if grad_fn is not None:
        return [f"grad_fn=<{type(grad_fn).__name__}>"]
    if t.requires_grad:
        return ["requires_grad=True"]
    return []


def _add_suffixes(text, suffixes, indent):
    """Append `, suffix` items, moving one to a new line where it would pass `linewidth`."""
    parts = [text]
    # NOTE: torch counts the last line as len - rfind('\n') + 1, i.e. two more than its true
    # length on one-line reprs; the same count is kept so wrapping happens at the same place.
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _parameter_class(t):
    for cls in type(t).__mro__:
        if cls.__name__ == "Parameter" and cls.__module__.startswith("ember"):
            return cls
    return None


def _prefix(t):
    from ._tensor import Tensor
    cls = type(t)
    if cls is Tensor or cls is _parameter_class(t):
        return "tensor("
    return cls.__name__ + "("


def tensor_repr(t):
    """repr(tensor) exactly as PyTorch writes it, e.g. `tensor([1., 2.], requires_grad=True)`."""
    prefix = _prefix(t)
    indent = len(prefix)
    arr = _host_array(t)
    content, shape_suffixes = _content_and_suffixes(t, arr, indent)
    suffixes = _device_suffix(t._device) + shape_suffixes + _grad_suffix(t)
    text = _add_suffixes(prefix + content, suffixes, indent)
    # NOTE: subclasses of Parameter keep their own name inside a Parameter(...) wrapper.
    if _parameter_class(t) is not None and prefix != "tensor(":
        text = f"Parameter({text})"
    return text
