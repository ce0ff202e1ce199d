"""nn.AdaptiveLogSoftmaxWithLoss and F.pdist against PyTorch."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as EF
from ember.nn.modules.adaptive import AdaptiveLogSoftmaxWithLoss as EAdaptive

from _nn_helpers import assert_close, copy_weights, raises_like, to_ember


def _pair(**kw):
    torch.manual_seed(0)
    args = (6, 12, [3, 7])
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(*args, **kw).double()
    e = EAdaptive(*args, **kw).double()
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    copy_weights(t, e)
    return t, e


@pytest.mark.parametrize("kw", [{}, {"head_bias": True, "div_value": 2.0}])
def test_adaptive_forward_loss_and_grads(kw):
    t, e = _pair(**kw)
    x = torch.randn(9, 6, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 2, 3, 6, 7, 11, 1, 4, 8])
    ex = to_ember(x)
    out = t(x, target)
    eout = e(ex, ember.tensor(target.tolist()))
    assert type(eout).__name__ == "_ASMoutput" and eout._fields == ("output", "loss")
    assert_close(eout.output, out.output, 1e-10, 1e-12)
    assert_close(eout.loss, out.loss, 1e-10, 1e-12)
    (out.loss + out.output[2]).backward()
    (eout.loss + eout.output[2]).backward()
    assert_close(ex.grad, x.grad, 1e-10, 1e-12)
    for (name, p), (ename, ep) in zip(t.named_parameters(), e.named_parameters()):
        assert name == ename
        assert_close(ep.grad, p.grad, 1e-10, 1e-12)


def test_adaptive_log_prob_predict_unbatched():
    t, e = _pair(head_bias=True)
    with torch.no_grad():
        t.head.bias[4] += 3.0  # some rows' head argmax is a cluster, so predict takes both branches
    copy_weights(t, e)
    x = torch.randn(10, 6, dtype=torch.float64)
    ex = to_ember(x)
    assert_close(e.log_prob(ex), t.log_prob(x), 1e-10, 1e-12)
    assert e.predict(ex).tolist() == t.predict(x).tolist()
    assert e.predict(ex[:2]).tolist() == t.predict(x[:2]).tolist()
    out, eout = t(x[0], torch.tensor(5)), e(ex[0], ember.tensor(5))
    assert_close(eout.output, out.output, 1e-10, 1e-12)


def test_adaptive_errors():
    t, e = _pair()
    x = torch.randn(3, 6, dtype=torch.float64)
    ex = to_ember(x)
    for target in ([0, 1, 12], [0, -1, 2]):
        raises_like(lambda: t(x, torch.tensor(target)), lambda: e(ex, ember.tensor(target)))
    raises_like(lambda: t(x, torch.tensor([0, 1])), lambda: e(ex, ember.tensor([0, 1])))
    raises_like(lambda: t(x, torch.tensor([[0]])), lambda: e(ex, ember.tensor([[0]])))
    for cutoffs in ([], [3, 3], [7, 3], [0, 3], [12]):
        raises_like(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(6, 12, cutoffs),
                    lambda: EAdaptive(6, 12, cutoffs))


@pytest.mark.parametrize("p", [2, 1, 0, 3, float("inf"), 0.5])
def test_pdist(p):
    x = torch.tensor([[0., 1, 2], [0, 1, 2], [1, 3, -1], [2, 2, 2.5], [0.5, -1, 0]], dtype=torch.float64,
                     requires_grad=True)  # rows 0 and 1 equal: the gradient at distance 0
    ex = to_ember(x)
    out, eout = torch.pdist(x, p), ember.pdist(ex, p)
    assert_close(eout, out, 1e-10, 1e-12)
    assert_close(EF.pdist(ex, p), out, 1e-10, 1e-12)
    w = torch.arange(1.0, 11.0, dtype=torch.float64)
    (out * w).sum().backward()
    (eout * to_ember(w)).sum().backward()
    assert_close(ex.grad, x.grad, 1e-9, 1e-12)


def test_pdist_edges_and_errors():
    assert tuple(ember.pdist(ember.randn(1, 3)).shape) == (0,)
    assert tuple(ember.pdist(ember.randn(0, 3)).shape) == (0,)
    x = ember.randn(4, 2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda z: ember.pdist(z), (x,))
    raises_like(lambda: torch.pdist(torch.randn(2, 3, 4)), lambda: ember.pdist(ember.randn(2, 3, 4)))
    raises_like(lambda: torch.pdist(torch.randn(3, 4), -1), lambda: ember.pdist(ember.randn(3, 4), -1))
    raises_like(lambda: torch.pdist(torch.ones(3, 4).long()), lambda: ember.pdist(ember.ones(3, 4).long()))
