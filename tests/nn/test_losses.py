"""nn losses (modules and functional forms) against PyTorch: every option and reduction, gradients for
the input and (where PyTorch differentiates it) the target, legacy size_average/reduce, warnings,
errors, reprs; gradcheck in float64."""
import warnings

import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, raises_like

TF, EF = torch.nn.functional, ember.nn.functional
C = 4  # classes


def _draw(kind, shape, rng, dtype):
    """One input array by its kind: x (normal), p (probability), pos (positive), sign (+-1), bin (0/1),
    logp (log-probabilities over the last... class dim 1), cls (class index), cls_ign (some -100 / ignore 1)."""
    if kind == "x":
        return (rng.standard_normal(shape) * 1.5).astype(dtype)
    if kind == "p":
        return rng.uniform(0.05, 0.95, shape).astype(dtype)
    if kind == "pos":
        return rng.uniform(0.2, 3.0, shape).astype(dtype)
    if kind == "count":
        return rng.integers(0, 5, shape).astype(dtype)
    if kind == "sign":
        return np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0).astype(dtype)
    if kind == "bin":
        return (rng.uniform(size=shape) < 0.5).astype(dtype)
    if kind in ("logp", "probs"):
        z = rng.standard_normal(shape)
        axis = 1 if len(shape) > 1 else 0
        logp = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
        return (logp if kind == "logp" else np.exp(logp)).astype(dtype)
    if kind == "cls":
        return rng.integers(0, C, shape).astype("int64")
    raise ValueError(kind)


def _make(lib, arrays, grads):
    out = []
    for a, g in zip(arrays, grads):
        t = lib.tensor(a.copy()) if a.ndim else lib.tensor(a.item(), dtype=getattr(lib, str(a.dtype)))
        if g and a.dtype.kind == "f":
            t.requires_grad_(True)
        out.append(t)
    return out


