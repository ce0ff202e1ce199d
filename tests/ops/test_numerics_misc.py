"""Numerics outside the generic test's reach, against real PyTorch: the removed linear-algebra functions'
refusals, nextafter at zeros, NaNs and infinities in every float dtype, frexp's special values, angle's
signed zeros."""
import math

import pytest
import torch

import ember
from tests.ops._errors import raised, same_error


REMOVED = {
    "solve": lambda m, a: m.solve(a, a),
    "eig": lambda m, a: m.eig(a),
    "eig_vectors": lambda m, a: m.eig(a, eigenvectors=True),
    "symeig": lambda m, a: m.symeig(a, eigenvectors=True),
    "lstsq": lambda m, a: m.lstsq(a, a),
    "matrix_rank": lambda m, a: m.matrix_rank(a),
    "Tensor.solve": lambda m, a: a.solve(a),
    "Tensor.eig": lambda m, a: a.eig(),
    "Tensor.symeig": lambda m, a: a.symeig(),
    "Tensor.lstsq": lambda m, a: a.lstsq(a),
}


@pytest.mark.parametrize("case", sorted(REMOVED))
def test_removed_functions_raise_pytorchs_message(case):
    expected = raised(lambda: REMOVED[case](torch, torch.eye(3)))
    got = raised(lambda: REMOVED[case](ember, ember.eye(3)))
    assert type(expected) is RuntimeError and type(got) is RuntimeError
    assert str(got) == str(expected)


SPECIALS = [1.0, -1.0, 0.0, -0.0, 2.0, -2.0, math.nan, 3.0, math.inf, -math.inf, 1e-30, 65504.0]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_nextafter_special_values(dtype):
    others = [2.0, -2.0, 1.0, -1.0, 1.0, 1.0, 1.0, 3.0, 0.0, math.inf, -1.0, math.inf]
    t = torch.nextafter(torch.tensor(SPECIALS, dtype=getattr(torch, dtype)),
                        torch.tensor(others, dtype=getattr(torch, dtype)))
    e = ember.nextafter(ember.tensor(SPECIALS, dtype=getattr(ember, dtype)),
                        ember.tensor(others, dtype=getattr(ember, dtype)))
    assert e.dtype == getattr(ember, dtype)
    assert str(e.float().tolist()) == str(t.float().tolist())
    # NOTE: signs of zero results matter too
    assert [math.copysign(1, v) for v in e.float().tolist()] == [math.copysign(1, v) for v in t.float().tolist()]


def test_nextafter_refuses_integers_and_promotes():
    same_error(lambda m: m.nextafter(m.tensor([1, 2]), m.tensor([2, 1])))
    mixed = ember.nextafter(ember.tensor([1.0]), ember.tensor([2.0], dtype=ember.float64))
    assert str(mixed.dtype) == str(torch.nextafter(torch.tensor([1.0]), torch.tensor([2.0], dtype=torch.float64)).dtype)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_frexp_special_values(dtype):
    values = [8.0, 0.3, -5.0, 0.0, -0.0, math.inf, -math.inf, math.nan, 1e-3]
    t = torch.frexp(torch.tensor(values, dtype=getattr(torch, dtype)))
    e = ember.frexp(ember.tensor(values, dtype=getattr(ember, dtype)))
    assert type(e).__name__ == "frexp" and e._fields == ("mantissa", "exponent")
    assert e.mantissa.dtype == getattr(ember, dtype) and e.exponent.dtype == ember.int32
    assert str(e.mantissa.float().tolist()) == str(t.mantissa.float().tolist())
    finite = [i for i, v in enumerate(values) if math.isfinite(v)]
    assert [e.exponent.tolist()[i] for i in finite] == [t.exponent.tolist()[i] for i in finite]


def test_frexp_refuses_integers():
    same_error(lambda m: m.frexp(m.tensor([8, 3])))


def test_angle_signed_zero_and_nan():
    values = [1.0, -2.0, 0.0, -0.0, math.nan, -math.inf]
    t = torch.angle(torch.tensor(values))
    e = ember.angle(ember.tensor(values))
    assert str(e.tolist()) == str(t.tolist())
    assert str(ember.angle(ember.tensor([1, -2])).dtype) == str(torch.angle(torch.tensor([1, -2])).dtype)


def test_conj_physical_inplace_returns_self():
    for mod in (torch, ember):
        z = mod.tensor([1 + 2j, -3j])
        assert mod.conj_physical_(z) is z
        assert z.tolist() == [1 - 2j, 3j]
        r = mod.tensor([1.0, -2.0])
        assert mod.conj_physical_(r) is r and r.tolist() == [1.0, -2.0]


