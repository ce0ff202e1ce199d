"""torch.binomial against PyTorch: dtypes, shapes, broadcasting, errors, the graph it records; its samples
statistically (ember's random stream is not PyTorch's, so values are checked for their distribution)."""
import warnings

import numpy as np
import pytest
import torch

import ember
from _device import DEVICE, TORCH_DEVICE, host

LIBS = {"torch": (torch, TORCH_DEVICE), "ember": (ember, DEVICE)}


def _call(name, make):
    lib, dev = LIBS[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = make(lib, dev)
    # NOTE: PyTorch appends where in its C++ source it warned
    return out, [str(w.message).split(" (Triggered")[0] for w in caught if "resized" in str(w.message)]


def _meta(out):
    return tuple(out.shape), str(out.dtype), out.requires_grad, \
        None if out.grad_fn is None else type(out.grad_fn).__name__.replace("torch::autograd::", "")


CASES = {
    "float32": lambda t, d: t.binomial(t.tensor([10.0, 5.0], device=d), t.tensor([0.5, 0.2], device=d)),
    "float64": lambda t, d: t.binomial(t.full((2, 3), 4.0, dtype=t.float64, device=d),
                                        t.full((2, 3), 0.3, dtype=t.float64, device=d)),
    "0-d": lambda t, d: t.binomial(t.tensor(5.0, device=d), t.tensor(0.5, device=d)),
    "empty": lambda t, d: t.binomial(t.ones(0, 3, device=d), t.ones(0, 3, device=d)),
    "prob_broadcast": lambda t, d: t.binomial(t.full((2, 3), 6.0, device=d), t.tensor([0.1, 0.5, 0.9], device=d)),
    "count_broadcast": lambda t, d: t.binomial(t.tensor([10.0], device=d), t.tensor([0.5, 0.2], device=d)),
    "both_broadcast": lambda t, d: t.binomial(t.full((2, 1), 3.0, device=d), t.full((1, 3), 0.5, device=d)),
    "expanded_count": lambda t, d: t.binomial(t.tensor([[3.0], [7.0]], device=d).expand(2, 3),
                                              t.full((3,), 0.4, device=d)),
    "keywords": lambda t, d: t.binomial(count=t.ones(3, device=d), prob=t.full((3,), 0.5, device=d)),
    "generator": lambda t, d: t.binomial(t.ones(3, device=d), t.full((3,), 0.5, device=d),
                                         generator=t.Generator(device=d).manual_seed(3)),
    "count_requires_grad": lambda t, d: t.binomial(t.ones(3, device=d, requires_grad=True),
                                                   t.full((3,), 0.5, device=d)),
    "prob_requires_grad": lambda t, d: t.binomial(t.ones(3, device=d), t.full((3,), 0.5, device=d,
                                                                              requires_grad=True)),
    "no_grad": lambda t, d: _no_grad(t, lambda: t.binomial(t.ones(3, device=d, requires_grad=True),
                                                           t.full((3,), 0.5, device=d))),
}


def _no_grad(t, f):
    with t.no_grad():
        return f()


@pytest.mark.parametrize("case", list(CASES))
def test_metadata_matches_torch(case):
    (t_out, t_warn), (e_out, e_warn) = _call("torch", CASES[case]), _call("ember", CASES[case])
    assert _meta(e_out) == _meta(t_out)
    assert e_out.device.type == DEVICE
    assert e_warn == t_warn  # NOTE: PyTorch warns that its output (made like count) was resized to the broadcast


ERRORS = {
    "int_count": lambda t, d: t.binomial(t.ones(2, dtype=t.int64, device=d), t.full((2,), 0.5, device=d)),
    "bool_count": lambda t, d: t.binomial(t.ones(2, dtype=t.bool, device=d), t.full((2,), 0.5, device=d)),
    "int_prob": lambda t, d: t.binomial(t.ones(2, device=d), t.ones(2, dtype=t.int64, device=d)),
    "complex_count": lambda t, d: t.binomial(t.ones(2, dtype=t.complex64, device=d),
                                             t.ones(2, dtype=t.complex64, device=d)),
    "mixed_float": lambda t, d: t.binomial(t.ones(2, device=d), t.full((2,), 0.5, dtype=t.float64, device=d)),
    "mixed_double": lambda t, d: t.binomial(t.ones(2, dtype=t.float64, device=d), t.full((2,), 0.5, device=d)),
    "mixed_half": lambda t, d: t.binomial(t.ones(2, dtype=t.float16, device=d), t.full((2,), 0.5, device=d)),
    "float_prob": lambda t, d: t.binomial(t.ones(2, device=d), 0.5),
    "int_count_arg": lambda t, d: t.binomial(5, t.full((2,), 0.5, device=d)),
    "no_broadcast": lambda t, d: t.binomial(t.ones(2, device=d), t.full((3,), 0.5, device=d)),
    "out": lambda t, d: t.binomial(t.ones(2, device=d), t.full((2,), 0.5, device=d), out=t.empty(2, device=d)),
    "backward": lambda t, d: t.binomial(t.ones(2, device=d, requires_grad=True),
                                        t.full((2,), 0.5, device=d)).sum().backward(),
    "backward_prob": lambda t, d: t.binomial(t.ones(2, device=d), t.full((2,), 0.5, device=d,
                                                                         requires_grad=True)).sum().backward(),
}
HALF = {
    "half": lambda t, d: t.binomial(t.ones(2, dtype=t.float16, device=d), t.full((2,), 0.5, dtype=t.float16,
                                                                                device=d)),
    "bfloat16": lambda t, d: t.binomial(t.ones(2, dtype=t.bfloat16, device=d),
                                        t.full((2,), 0.5, dtype=t.bfloat16, device=d)),
}


def _error(name, make):
    with pytest.raises(Exception) as info:
        _call(name, make)
    return info.type, str(info.value)


@pytest.mark.parametrize("case", list(ERRORS) + list(HALF))
def test_errors_match_torch(case):
    make = {**ERRORS, **HALF}[case]
    t_type, t_msg = _error("torch", make)
    e_type, e_msg = _error("ember", make)
    assert e_type is t_type
    if case in HALF and TORCH_DEVICE != DEVICE:
        return  # NOTE: the kernel named in the message is the device's
    assert e_msg == t_msg


# --- the samples --------------------------------------------------------------------------------------------
N = 40000


def _draws(count, prob, dtype=ember.float32):
    out = ember.binomial(ember.full((N,), count, dtype=dtype, device=DEVICE),
                         ember.full((N,), prob, dtype=dtype, device=DEVICE))
    return host(out).numpy().astype(np.float64)


@pytest.mark.parametrize("count,prob", [(1.0, 0.3), (10.0, 0.5), (25.0, 0.05), (40.0, 0.9), (1000.0, 0.42),
                                        (3.0e6, 0.25)])
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_mean_and_variance(count, prob, dtype):
    ember.manual_seed(11)
    v = _draws(count, prob, dtype)
    mean, var = count * prob, count * prob * (1 - prob)
    assert abs(v.mean() - mean) < 5 * np.sqrt(var / N)
    # NOTE: the sample variance's standard error is about var * sqrt(2 / N) (and the excess kurtosis is small)
    assert abs(v.var() - var) < 6 * var * np.sqrt(2.0 / N) + 1e-12
    assert np.all(v == np.round(v)) and v.min() >= 0 and v.max() <= count


def test_small_count_frequencies():
    ember.manual_seed(5)
    v = _draws(4.0, 0.3)
    freq = np.bincount(v.astype(np.int64), minlength=5) / N
    expected = [0.7 ** 4, 4 * 0.3 * 0.7 ** 3, 6 * 0.09 * 0.49, 4 * 0.027 * 0.7, 0.3 ** 4]
    assert np.allclose(freq, expected, atol=5 * np.sqrt(0.25 / N))


@pytest.mark.parametrize("count,prob,expected", [
    (0.0, 0.5, 0.0), (7.0, 0.0, 0.0), (7.0, 1.0, 7.0), (-1.0, 0.5, 0.0), (-1.0, 0.9, 0.0), (3.0, 1.5, 3.0),
    (3.0, -0.5, 0.0), (2.5, 1.0, 2.5), (0.0, 1.0, 0.0),
    (3.0, float("nan"), float("nan")),
])
def test_edge_values_match_torch(count, prob, expected):
    for lib, dev in LIBS.values():
        out = host(lib.binomial(lib.full((50,), count, device=dev), lib.full((50,), prob, device=dev)))
        np.testing.assert_array_equal(out.numpy(), np.full(50, expected, dtype=np.float32))


@pytest.mark.parametrize("count,prob", [(2.5, 0.9), (2.5, 0.3), (3.7, 0.6), (0.7, 0.9), (0.5, 0.3)])
def test_fractional_count_frequencies_match_torch(count, prob):
    ember.manual_seed(2)
    v = _draws(count, prob)
    t = torch.binomial(torch.full((N,), count), torch.full((N,), prob)).numpy().astype(np.float64)
    t_values, t_counts = np.unique(t, return_counts=True)
    e_values, e_counts = np.unique(v, return_counts=True)
    frequent = t_counts > N // 300
    np.testing.assert_allclose(e_values[e_counts > N // 300], t_values[frequent], rtol=1e-6)
    np.testing.assert_allclose(e_counts[e_counts > N // 300] / N, t_counts[frequent] / N, atol=0.02)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_huge_counts(dtype):
    count = 1e20 if dtype is ember.float32 else 1e300
    v = _draws(count, 0.5, dtype)[:100]
    assert np.all(np.abs(v / count - 0.5) < 1e-6)


def test_seed_reproduces_and_generators_are_independent():
    c, p = ember.full((100,), 20.0, device=DEVICE), ember.full((100,), 0.4, device=DEVICE)
    ember.manual_seed(9)
    a = host(ember.binomial(c, p))
    ember.manual_seed(9)
    b = host(ember.binomial(c, p))
    g1, g2 = ember.Generator(device=DEVICE).manual_seed(1), ember.Generator(device=DEVICE).manual_seed(1)
    assert ember.equal(a, b)
    assert ember.equal(host(ember.binomial(c, p, generator=g1)), host(ember.binomial(c, p, generator=g2)))


def test_distribution_sample_statistics():
    ember.manual_seed(4)
    d = ember.distributions.Binomial(ember.tensor([12.0, 30.0]), probs=ember.tensor([0.25, 0.7]))
    v = d.sample((N // 4,)).numpy().astype(np.float64)
    for j, (n, p) in enumerate(((12, 0.25), (30, 0.7))):
        assert abs(v[:, j].mean() - n * p) < 5 * np.sqrt(n * p * (1 - p) / (N // 4))
