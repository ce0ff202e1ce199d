"""torch.nn.grad against PyTorch: conv{1,2,3}d_input / conv{1,2,3}d_weight values, gradients, errors."""
import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, raises_like, to_ember

CASES = [  # (stride, padding, dilation, groups)
    (1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1), (3, 1, 1, 2), (2, 0, 2, 2), ((1, 2, 3), (0, 1, 2), (2, 1, 1), 1),
]


def _shapes(nd, case):
    stride, padding, dilation, groups = case
    x = (2, 4) + (9, 8, 7)[:nd]
    w = (6, 4 // groups) + (3, 2, 3)[:nd]
    return x, w


def _arg(v, nd):
    return v[:nd] if isinstance(v, tuple) else v


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_input_and_weight_grads_match_torch(nd, case, dtype):
    stride, padding, dilation, groups = (_arg(v, nd) for v in case)
    x_shape, w_shape = _shapes(nd, case)
    rng = np.random.default_rng(nd)
    tx = torch.from_numpy(rng.standard_normal(x_shape).astype(dtype))
    tw = torch.from_numpy(rng.standard_normal(w_shape).astype(dtype))
    conv = getattr(torch.nn.functional, f"conv{nd}d")
    out = conv(tx, tw, None, stride, padding, dilation, groups)
    tg = torch.from_numpy(rng.standard_normal(tuple(out.shape)).astype(dtype))
    t_in = getattr(torch.nn.grad, f"conv{nd}d_input")(tx.shape, tw, tg, stride, padding, dilation, groups)
    t_w = getattr(torch.nn.grad, f"conv{nd}d_weight")(tx, tw.shape, tg, stride, padding, dilation, groups)
    e_in = getattr(ember.nn.grad, f"conv{nd}d_input")(list(x_shape), to_ember(tw), to_ember(tg), stride, padding,
                                                       dilation, groups)
    e_w = getattr(ember.nn.grad, f"conv{nd}d_weight")(to_ember(tx), ember.Size(w_shape), to_ember(tg), stride,
                                                       padding, dilation, groups)
    tol = 1e-4 if dtype == "float32" else 1e-10
    assert_close(e_in, t_in, rtol=tol, atol=tol)
    assert_close(e_w, t_w, rtol=tol, atol=tol)


def test_results_are_differentiable_like_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    g = rng.standard_normal((2, 4, 2, 6))
    results = []
    for lib in (torch, ember):
        lw, lg, lx = (lib.tensor(a, requires_grad=True) for a in (w, g, x))
        a = lib.nn.grad.conv2d_input((2, 3, 6, 5), lw, lg, stride=(2, 1), padding=(0, 1))
        b = lib.nn.grad.conv2d_weight(lx, (4, 3, 3, 2), lg, stride=(2, 1), padding=(0, 1))
        ((a ** 2).sum() + (b ** 3).sum()).backward()
        results.append((lw.grad, lg.grad, lx.grad))
    for e, t in zip(results[1], results[0]):
        assert_close(e, t, rtol=1e-10, atol=1e-10)
    lw, lg = (ember.tensor(a, requires_grad=True) for a in (w, g))
    assert ember.autograd.gradcheck(
        lambda w_, g_: ember.nn.grad.conv2d_input((2, 3, 6, 5), w_, g_, stride=(2, 1), padding=(0, 1)), (lw, lg))


def test_errors_match_torch():
    tw, tg = torch.randn(3, 2, 3, 3), torch.randn(1, 3, 3, 3)
    ew, eg = to_ember(tw), to_ember(tg)
    raises_like(lambda: torch.nn.grad.conv2d_input((1, 2, 5), tw, tg),
                lambda: ember.nn.grad.conv2d_input((1, 2, 5), ew, eg))
    raises_like(lambda: torch.nn.grad.conv2d_input((1, 2, 5, 5), tw, tg.double()),
                lambda: ember.nn.grad.conv2d_input((1, 2, 5, 5), ew, eg.double()))
    tx = torch.randn(1, 2, 5, 5)
    raises_like(lambda: torch.nn.grad.conv2d_weight(tx, (3, 2, 3, 3), tg.double()),
                lambda: ember.nn.grad.conv2d_weight(to_ember(tx), (3, 2, 3, 3), eg.double()))
