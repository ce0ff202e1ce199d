"""F.ctc_loss and nn.CTCLoss against PyTorch: values and gradients, every reduction, both target layouts."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as EF
from ember.nn.modules.loss import CTCLoss as ECTCLoss

from _nn_helpers import assert_close, raises_like, to_ember

TF = torch.nn.functional
T, N, C = 7, 3, 5
TARGETS = torch.tensor([[1, 2, 2], [3, 0, 0], [4, 4, 1]])
LENGTHS = {"full": ([7, 5, 6], [3, 1, 3]),
           "too_short": ([2, 5, 6], [3, 1, 3]),  # sample 0 cannot emit its target: infinite loss
           "empty_target": ([7, 5, 6], [0, 1, 2]),
           "empty_input": ([0, 0, 6], [0, 1, 2])}


def _logits(dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(T, N, C, dtype=dtype, generator=g).requires_grad_()


def _both(x, fn, through_log_softmax=True):
    """fn(F, log_probs, module) on torch and ember; returns (torch loss, ember loss, x, ex)."""
    ex = to_ember(x)
    lp = x.log_softmax(2) if through_log_softmax else x
    elp = ex.log_softmax(2) if through_log_softmax else ex
    return fn(TF, lp, torch), fn(EF, elp, ember), ex


@pytest.mark.parametrize("lengths", list(LENGTHS))
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_values_and_grads(lengths, reduction, zero_infinity):
    x = _logits()
    il, tl = LENGTHS[lengths]
    fn = lambda F, lp, lib: F.ctc_loss(lp, lib.tensor(TARGETS.tolist()), il, tl, reduction=reduction,  # noqa: E731
                                       zero_infinity=zero_infinity)
    loss, eloss, ex = _both(x, fn)
    assert_close(eloss, loss, 1e-10, 1e-12)
    w = torch.rand(loss.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    (loss * w).sum().backward()
    (eloss * to_ember(w)).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), x.grad.numpy(), rtol=1e-9, atol=1e-12)  # NaN where torch's is


def test_ctc_gradient_is_torchs_formula_on_raw_log_probs():
    """PyTorch's backward gives exp(lp) - exp(log(alpha beta) + nll - lp), not d nll / d lp: match it."""
    x = _logits(seed=2)
    fn = lambda F, lp, lib: F.ctc_loss(lp, lib.tensor(TARGETS.tolist()), *LENGTHS["full"])  # noqa: E731
    loss, eloss, ex = _both(x, fn, through_log_softmax=False)
    assert_close(eloss, loss, 1e-10, 1e-12)
    loss.backward()
    eloss.backward()
    assert_close(ex.grad, x.grad, 1e-9, 1e-12)


def test_ctc_concatenated_targets_tensor_lengths_and_float32():
    x = _logits(torch.float32, seed=3)
    flat = [1, 2, 2, 3, 4, 4, 1]
    fn = lambda F, lp, lib: F.ctc_loss(lp, lib.tensor(flat), lib.tensor([7, 5, 6]),  # noqa: E731
                                       lib.tensor([3, 1, 3], dtype=lib.int32), blank=0)
    loss, eloss, ex = _both(x, fn)
    assert_close(eloss, loss, 1e-5, 1e-5)
    loss.backward()
    eloss.backward()
    assert_close(ex.grad, x.grad, 1e-5, 1e-6)


def test_ctc_unbatched_and_other_blank():
    x = _logits(seed=4)[:, 0].detach().requires_grad_()
    ex = to_ember(x)
    loss = TF.ctc_loss(x.log_softmax(1), torch.tensor([1, 0, 0]), [7], [3], blank=4, reduction="none")
    eloss = EF.ctc_loss(ex.log_softmax(1), ember.tensor([1, 0, 0]), [7], [3], blank=4, reduction="none")
    assert_close(eloss, loss, 1e-10, 1e-12)
    loss.backward()
    eloss.backward()
    assert_close(ex.grad, x.grad, 1e-9, 1e-12)


def test_ctc_module_and_gradcheck():
    x = _logits(seed=5)
    module, emodule = torch.nn.CTCLoss(blank=1, reduction="sum"), ECTCLoss(blank=1, reduction="sum")
    tg = [[2, 3, 3], [4, 0, 0], [0, 0, 2]]
    loss = module(x.log_softmax(2), torch.tensor(tg), [7, 6, 5], [3, 1, 3])
    ex = to_ember(x)
    eloss = emodule(ex.log_softmax(2), ember.tensor(tg), [7, 6, 5], [3, 1, 3])
    assert_close(eloss, loss, 1e-10, 1e-12)
    small = ember.randn(4, 2, 3, dtype=ember.float64, requires_grad=True)
    fn = lambda z: EF.ctc_loss(z.log_softmax(2), ember.tensor([[1, 2], [2, 2]]), [4, 4], [2, 1])  # noqa: E731
    assert ember.autograd.gradcheck(fn, (small,))