def _kw(lib, kw, dtype):
    return {k: (lib.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}


# (functional, module, kwargs (numpy arrays become tensors), [(kind, shape, differentiable), ...])
X34 = [("x", (3, 4), True), ("x", (3, 4), True)]
W4 = np.array([0.5, 1.0, 2.0, 0.25])
CASES = [
    ("mse_loss", "MSELoss", {}, X34),
    ("l1_loss", "L1Loss", {}, X34),
    ("smooth_l1_loss", "SmoothL1Loss", {}, X34),
    ("smooth_l1_loss", "SmoothL1Loss", {"beta": 0.5}, X34),
    ("smooth_l1_loss", "SmoothL1Loss", {"beta": 0.0}, X34),
    ("huber_loss", "HuberLoss", {"delta": 0.7}, X34),
    ("mse_loss", None, {"weight": np.linspace(0.1, 2, 12).reshape(3, 4)}, X34),
    ("l1_loss", None, {"weight": np.linspace(0.1, 2, 12).reshape(3, 4)}, X34),
    ("huber_loss", None, {"weight": np.linspace(0.1, 2, 12).reshape(3, 4)}, X34),
    ("binary_cross_entropy", "BCELoss", {}, [("p", (3, 4), True), ("p", (3, 4), True)]),
    ("binary_cross_entropy", "BCELoss", {"weight": W4}, [("p", (3, 4), True), ("bin", (3, 4), True)]),
    ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss", {}, [("x", (3, 4), True), ("p", (3, 4), True)]),
    ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss", {"weight": W4, "pos_weight": W4[::-1].copy()},
     [("x", (3, 4), True), ("bin", (3, 4), True)]),
    ("cross_entropy", "CrossEntropyLoss", {}, [("x", (5, C), True), ("cls", (5,), False)]),
    ("cross_entropy", "CrossEntropyLoss", {"weight": W4}, [("x", (5, C), True), ("cls", (5,), False)]),
    ("cross_entropy", "CrossEntropyLoss", {"ignore_index": 1}, [("x", (6, C), True), ("cls", (6,), False)]),
    ("cross_entropy", "CrossEntropyLoss", {"label_smoothing": 0.2}, [("x", (5, C), True), ("cls", (5,), False)]),
    ("cross_entropy", "CrossEntropyLoss", {"label_smoothing": 0.3, "weight": W4, "ignore_index": 2},
     [("x", (7, C), True), ("cls", (7,), False)]),
    ("cross_entropy", "CrossEntropyLoss", {"weight": W4}, [("x", (2, C, 3, 2), True), ("cls", (2, 3, 2), False)]),
    ("cross_entropy", "CrossEntropyLoss", {"ignore_index": 0, "label_smoothing": 0.1},
     [("x", (2, C, 5), True), ("cls", (2, 5), False)]),
    ("cross_entropy", "CrossEntropyLoss", {}, [("x", (C,), True), ("cls", (), False)]),
    ("cross_entropy", "CrossEntropyLoss", {}, [("x", (5, C), True), ("probs", (5, C), True)]),
    ("cross_entropy", "CrossEntropyLoss", {"weight": W4, "label_smoothing": 0.25},
     [("x", (3, C, 2), True), ("probs", (3, C, 2), True)]),
    ("nll_loss", "NLLLoss", {}, [("logp", (5, C), True), ("cls", (5,), False)]),
    ("nll_loss", "NLLLoss", {"weight": W4, "ignore_index": 3}, [("logp", (8, C), True), ("cls", (8,), False)]),
    ("nll_loss", "NLLLoss", {"weight": W4}, [("logp", (2, C, 2, 3), True), ("cls", (2, 2, 3), False)]),
    ("nll_loss", "NLLLoss", {}, [("logp", (C,), True), ("cls", (), False)]),
    ("kl_div", "KLDivLoss", {"reduction": "batchmean"}, [("logp", (3, 4), True), ("probs", (3, 4), True)]),
    ("kl_div", "KLDivLoss", {"reduction": "batchmean", "log_target": True},
     [("logp", (3, 4), True), ("logp", (3, 4), True)]),
    ("poisson_nll_loss", "PoissonNLLLoss", {}, [("x", (3, 4), True), ("count", (3, 4), True)]),
    ("poisson_nll_loss", "PoissonNLLLoss", {"log_input": False, "full": True, "eps": 1e-4},
     [("pos", (3, 4), True), ("count", (3, 4), False)]),  # NOTE: torch's target grad is nan at 0 here
    ("gaussian_nll_loss", "GaussianNLLLoss", {}, [("x", (3, 4), True), ("x", (3, 4), True), ("pos", (3, 4), True)]),
    ("gaussian_nll_loss", "GaussianNLLLoss", {"full": True, "eps": 0.5},
     [("x", (3, 4), True), ("x", (3, 4), True), ("pos", (3,), True)]),
    ("gaussian_nll_loss", "GaussianNLLLoss", {}, [("x", (3, 4), True), ("x", (3, 4), True), ("pos", (3, 1), True)]),
    ("margin_ranking_loss", "MarginRankingLoss", {"margin": 0.3},
     [("x", (6,), True), ("x", (6,), True), ("sign", (6,), True)]),
    ("hinge_embedding_loss", "HingeEmbeddingLoss", {"margin": 0.5}, [("x", (3, 4), True), ("sign", (3, 4), False)]),
    ("soft_margin_loss", "SoftMarginLoss", {}, [("x", (3, 4), True), ("sign", (3, 4), False)]),
    ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", {}, [("x", (3, 4), True), ("bin", (3, 4), True)]),
    ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", {"weight": W4},
     [("x", (3, 4), True), ("bin", (3, 4), True)]),
    ("multi_margin_loss", "MultiMarginLoss", {}, [("x", (5, C), True), ("cls", (5,), False)]),
    ("multi_margin_loss", "MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": W4},
     [("x", (5, C), True), ("cls", (5,), False)]),
    ("multi_margin_loss", "MultiMarginLoss", {}, [("x", (C,), True), ("cls", (), False)]),
    ("cosine_embedding_loss", "CosineEmbeddingLoss", {"margin": 0.2},
     [("x", (5, 3), True), ("x", (5, 3), True), ("sign", (5,), False)]),
    ("triplet_margin_loss", "TripletMarginLoss", {}, [("x", (5, 3), True)] * 3),
    ("triplet_margin_loss", "TripletMarginLoss", {"p": 1.0, "swap": True, "margin": 0.5, "eps": 1e-3},
     [("x", (5, 3), True)] * 3),
]


def _case_id(case):
    f, _, kw, specs = case
    return f + "".join(f"-{k}" for k in kw) + "-" + "x".join(map(str, specs[0][1]))