CALCULUS_ERRORS = {
    "diff_0d": lambda m: m.diff(m.tensor(3.0)),
    "diff_negative": lambda m: m.diff(m.tensor([1, 3, 2]), n=-1),
    "diff_prepend_0d": lambda m: m.diff(m.ones(2, 3), prepend=m.tensor(1.0)),
    "gradient_short": lambda m: m.gradient(m.ones(1, 3)),
    "gradient_edge2_short": lambda m: m.gradient(m.ones(2, 3), edge_order=2),
    "gradient_edge3": lambda m: m.gradient(m.ones(2, 3), edge_order=3),
    "trapezoid_x_length": lambda m: m.trapezoid(m.ones(2, 3), m.tensor([0.0, 1])),
    "cov_3d": lambda m: m.cov(m.ones(2, 2, 2)),
}


@pytest.mark.parametrize("case", sorted(CALCULUS_ERRORS))
def test_calculus_refusals(case):
    same_error(CALCULUS_ERRORS[case])


def test_diff_order_zero_and_too_high():
    for n in (0, 6):
        t = torch.diff(torch.arange(4.0), n=n, prepend=torch.ones(1))
        e = ember.diff(ember.arange(4.0), n=n, prepend=ember.ones(1))
        assert e.tolist() == t.tolist()


def test_gradient_of_0d_is_empty_and_ints_give_floats():
    assert ember.gradient(ember.tensor(3.0)) == ()
    (t,) = torch.gradient(torch.tensor([1, 4, 9, 16]))
    (e,) = ember.gradient(ember.tensor([1, 4, 9, 16]))
    assert e.tolist() == t.tolist() and str(e.dtype) == str(t.dtype)


def test_cov_warns_without_degrees_of_freedom():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        e = ember.cov(ember.ones(2, 1))
    assert all(math.isnan(v) for row in e.tolist() for v in row)


def test_cov_weight_refusals():
    x = lambda m: m.ones(2, 3)  # noqa: E731
    same_error(lambda m: m.cov(x(m), fweights=m.ones(3)))
    same_error(lambda m: m.cov(x(m), aweights=m.ones(3, dtype=m.int64)))
    same_error(lambda m: m.cov(x(m), fweights=m.ones(4, dtype=m.int64)))
    same_error(lambda m: m.cov(x(m), fweights=-m.ones(3, dtype=m.int64)))
    same_error(lambda m: m.cov(x(m), aweights=-m.ones(3)))


@pytest.mark.parametrize("N", [None, 2, 4])
@pytest.mark.parametrize("increasing", [False, True])
def test_vander_gradient_matches_linalg_vander(N, increasing):
    # NOTE: PyTorch's own torch.vander backward raises (its in-place cumprod fails the version check), so the
    # oracle is torch.linalg.vander: the same matrix, increasing, with a working backward.
    values = [1.5, -2.0, 0.0, 0.5]
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    ref = torch.linalg.vander(x, N=N)
    ref = ref if increasing else ref.flip(1)
    w = torch.arange(float(ref.numel()), dtype=torch.float64).reshape(ref.shape)
    (ref * w).sum().backward()
    e = ember.tensor(values, dtype=ember.float64, requires_grad=True)
    out = ember.vander(e, N=N, increasing=increasing)
    assert out.tolist() == ref.tolist()
    (out * ember.tensor(w.numpy())).sum().backward()
    assert e.grad.tolist() == pytest.approx(x.grad.tolist())
    assert not ember.vander(e, N=1).requires_grad and not torch.vander(x, N=1).requires_grad


def test_block_diag_gradient_after_empty_vector():
    # NOTE: an empty 1-D block still takes a row; PyTorch's backward forgets it (torch gives [0, 1] here)
    a, b = ember.ones(0, requires_grad=True), ember.ones(2, requires_grad=True)
    out = ember.block_diag(a, b)
    assert out.tolist() == torch.block_diag(torch.ones(0), torch.ones(2)).tolist()
    (out * ember.tensor([[0.0, 1.0], [2.0, 3.0]])).sum().backward()
    assert b.grad.tolist() == [2.0, 3.0]