def test_ctc_errors():
    x = _logits().detach().log_softmax(2)
    ex = to_ember(x)
    tg, etg = TARGETS, ember.tensor(TARGETS.tolist())
    cases = [
        lambda F, lp, tg, lib: F.ctc_loss(lp, tg, [8, 5, 6], [3, 1, 3]),
        lambda F, lp, tg, lib: F.ctc_loss(lp, tg, [7, -1, 6], [3, 1, 3]),
        lambda F, lp, tg, lib: F.ctc_loss(lp, tg, [7, 5, 6], [4, 1, 3]),
        lambda F, lp, tg, lib: F.ctc_loss(lp, tg, [7, 5, 6], [3, 1, 3], blank=5),
        lambda F, lp, tg, lib: F.ctc_loss(lp, tg, [7, 5], [3, 1, 3]),
        lambda F, lp, tg, lib: F.ctc_loss(lp, tg, [7, 5, 6], [3, 1, 3], reduction="bad"),
        lambda F, lp, tg, lib: F.ctc_loss(lp, tg, lib.tensor([7.0, 5.0, 6.0]), lib.tensor([3, 1, 3])),
        lambda F, lp, tg, lib: F.ctc_loss(lp, tg, [7, 5.0, 6], [3, 1, 3]),
        lambda F, lp, tg, lib: F.ctc_loss(lp[:, :, None], tg, [7, 5, 6], [3, 1, 3]),
        lambda F, lp, tg, lib: F.ctc_loss(lp[:, :0], tg[:0], [], []),
    ]
    for case in cases:
        raises_like(lambda: case(TF, x, tg, torch), lambda: case(EF, ex, etg, ember))


# === linear_cross_entropy / LinearCrossEntropyLoss (in this file: the other loss this helper adds) ======
from ember.nn.modules.loss import LinearCrossEntropyLoss as ELinearCE  # noqa: E402


@pytest.mark.parametrize("kw", [{}, {"out_features": (2,), "bias": True}, {"reduction": "sum", "label_smoothing": 0.1},
                                {"ignore_index": 1, "reduction": "none", "bias": True}])
def test_linear_cross_entropy_module(kw):
    torch.manual_seed(0)
    t = torch.nn.LinearCrossEntropyLoss(4, 5, **kw).double()
    e = ELinearCE(4, 5, **kw).double()
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict({k: to_ember(v) for k, v in t.state_dict().items()})
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 1, 4, 2, 1, 3])
    if "out_features" in kw:
        target = torch.tensor([[0, 1], [4, 2], [1, 3], [0, 0], [2, 4], [3, 1]])
    ex = to_ember(x)
    loss, eloss = t(x, target), e(ex, ember.tensor(target.tolist()))
    assert_close(eloss, loss, 1e-10, 1e-12)
    loss.sum().backward()
    eloss.sum().backward()
    assert_close(ex.grad, x.grad, 1e-10, 1e-12)
    assert_close(e.linear.weight.grad, t.linear.weight.grad, 1e-10, 1e-12)
    assert repr(e) == repr(t)


def test_linear_cross_entropy_functional_and_errors():
    x, w = torch.randn(3, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    probs = torch.softmax(torch.randn(3, 5, dtype=torch.float64), 1)
    ex, ew, eprobs = to_ember(x), to_ember(w), to_ember(probs)
    assert_close(EF.linear_cross_entropy(ex, ew, eprobs), TF.linear_cross_entropy(x, w, probs), 1e-10, 1e-12)
    assert_close(EF.linear_cross_entropy(ex[0], ew, ember.tensor(2)),
                 TF.linear_cross_entropy(x[0], w, torch.tensor(2)), 1e-10, 1e-12)
    cases = [
        lambda F, x, w, p, lib: F.linear_cross_entropy(x[None], w, lib.tensor([0])),
        lambda F, x, w, p, lib: F.linear_cross_entropy(x, w[0], lib.tensor([0, 1, 2])),
        lambda F, x, w, p, lib: F.linear_cross_entropy(x, w[:, :3], lib.tensor([0, 1, 2])),
        lambda F, x, w, p, lib: F.linear_cross_entropy(x, w, lib.tensor([0, 1, 2]), linear_bias=w[0]),
        lambda F, x, w, p, lib: F.linear_cross_entropy(x, w, p, ignore_index=0),
        lambda F, x, w, p, lib: F.linear_cross_entropy(x[0], w[:, None], lib.tensor(0)),
    ]
    for case in cases:
        raises_like(lambda: case(TF, x, w, probs, torch), lambda: case(EF, ex, ew, eprobs, ember))
    raises_like(lambda: torch.nn.LinearCrossEntropyLoss(4, 5, label_smoothing=2.0),
                lambda: ELinearCE(4, 5, label_smoothing=2.0))


def test_torch_ctc_loss_alias_takes_reduction_enum():
    lp = _logits().detach().log_softmax(2)
    elp = to_ember(lp)
    tg = TARGETS.tolist()
    for extra in ((), (0,), (0, 1), (0, 2, True)):
        assert_close(ember.ctc_loss(elp, ember.tensor(tg), [7, 5, 6], [3, 1, 3], *extra),
                     torch.ctc_loss(lp, torch.tensor(tg), [7, 5, 6], [3, 1, 3], *extra), 1e-10, 1e-12)