def _run_both(case, dtype, reduction, use_module, seed=0):
    fname, mname, kw, specs = case
    rng = np.random.default_rng(seed)
    arrays = [_draw(kind, shape, rng, dtype) for kind, shape, _ in specs]
    if fname == "cross_entropy" and "ignore_index" in kw:
        arrays[1].reshape(-1)[:2] = kw["ignore_index"]  # make sure some targets are ignored
    grads = [g for _, _, g in specs]
    outs = []
    for lib, F in ((torch, TF), (ember, EF)):
        inputs = _make(lib, arrays, grads)
        kwargs = _kw(lib, kw, dtype)
        if reduction is not None:
            kwargs["reduction"] = reduction
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if use_module:
                y = getattr(lib.nn, mname)(**kwargs)(*inputs)
            else:
                y = getattr(F, fname)(*inputs, **kwargs)
        outs.append((inputs, y))
    return outs


def _compare(outs, dtype):
    (t_in, ty), (e_in, ey) = outs
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    assert_close(ey, ty, **tol)
    up = np.random.default_rng(5).standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.from_numpy(up))
    ey.backward(ember.from_numpy(up.copy()))
    for t, e in zip(t_in, e_in):
        if t.requires_grad:
            assert_close(e.grad, t.grad, **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_functional_losses_match_torch(case, reduction):
    for dtype in ("float32", "float64"):
        _compare(_run_both(case, dtype, reduction, use_module=False), dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c[1]], ids=_case_id)
def test_loss_modules_match_torch(case):
    _compare(_run_both(case, "float32", None, use_module=True, seed=1), "float32")


def test_batchmean_and_mean_of_kl_div():
    case = CASES[[c[0] for c in CASES].index("kl_div")]
    for reduction in ("batchmean", "mean", "sum", "none"):
        _compare(_run_both(case, "float64", reduction, use_module=False), "float64")


@pytest.mark.parametrize("name,kw,specs", [
    ("binary_cross_entropy", {}, [("p", (3, 4), True), ("p", (3, 4), True)]),
    ("binary_cross_entropy_with_logits", {"pos_weight": W4}, [("x", (3, 4), True), ("p", (3, 4), True)]),
    ("cross_entropy", {"weight": W4, "label_smoothing": 0.1}, [("x", (5, C), True), ("cls", (5,), False)]),
    ("cross_entropy", {}, [("x", (3, C), True), ("probs", (3, C), True)]),
    ("nll_loss", {"weight": W4}, [("x", (2, C, 3), True), ("cls", (2, 3), False)]),
    ("kl_div", {"reduction": "batchmean"}, [("logp", (3, 4), True), ("probs", (3, 4), True)]),
    ("smooth_l1_loss", {"beta": 0.5}, X34),
    ("huber_loss", {"delta": 0.5}, X34),
    ("poisson_nll_loss", {"full": True}, [("x", (3, 4), True), ("count", (3, 4), False)]),
    ("gaussian_nll_loss", {"full": True}, [("x", (3, 4), True), ("x", (3, 4), True), ("pos", (3, 4), True)]),
    ("multilabel_soft_margin_loss", {}, [("x", (3, 4), True), ("bin", (3, 4), False)]),
    ("multi_margin_loss", {"p": 2}, [("x", (5, C), True), ("cls", (5,), False)]),
    ("cosine_embedding_loss", {"margin": 0.1}, [("x", (5, 3), True), ("x", (5, 3), True), ("sign", (5,), False)]),
    ("triplet_margin_loss", {"swap": True}, [("x", (5, 3), True)] * 3),
    ("soft_margin_loss", {}, [("x", (3, 4), True), ("sign", (3, 4), False)]),
])
def test_gradcheck_float64(name, kw, specs):
    rng = np.random.default_rng(3)
    arrays = [_draw(kind, shape, rng, "float64") for kind, shape, _ in specs]
    inputs = _make(ember, arrays, [g for _, _, g in specs])
    diff = tuple(t for t in inputs if t.requires_grad)
    kwargs = _kw(ember, kw, "float64")

    def fn(*xs):
        it = iter(xs)
        args = [next(it) if t.requires_grad else t for t in inputs]
        return getattr(EF, name)(*args, **kwargs)
    assert ember.autograd.gradcheck(fn, diff, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_multilabel_margin_loss_matches_torch():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    y = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 2, 3]], dtype="int64")
    for reduction in ("none", "mean", "sum"):
        tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
        t = TF.multilabel_margin_loss(tx, torch.from_numpy(y), reduction=reduction)
        e = EF.multilabel_margin_loss(ex, ember.from_numpy(y), reduction=reduction)
        assert_close(e, t)
        t.sum().backward(), e.sum().backward()
        assert_close(ex.grad, tx.grad)
    t1 = torch.nn.MultiLabelMarginLoss(reduction="none")(torch.from_numpy(x[0]), torch.from_numpy(y[0]))
    e1 = ember.nn.MultiLabelMarginLoss(reduction="none")(ember.from_numpy(x[0]), ember.from_numpy(y[0]))
    assert_close(e1, t1)


