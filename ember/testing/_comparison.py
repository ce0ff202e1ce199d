"""torch.testing.assert_close: compare tensors, numbers, None, booleans and (nested) sequences and mappings of
them, with PyTorch's decisions, tolerances and messages."""
import cmath
import collections.abc

import numpy as np

from .. import _dtype
from .._tensor import Tensor

# NOTE: PyTorch's per-dtype defaults (rtol, atol); every other dtype (integers, bool) compares exactly
_DEFAULT_TOLERANCES = {
    _dtype.float16: (1e-3, 1e-5), _dtype.bfloat16: (1.6e-2, 1e-5), _dtype.float32: (1.3e-6, 1e-5),
    _dtype.float64: (1e-7, 1e-7), _dtype.complex64: (1.3e-6, 1e-5), _dtype.complex128: (1e-7, 1e-7),
}
_NUMBER_DTYPES = {int: _dtype.int64, float: _dtype.float64, complex: _dtype.complex128}


class _ErrorMeta(Exception):
    """A failure found while comparing: the exception type to raise, its message and the item's path."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if isinstance(msg, str):
            return self.type(msg)
        generated = self.msg
        if self.id:
            generated += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
        return self.type(msg(generated) if callable(msg) else generated)


class _Unsupported(Exception):
    """This pair type does not handle these inputs; the next one is tried."""


def default_tolerances(*inputs, dtype_precisions=None):
    """(rtol, atol): the largest defaults among the dtypes of `inputs` (tensors or dtypes)."""
    table = dtype_precisions or _DEFAULT_TOLERANCES
    dtypes = [i.dtype if isinstance(i, Tensor) else i for i in inputs]
    rtols, atols = zip(*[table.get(d, (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def _tolerances(dtypes, rtol, atol, id):
    if (rtol is None) ^ (atol is None):
        raise _ErrorMeta(ValueError, f"Both 'rtol' and 'atol' must be either specified or omitted, "
                                     f"but got no {'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None:
        return rtol, atol
    return default_tolerances(*dtypes)


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_line(kind, diff, idx, tol):
        line = f"{kind.title()} difference: {diff}" if idx is None else \
            f"Greatest {kind} difference: {diff} at index {idx}"
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += diff_line("absolute", abs_diff, abs_idx, atol) + diff_line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual, expected, rtol, atol, identifier="Scalars"):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg(identifier, f"Expected {expected} but got {actual}.", abs_diff, None, atol, rel_diff,
                         None, rtol)


# --- the pairs: each checks it handles the inputs (else _Unsupported), then compares them -------------------
class _Pair:
    def __init__(self, actual, expected, *, id=(), **options):
        self.actual, self.expected, self.id, self.options = actual, expected, id, options

    def fail(self, msg, type=AssertionError):
        raise _ErrorMeta(type, msg, id=self.id)


class _NonePair(_Pair):
    def __init__(self, actual, expected, **kwargs):
        if not (actual is None or expected is None):
            raise _Unsupported
        super().__init__(actual, expected, **kwargs)

    def compare(self):
        if not (self.actual is None and self.expected is None):
            self.fail(f"None mismatch: {self.actual} is not {self.expected}")


class _BooleanPair(_Pair):
    def __init__(self, actual, expected, **kwargs):
        if not all(isinstance(v, (bool, np.bool_)) for v in (actual, expected)):
            raise _Unsupported
        super().__init__(bool(actual), bool(expected), **kwargs)

    def compare(self):
        if self.actual is not self.expected:
            self.fail(f"Booleans mismatch: {self.actual} is not {self.expected}")


class _NumberPair(_Pair):
    def __init__(self, actual, expected, **kwargs):
        if not all(isinstance(v, (int, float, complex, np.number)) and not isinstance(v, bool)
                   for v in (actual, expected)):
            raise _Unsupported
        actual, expected = (v.item() if isinstance(v, np.number) else v for v in (actual, expected))
        super().__init__(actual, expected, **kwargs)
        dtypes = [_NUMBER_DTYPES[type(v)] for v in (actual, expected)]
        self.rtol, self.atol = _tolerances(dtypes, self.options["rtol"], self.options["atol"], self.id)

    def compare(self):
        actual, expected = self.actual, self.expected
        if self.options["check_dtype"] and type(actual) is not type(expected):
            self.fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.")
        if self.options["equal_nan"] and cmath.isnan(actual) and cmath.isnan(expected):
            return
        if actual == expected:
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(expected):
            return
        self.fail(_scalar_mismatch_msg(actual, expected, self.rtol, self.atol))


class _TensorLikePair(_Pair):
    """ember Tensors and NumPy arrays (turned into tensors); torch's tensors are not tensor-likes here."""

    def __init__(self, actual, expected, **kwargs):
        like = (Tensor, np.ndarray)
        if not (isinstance(actual, like) and isinstance(expected, like)):
            raise _Unsupported
        related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
        if not related or (not kwargs["allow_subclasses"] and type(actual) is not type(expected)):
            raise _Unsupported
        actual, expected = (_as_tensor(v) for v in (actual, expected))
        super().__init__(actual, expected, **kwargs)
        self.rtol, self.atol = _tolerances((actual.dtype, expected.dtype), self.options["rtol"],
                                           self.options["atol"], self.id)

    def compare(self):
        actual, expected = self.actual.detach(), self.expected.detach()
        self._compare_attributes(actual, expected)
        actual, expected = self._equalize(actual, expected)
        self._compare_values(actual, expected)

    def _compare_attributes(self, actual, expected):
        def mismatch(name, a, e):
            self.fail(f"The values for attribute '{name}' do not match: {a} != {e}.")
        o = self.options
        if actual.shape != expected.shape:
            mismatch("shape", actual.shape, expected.shape)
        if o["check_layout"] and actual.layout != expected.layout:
            mismatch("layout", actual.layout, expected.layout)
        elif _strided(actual) and o["check_stride"] and actual.stride() != expected.stride():
            mismatch("stride()", actual.stride(), expected.stride())
        if o["check_device"] and actual.device != expected.device:
            mismatch("device", actual.device, expected.device)
        if o["check_dtype"] and actual.dtype != expected.dtype:
            mismatch("dtype", actual.dtype, expected.dtype)

    @staticmethod
    def _equalize(actual, expected):
        if actual.device != expected.device:
            actual, expected = actual.cpu(), expected.cpu()
        if actual.dtype != expected.dtype:
            from .._functional import promote_types
            common = promote_types(actual.dtype, expected.dtype)
            actual, expected = actual.to(common), expected.to(common)
        if actual.layout != expected.layout:  # NOTE: only with check_layout=False
            actual, expected = (v if _strided(v) else v.to_dense() for v in (actual, expected))
        return actual, expected

    def _compare_values(self, actual, expected):
        layout, compressed = actual.layout, _compressed_layouts()
        if layout == _layout("sparse_coo"):
            self._compare_sparse_coo(actual.coalesce(), expected.coalesce())
        elif layout in compressed:
            self._compare_sparse_compressed(actual, expected, *compressed[layout])
        else:
            self._compare_close(actual, expected, self.rtol, self.atol, None)

    def _compare_sparse_coo(self, actual, expected):
        if actual._nnz() != expected._nnz():
            self.fail(f"The number of specified values in sparse COO tensors does not match: {actual._nnz()} != "
                      f"{expected._nnz()}")
        self._compare_close(actual._indices(), expected._indices(), 0, 0, "Sparse COO indices")
        self._compare_close(actual._values(), expected._values(), self.rtol, self.atol, "Sparse COO values")

    def _compare_sparse_compressed(self, actual, expected, fmt, compressed, plain):
        if actual._nnz() != expected._nnz():
            self.fail(f"The number of specified values in sparse {fmt} tensors does not match: {actual._nnz()} != "
                      f"{expected._nnz()}")
        for method in (compressed, plain):
            self._compare_close(getattr(actual, method)(), getattr(expected, method)(), 0, 0,
                                f"Sparse {fmt} {method}")
        self._compare_close(actual.values(), expected.values(), self.rtol, self.atol, f"Sparse {fmt} values")

    def _compare_close(self, actual, expected, rtol, atol, identifier):
        import ember
        matches = ember.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=self.options["equal_nan"])
        if bool(matches.all()):
            return
        if actual.dim() == 0:
            self.fail(_scalar_mismatch_msg(actual.item(), expected.item(), rtol, atol, identifier or "Scalars"))
        self.fail(self._tensor_mismatch_msg(actual, expected, matches, rtol, atol, identifier or "Tensor-likes"))

    def _tensor_mismatch_msg(self, actual, expected, matches, rtol, atol, identifier):
        import ember
        total = int(matches.numel())
        mismatched = int((~matches).sum())
        extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
        a, e, m = actual.flatten(), expected.flatten(), matches.flatten()
        if not (a.dtype.is_floating_point or a.dtype.is_complex):
            a, e = a.to(ember.int64), e.to(ember.int64)  # NOTE: differences of small ints must not wrap
        abs_diff = ember.abs(a - e)
        abs_diff[m] = 0
        rel_diff = abs_diff / ember.abs(e)
        rel_diff[m] = 0
        max_abs, abs_at = ember.max(abs_diff, 0)
        max_rel, rel_at = ember.max(rel_diff, 0)
        return _mismatch_msg(identifier, extra, max_abs.item(), _unravel(abs_at.item(), actual.shape), atol,
                             max_rel.item(), _unravel(rel_at.item(), actual.shape), rtol)