SHAPE_ERRORS = {
    "block_diag_3d": lambda m: m.block_diag(m.ones(2, 2, 2)),
    "cartesian_dtypes": lambda m: m.cartesian_prod(m.tensor([1, 2]), m.tensor([3.0])),
    "combinations_2d": lambda m: m.combinations(m.ones(2, 2)),
    "combinations_negative": lambda m: m.combinations(m.tensor([1, 2, 3]), r=-1),
    "vander_2d": lambda m: m.vander(m.ones(2, 2)),
    "vander_negative": lambda m: m.vander(m.ones(2), N=-1),
    "unravel_float": lambda m: m.unravel_index(m.tensor(1.0), (2, 3)),
    "unravel_negative_shape": lambda m: m.unravel_index(m.tensor(1), (2, -1)),
    "unravel_int": lambda m: m.unravel_index(5, (2, 3)),
}


@pytest.mark.parametrize("case", sorted(SHAPE_ERRORS))
def test_combining_refusals(case):
    same_error(SHAPE_ERRORS[case])


def test_block_diag_empty_and_unravel_wraps():
    assert list(ember.block_diag().shape) == list(torch.block_diag().shape)
    for idx in (7, -1, -7):
        t = torch.unravel_index(torch.tensor(idx), (2, 3))
        e = ember.unravel_index(ember.tensor(idx), (2, 3))
        assert [v.item() for v in e] == [v.item() for v in t]
    assert str(ember.unravel_index(ember.tensor([1], dtype=ember.int32), 6)[0].dtype) == "torch.int64"


BINNING_ERRORS = {
    "histogram_int": lambda m: m.histogram(m.tensor([1, 2]), 3),
    "histogram_zero_bins": lambda m: m.histogram(m.tensor([1.0, 2]), 0),
    "histogram_reversed_range": lambda m: m.histogram(m.tensor([1.0, 2]), 3, range=(5.0, 0.0)),
    "histogram_nan_range": lambda m: m.histogram(m.tensor([1.0, math.nan]), 3),
    "histogram_inf_range": lambda m: m.histogram(m.tensor([1.0, 2]), 3, range=(0.0, math.inf)),
    "histogram_weight_shape": lambda m: m.histogram(m.tensor([1.0, 2]), 3, weight=m.ones(3)),
    "histogram_2d_edges": lambda m: m.histogram(m.tensor([1.0, 2]), m.tensor([[1.0, 2]])),
    "histogram_one_edge": lambda m: m.histogram(m.tensor([1.0, 2]), m.tensor([1.0])),
    "histogram_edge_dtype": lambda m: m.histogram(m.tensor([1.0, 2]), m.tensor([1.0, 2], dtype=m.float64)),
    "histogramdd_1d": lambda m: m.histogramdd(m.tensor([1.0, 2]), 3),
    "histogramdd_bins_length": lambda m: m.histogramdd(m.ones(3, 2), [3]),
    "searchsorted_0d": lambda m: m.searchsorted(m.tensor(1), m.tensor([3])),
    "searchsorted_batch": lambda m: m.searchsorted(m.tensor([[1, 3], [2, 4]]), m.tensor([2, 3])),
    "searchsorted_sides": lambda m: m.searchsorted(m.tensor([1, 3]), m.tensor([2]), right=True, side="left"),
    "bucketize_2d": lambda m: m.bucketize(m.tensor([3]), m.tensor([[1, 2]])),
    "isin_complex": lambda m: m.isin(m.tensor([1 + 1j]), m.tensor([2, 3])),
    "histogram_backward": lambda m: m.histogram(m.tensor([1.0, 2], requires_grad=True), 2).hist.sum().backward(),
}


@pytest.mark.parametrize("case", sorted(BINNING_ERRORS))
def test_binning_refusals(case):
    same_error(BINNING_ERRORS[case])


def test_searchsorted_sorter_and_scalar():
    for mod in (torch, ember):
        got = mod.searchsorted(mod.tensor([5, 1, 3]), mod.tensor([2, 4]), sorter=mod.tensor([1, 2, 0]))
        assert got.tolist() == [1, 2]
        scalar = mod.searchsorted(mod.tensor([1, 3, 5]), 3, side="right")
        assert scalar.dim() == 0 and scalar.item() == 2
    assert ember.searchsorted(ember.tensor([1, 3]), ember.tensor([3.5])).tolist() == [2]


def test_histogram_edges_and_nan_membership():
    x = [1.0, 2.0, 1.0, 4.0, 2.5, 3.0, 1.5]
    t = torch.histogram(torch.tensor(x), 4, weight=torch.arange(7.0))
    e = ember.histogram(ember.tensor(x), 4, weight=ember.arange(7.0))
    assert e.hist.tolist() == t.hist.tolist() and e.bin_edges.tolist() == t.bin_edges.tolist()
    assert ember.isin(ember.tensor([1.0, math.nan]), ember.tensor([math.nan])).tolist() == [False, False]