def test_cross_entropy_weighted_mean_divides_by_target_weights():
    x = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    y = torch.tensor([0, 2])
    w = torch.tensor([1.0, 2.0, 10.0])
    t = TF.cross_entropy(x, y, weight=w)
    e = EF.cross_entropy(ember.tensor(x.numpy()), ember.tensor(y.numpy()), weight=ember.tensor(w.numpy()))
    assert_close(e, t)
    naive = (TF.cross_entropy(x, y, reduction="none") * w[y]).mean()
    assert abs(e.item() - naive.item()) > 1e-3  # the check can tell the two apart


def test_cross_entropy_all_ignored_is_nan_as_torch():
    x = torch.randn(3, C)
    y = torch.full((3,), -100)
    t = TF.cross_entropy(x, y)
    e = EF.cross_entropy(ember.tensor(x.numpy()), ember.tensor(y.numpy()))
    assert np.isnan(t.item()) and np.isnan(e.item())


def test_binary_cross_entropy_clamps_log_terms_and_gradient():
    x = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5])
    ex = ember.tensor(x.detach().numpy(), requires_grad=True)
    t = TF.binary_cross_entropy(x, y, reduction="none")
    e = EF.binary_cross_entropy(ex, ember.tensor(y.numpy()), reduction="none")
    assert e.tolist()[0] == 100.0
    assert_close(e, t)
    t.sum().backward(), e.sum().backward()
    assert_close(ex.grad, x.grad, rtol=1e-5, atol=1)  # the 1e-12 floor: huge but finite, as torch
    assert np.isfinite(ex.grad.numpy()).all()
    np.testing.assert_allclose(ex.grad.numpy(), x.grad.numpy(), rtol=1e-5)


def test_bce_with_logits_is_stable_for_large_logits():
    x = np.array([-200.0, -30.0, 0.0, 30.0, 200.0], dtype="float32")
    y = np.array([1.0, 0.0, 0.5, 1.0, 0.0], dtype="float32")
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    t = TF.binary_cross_entropy_with_logits(tx, torch.from_numpy(y), reduction="none")
    e = EF.binary_cross_entropy_with_logits(ex, ember.from_numpy(y), reduction="none")
    assert_close(e, t)
    t.sum().backward(), e.sum().backward()
    assert_close(ex.grad, tx.grad)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_mismatched_shapes_warn_and_broadcast_as_torch(name):
    x, y = np.ones((3, 4), dtype="float32"), np.arange(4, dtype="float32")
    with pytest.warns(UserWarning) as tw:
        t = getattr(TF, name)(torch.from_numpy(x), torch.from_numpy(y))
    with pytest.warns(UserWarning) as ew:
        e = getattr(EF, name)(ember.from_numpy(x), ember.from_numpy(y))
    assert_close(e, t)
    assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
    assert ew[0].filename == __file__
    raises_like(lambda: getattr(TF, name)(torch.ones(3, 4), torch.ones(5)),
                lambda: getattr(EF, name)(ember.ones(3, 4), ember.ones(5)))


def _warn_messages(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(m.message) for m in w]


@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (True, True), (False, True),
                                                 (True, False)])