_PAIR_TYPES = (_NonePair, _BooleanPair, _NumberPair, _TensorLikePair)


def _strided(t):
    return t.layout == _layout("strided")


# NOTE: compressed layouts: (format name, compressed-indices method, plain-indices method), as PyTorch names them
_COMPRESSED_NAMES = {"sparse_csr": ("CSR", "crow_indices", "col_indices"),
                     "sparse_csc": ("CSC", "ccol_indices", "row_indices"),
                     "sparse_bsr": ("BSR", "crow_indices", "col_indices"),
                     "sparse_bsc": ("BSC", "ccol_indices", "row_indices")}


def _layout(name):
    from .._types import LAYOUTS
    return LAYOUTS[name]


def _compressed_layouts():
    return {_layout(name): names for name, names in _COMPRESSED_NAMES.items()}


def _as_tensor(value):
    if isinstance(value, Tensor):
        return value
    from .._creation import as_tensor
    return as_tensor(value)


def _unravel(flat_index, shape):
    index = []
    for size in reversed(tuple(shape)):
        index.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(index))


def _is_sequence(value):
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, str)


def _originate_pairs(actual, expected, id, options):
    """Flatten matching sequences and mappings into the pairs of their leaves (PyTorch checks every leaf's
    pair type before it compares any values)."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _ErrorMeta(AssertionError, f"The length of the sequences mismatch: {len(actual)} != "
                                             f"{len(expected)}", id=id)
        return [pair for index, (a, e) in enumerate(zip(actual, expected))
                for pair in _originate_pairs(a, e, id + (index,), options)]
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _ErrorMeta(AssertionError, "The keys of the mappings do not match:\n"
                                             f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                                             f"Additional keys in the actual mapping: "
                                             f"{sorted(actual_keys - expected_keys)}", id=id)
        keys = list(actual.keys())
        try:
            keys = sorted(keys)
        except Exception:  # NOTE: keys that do not sort keep the mapping's order
            pass
        return [pair for key in keys for pair in _originate_pairs(actual[key], expected[key], id + (key,), options)]
    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except _Unsupported:
            continue
    raise _ErrorMeta(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                                f"{type(expected)}.", id=id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless `actual` and `expected` are close (PyTorch's rules, defaults and messages).
    NOTE: the tensor-likes are ember Tensors and NumPy arrays; a torch.Tensor is not one."""
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                   check_stride=check_stride)
    try:
        pairs = _originate_pairs(actual, expected, (), options)
    except _ErrorMeta as error:
        raise error.to_error() from None  # NOTE: as in PyTorch, `msg` replaces only the comparisons' messages
    for pair in pairs:
        try:
            pair.compare()
        except _ErrorMeta as error:
            raise error.to_error(msg) from None