def test_legacy_size_average_and_reduce(size_average, reduce):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    y = np.random.default_rng(1).standard_normal((3, 4)).astype("float32")
    for tname, kw in [("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {}), ("SoftMarginLoss", {}),
                      ("KLDivLoss", {})]:
        tm, tw = _warn_messages(lambda: getattr(torch.nn, tname)(size_average, reduce, **kw))
        em, ew = _warn_messages(lambda: getattr(ember.nn, tname)(size_average, reduce, **kw))
        assert em.reduction == tm.reduction and ew == tw
        assert_close(em(ember.from_numpy(x), ember.from_numpy(y)), tm(torch.from_numpy(x), torch.from_numpy(y)))
    t, tw = _warn_messages(lambda: TF.mse_loss(torch.from_numpy(x), torch.from_numpy(y), size_average, reduce))
    e, ew = _warn_messages(lambda: EF.mse_loss(ember.from_numpy(x), ember.from_numpy(y), size_average, reduce))
    assert_close(e, t)
    assert ew == tw
    lg = np.log(np.full((3, C), 0.25, dtype="float32"))
    cls = np.array([0, 3, 1])
    t, _ = _warn_messages(lambda: TF.nll_loss(torch.from_numpy(lg), torch.from_numpy(cls), None, size_average,
                                              reduce=reduce))
    e, _ = _warn_messages(lambda: EF.nll_loss(ember.from_numpy(lg), ember.from_numpy(cls), None, size_average,
                                              reduce=reduce))
    assert_close(e, t)


def test_kl_div_mean_warns_as_torch():
    a, b = np.full((2, 3), -1.0, dtype="float32"), np.full((2, 3), 0.3, dtype="float32")
    t, tw = _warn_messages(lambda: TF.kl_div(torch.from_numpy(a), torch.from_numpy(b)))
    e, ew = _warn_messages(lambda: EF.kl_div(ember.from_numpy(a), ember.from_numpy(b)))
    assert_close(e, t)
    assert ew == tw and len(ew) == 1
    _, ew = _warn_messages(lambda: EF.kl_div(ember.from_numpy(a), ember.from_numpy(b), reduction="batchmean"))
    assert ew == []
    zero = np.array([[0.0, 0.5, 0.5]], dtype="float32")  # zero targets contribute 0
    assert_close(EF.kl_div(ember.from_numpy(a[:1]), ember.from_numpy(zero), reduction="sum"),
                 TF.kl_div(torch.from_numpy(a[:1]), torch.from_numpy(zero), reduction="sum"))


def _lib_call(fn):
    return lambda lib: fn(lib, lib.nn.functional)


LOSS_ERRORS = [
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 3], dtype=lib.int32)),
    lambda lib, F: F.nll_loss(lib.randn(3, 4), lib.tensor([0, 1, 3], dtype=lib.int32)),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1])),
    lambda lib, F: F.nll_loss(lib.randn(3, 4), lib.tensor([0, 1])),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 5])),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, -5])),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 3]), weight=lib.ones(3)),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.tensor([0.0, 1.0, 3.0])),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.rand(3, 5)),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.zeros(3, 4, dtype=lib.int64)),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 3]), label_smoothing=1.5),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 3]), reduction="foo"),
    lambda lib, F: F.cross_entropy(lib.randn(3, 4, dtype=lib.float64), lib.tensor([0, 1, 3]), weight=lib.ones(4)),
    lambda lib, F: F.nll_loss(lib.randn(2, 3, 4), lib.zeros(2, 5, dtype=lib.int64)),
    lambda lib, F: F.nll_loss(lib.randn(2, 3, 4, 5), lib.zeros(2, 4, dtype=lib.int64)),
    lambda lib, F: F.nll_loss(lib.randn(2, 3, 4, 5), lib.zeros(2, 4, 6, dtype=lib.int64)),
    lambda lib, F: F.nll_loss(lib.tensor(1.0), lib.tensor(1)),
    lambda lib, F: F.mse_loss(lib.ones(3), lib.ones(3), reduction="foo"),
    lambda lib, F: F.smooth_l1_loss(lib.ones(3), lib.ones(3), beta=-1),
    lambda lib, F: F.huber_loss(lib.ones(3), lib.ones(3), delta=-1),
    lambda lib, F: F.mse_loss(lib.ones(3), lib.ones(3), weight=lib.ones(2)),
    lambda lib, F: F.binary_cross_entropy(lib.rand(3), lib.rand(3, 1)),
    lambda lib, F: F.binary_cross_entropy(lib.tensor([1.5]), lib.rand(1)),
    lambda lib, F: F.binary_cross_entropy(lib.tensor([-0.5]), lib.rand(1)),
    lambda lib, F: F.binary_cross_entropy(lib.tensor([0.5]), lib.tensor([1.5])),
    lambda lib, F: F.binary_cross_entropy(lib.tensor([0.5]), lib.tensor([1])),
    lambda lib, F: F.binary_cross_entropy_with_logits(lib.rand(3), lib.rand(3, 1)),
    lambda lib, F: F.binary_cross_entropy(lib.rand(3, 2), lib.rand(3, 2), weight=lib.rand(3)),
    lambda lib, F: F.multi_margin_loss(lib.randn(3, 4), lib.tensor([0, 1, 3]), p=3),
    lambda lib, F: F.multi_margin_loss(lib.randn(3, 4), lib.tensor([0, 1, 5])),
    lambda lib, F: F.margin_ranking_loss(lib.randn(3), lib.randn(3), lib.randn(3, 1)),
    lambda lib, F: F.triplet_margin_loss(lib.randn(3, 4), lib.randn(3, 4), lib.randn(4)),
    lambda lib, F: F.triplet_margin_loss(lib.randn(3, 4), lib.randn(3, 4), lib.randn(3, 4), margin=0.0),
    lambda lib, F: F.gaussian_nll_loss(lib.ones(3, 4), lib.ones(3, 4), lib.ones(3, 2)),
    lambda lib, F: F.gaussian_nll_loss(lib.ones(3, 4), lib.ones(3, 4), -lib.ones(3, 4)),
    lambda lib, F: F.gaussian_nll_loss(lib.ones(3, 4), lib.ones(3, 4), lib.ones(3, 4), reduction="foo"),
    lambda lib, F: F.poisson_nll_loss(lib.ones(3), lib.ones(3), reduction="foo"),
    lambda lib, F: F.multilabel_margin_loss(lib.randn(3, 4), lib.zeros(3, 4)),
    lambda lib, F: F.kl_div(lib.ones(3), lib.ones(3), reduction="foo"),
    lambda lib, F: F.cross_entropy(lib.ones(3, 4), lib.full((3, 4), 0.25), ignore_index=0),
    lambda lib, F: F.nll_loss(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(1, 3)),
    lambda lib, F: F.cosine_embedding_loss(lib.ones(3, 4), lib.ones(3, 4), lib.ones(3, 1)),
    lambda lib, F: F.cosine_embedding_loss(lib.ones(3, 4, 2), lib.ones(3, 4, 2), lib.ones(3)),
    lambda lib, F: F.cosine_embedding_loss(lib.ones(3, 4), lib.ones(3, 4), lib.tensor(1.0)),
    lambda lib, F: F.multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1, 1])),
    lambda lib, F: F.multi_margin_loss(lib.ones(2, 3, 4), lib.tensor([0, 1])),
    lambda lib, F: F.multilabel_margin_loss(lib.ones(2, 3), lib.zeros(2, 4, dtype=lib.int64)),
    lambda lib, F: F.multilabel_margin_loss(lib.ones(3), lib.zeros(2, dtype=lib.int64)),
    lambda lib, F: F.multilabel_margin_loss(lib.ones(2, 3), lib.tensor([[0, 5, -1], [0, 1, 2]])),
    lambda lib, F: F.multilabel_margin_loss(lib.ones(2, 3, 1), lib.zeros(2, 3, 1, dtype=lib.int64)),
    lambda lib, F: F.l1_loss(lib.ones(2, 3), lib.ones(2, 3), weight=lib.ones(2, 3), reduction="foo"),
    lambda lib, F: F.huber_loss(lib.ones(2, 3), lib.ones(2, 3), reduction="foo"),
    lambda lib, F: lib.nn.MSELoss(reduction="foo")(lib.ones(2), lib.ones(2)),
    lambda lib, F: lib.nn.MultiMarginLoss(p=3),
    lambda lib, F: lib.nn.MultiMarginLoss(weight=lib.ones(2, 2)),
    lambda lib, F: lib.nn.TripletMarginLoss(margin=-1.0),
]


@pytest.mark.parametrize("call", LOSS_ERRORS)
def test_loss_errors_match_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like(lambda: call(torch, torch.nn.functional), lambda: call(ember, ember.nn.functional))


LOSS_MODULES = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
                "CrossEntropyLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "MarginRankingLoss",
                "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss",
                "MultiMarginLoss", "CosineEmbeddingLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss"]


@pytest.mark.parametrize("name", LOSS_MODULES)
def test_loss_module_repr_attributes_and_state(name):
    tm, em = getattr(torch.nn, name)(), getattr(ember.nn, name)()
    assert repr(em) == repr(tm)
    assert em.reduction == tm.reduction
    public = {k: v for k, v in vars(tm).items() if not k.startswith("_") and k != "training"}
    assert {k: getattr(em, k) for k in public} == public
    assert list(em.state_dict()) == list(tm.state_dict())


def test_weighted_losses_keep_weights_as_buffers():
    tm = torch.nn.CrossEntropyLoss(weight=torch.ones(3))
    em = ember.nn.CrossEntropyLoss(weight=ember.ones(3))
    assert list(em.state_dict()) == list(tm.state_dict()) == ["weight"]
    tb = torch.nn.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.ones(3))
    eb = ember.nn.BCEWithLogitsLoss(weight=ember.ones(3), pos_weight=ember.ones(3))
    assert list(eb.state_dict()) == list(tb.state_dict())
    assert [n for n, _ in eb.named_buffers()] == [n for n, _ in tb.named_buffers()]
    assert list(eb.parameters()) == []


def test_unbatched_cross_entropy_shapes_match_torch():
    for reduction in ("none", "mean", "sum"):
        t = TF.cross_entropy(torch.ones(C), torch.tensor(2), reduction=reduction)
        e = EF.cross_entropy(ember.ones(C), ember.tensor(2), reduction=reduction)
        assert_close(e, t)
        t = TF.nll_loss(torch.ones(C), torch.tensor([1]), reduction=reduction)
        e = EF.nll_loss(ember.ones(C), ember.tensor([1]), reduction=reduction)
        assert_close(e, t)


def test_triplet_margin_with_distance_loss_matches_torch():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((5, 3)).astype("float32") for _ in range(3)]

    def cos_dist(lib):
        return lambda a, b: 1 - lib.nn.functional.cosine_similarity(a, b)
    for kw in [{}, {"swap": True, "margin": 0.5}, {"reduction": "none"}, {"distance": True, "reduction": "sum"}]:
        outs = []
        for lib in (torch, ember):
            xs = [lib.tensor(a, requires_grad=True) for a in arrays]
            kwargs = dict(kw)
            if kwargs.pop("distance", False):
                kwargs["distance_function"] = cos_dist(lib)
            y = lib.nn.TripletMarginWithDistanceLoss(**kwargs)(*xs)
            y.sum().backward()
            outs.append((y, xs))
        assert_close(outs[1][0], outs[0][0])
        for e, t in zip(outs[1][1], outs[0][1]):
            assert_close(e.grad, t.grad)
    assert repr(ember.nn.TripletMarginWithDistanceLoss()) == repr(torch.nn.TripletMarginWithDistanceLoss())
    raises_like(lambda: torch.nn.TripletMarginWithDistanceLoss(margin=0.0),
                lambda: ember.nn.TripletMarginWithDistanceLoss(margin=0.0))
    raises_like(lambda: TF.triplet_margin_with_distance_loss(torch.ones(2, 3), torch.ones(2, 3), torch.ones(3)),
                lambda: EF.triplet_margin_with_distance_loss(ember.ones(2, 3), ember.ones(2, 3), ember.ones(3)))


@pytest.mark.parametrize("name", ["weight", "pos_weight"])
def test_bce_with_logits_refuses_a_weight_that_requires_grad(name):
    """PyTorch's binary_cross_entropy_with_logits is not differentiable in weight or pos_weight."""
    messages = []
    for lib in (torch, ember):
        kw = {name: lib.ones(2, requires_grad=True)}
        with pytest.raises(RuntimeError) as info:
            lib.nn.functional.binary_cross_entropy_with_logits(lib.zeros(2, requires_grad=True), lib.zeros(2), **kw)
        messages.append(str(info.value))
        with lib.no_grad():  # NOTE: without grad mode nothing is refused
            lib.nn.functional.binary_cross_entropy_with_logits(lib.zeros(2), lib.zeros(2), **kw)
    assert messages[1] == messages[0]


def test_bce_with_logits_gradient_is_sigmoid_minus_target():
    """Far in the tails the gradient sigmoid(x) - t must not cancel (PyTorch computes it as such)."""
    x = [-30.0, -12.0, 12.0, 30.0]
    grads = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.binary_cross_entropy_with_logits(xt, lib.tensor([0.0, 0.0, 1.0, 1.0]), reduction="sum")
        grads.append(lib.autograd.grad(loss, xt)[0].tolist())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=0)
