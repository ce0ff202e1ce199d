"""torch.nn.functional utilities against PyTorch: one_hot, normalize, cosine_similarity, pairwise_distance,
pad (constant, reflect, replicate, circular; negative padding crops) and the dropout family (+ modules)."""
import warnings

import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, raises_like, to_ember

TF, EF = torch.nn.functional, ember.nn.functional


def _pair(shape, dtype="float32", seed=0):
    x = np.asarray(np.random.default_rng(seed).standard_normal(shape)).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    return tx, to_ember(tx)


def _check(call, *shapes, dtype="float32", rtol=1e-5, atol=1e-6):
    """call(F, *inputs) gives the same values and input gradients in both libraries."""
    pairs = [_pair(s, dtype, seed=i) for i, s in enumerate(shapes)]
    ty = call(TF, *[p[0] for p in pairs])
    ey = call(EF, *[p[1] for p in pairs])
    assert_close(ey, ty, rtol=rtol, atol=atol)
    up = np.random.default_rng(9).standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.from_numpy(up))
    ey.backward(ember.from_numpy(up.copy()))
    for tx, ex in pairs:
        assert_close(ex.grad, tx.grad, rtol=rtol, atol=atol)


# --- one_hot --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("values,num_classes", [([0, 2, 1], -1), ([0, 2, 1], 5), ([[1, 0], [3, 3]], -1), (2, 4),
                                                ([], 3)])
def test_one_hot_matches_torch(values, num_classes):
    t = TF.one_hot(torch.tensor(values, dtype=torch.int64), num_classes)
    e = EF.one_hot(ember.tensor(values, dtype=ember.int64), num_classes)
    assert e.dtype == ember.int64
    assert_close(e, t)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 3]), 2),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([0, -1])),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([0.0, 1.0])),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 1], dtype=lib.int32)),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([], dtype=lib.int64)),
])
def test_one_hot_errors_match_torch(call):
    raises_like(lambda: call(torch), lambda: call(ember))


# --- normalize, cosine_similarity, pairwise_distance -----------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("call,shapes", [
    (lambda F, x: F.normalize(x), [(4, 3)]),
    (lambda F, x: F.normalize(x, p=1.0, dim=0), [(4, 3)]),
    (lambda F, x: F.normalize(x, p=3, dim=-1, eps=0.5), [(2, 3, 4)]),
    (lambda F, x, y: F.cosine_similarity(x, y), [(4, 3), (4, 3)]),
    (lambda F, x, y: F.cosine_similarity(x, y, dim=0, eps=1e-3), [(4, 3), (4, 1)]),
    (lambda F, x, y: F.cosine_similarity(x, y, dim=-1), [(2, 3, 5), (5,)]),
    (lambda F, x, y: F.pairwise_distance(x, y), [(4, 3), (4, 3)]),
    (lambda F, x, y: F.pairwise_distance(x, y, p=1.0, keepdim=True), [(4, 3), (3,)]),
    (lambda F, x, y: F.pairwise_distance(x, y, p=3.0, eps=1e-3), [(2, 4, 3), (2, 4, 3)]),
])
def test_distances_match_torch(call, shapes, dtype):
    _check(call, *shapes, dtype=dtype, rtol=1e-5 if dtype == "float32" else 1e-10)


def test_distances_of_zero_vectors_are_finite():
    z = np.zeros((2, 3), dtype="float32")
    assert_close(EF.normalize(ember.from_numpy(z)), TF.normalize(torch.from_numpy(z)))
    assert_close(EF.cosine_similarity(ember.from_numpy(z), ember.from_numpy(z)),
                 TF.cosine_similarity(torch.from_numpy(z), torch.from_numpy(z)))


def test_cosine_similarity_shape_error_matches_torch():
    raises_like(lambda: TF.cosine_similarity(torch.ones(2, 3), torch.ones(4)),
                lambda: EF.cosine_similarity(ember.ones(2, 3), ember.ones(4)))


# --- pad --------------------------------------------------------------------------------------------------
PADS = [
    ("constant", (2, 3), (1, 2)), ("constant", (2, 3, 4), (1, 0, 2, 1, 0, 1)), ("constant", (2, 3), (-1, 1)),
    ("constant", (2, 3, 4), (-1, -1, 2, -1)), ("constant", (3,), (0, 0)),
    ("reflect", (2, 5), (2, 3)), ("reflect", (1, 2, 5), (4, 1)), ("reflect", (1, 2, 3, 4), (1, 3, 2, 2)),
    ("reflect", (1, 2, 3, 4, 3), (1, 2, 2, 0, 1, 1)), ("replicate", (2, 3), (4, 1)),
    ("replicate", (1, 2, 3, 4), (1, 3, 5, 0)), ("replicate", (2, 2, 3, 4, 2), (1, 1, 2, 0, 3, 1)),
    ("circular", (1, 2, 5), (2, 3)), ("circular", (1, 2, 3, 4), (1, 3, 3, 2)),
    ("circular", (1, 2, 3, 4, 2), (1, 0, 2, 1, 0, 2)),
]


@pytest.mark.parametrize("mode,shape,padding", PADS)
def test_pad_matches_torch(mode, shape, padding):
    _check(lambda F, x: F.pad(x, padding, mode=mode), shape)


def test_pad_value_and_integer_tensors():
    _check(lambda F, x: F.pad(x, (1, 1, 1, 0), value=-2.5), (2, 3))
    t = TF.pad(torch.arange(6).reshape(2, 3), (1, 2), value=7)
    e = EF.pad(ember.arange(6).reshape(2, 3), (1, 2), value=7)
    assert_close(e, t)
    assert_close(EF.pad(ember.ones(2, 3), [1, 1]), TF.pad(torch.ones(2, 3), [1, 1]))


@pytest.mark.parametrize("call", [
    lambda F, x: F.pad(x, (1, 1, 1)),
    lambda F, x: F.pad(x, (1,) * 8),
    lambda F, x: F.pad(x, (1, 1), mode="foo"),
    lambda F, x: F.pad(x, (3, 3), mode="reflect"),
    lambda F, x: F.pad(x, (1, 1, 3, 3), mode="reflect"),
    lambda F, x: F.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate"),
    lambda F, x: F.pad(x[0, 0], (1, 1), mode="replicate"),
    lambda F, x: F.pad(x, (4, 1), mode="circular"),
    lambda F, x: F.pad(x, (-4, 1)),
    lambda F, x: F.pad(x, (1, 1), mode="reflect", value=2.0),
])
def test_pad_errors_match_torch(call):
    x = np.zeros((1, 2, 3), dtype="float32")
    raises_like(lambda: call(TF, torch.from_numpy(x)), lambda: call(EF, ember.from_numpy(x)))


# --- dropout ------------------------------------------------------------------------------------------------
def test_dropout_keeps_or_scales_and_its_gradient_follows_the_mask():
    ember.manual_seed(0)
    x = ember.ones(200, 50, requires_grad=True)
    y = EF.dropout(x, 0.3)
    vals = y.detach().numpy()
    kept = vals != 0
    np.testing.assert_allclose(vals[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7, rtol=1e-6)


def test_dropout_identity_cases_return_the_input_as_torch():
    for lib in (torch, ember):
        x = lib.ones(3)
        F = lib.nn.functional
        assert F.dropout(x, 0.5, training=False) is x
        assert F.dropout(x, 0.0) is x
        assert F.alpha_dropout(x, 0.5) is x  # training defaults to False here
        assert lib.nn.Dropout(0.3).eval()(x) is x
    for lib in (torch, ember):
        out = lib.nn.functional.dropout(lib.ones(4, requires_grad=True), 1.0)
        assert out.tolist() == [0.0] * 4 and out.requires_grad


def test_dropout_module_train_eval_and_inplace():
    m = ember.nn.Dropout(0.5)
    x = ember.ones(1000)
    vals = set(np.unique(m(x).numpy()).tolist())
    assert vals == {0.0, 2.0}
    m.eval()
    assert m(x) is x
    mi = ember.nn.Dropout(0.5, inplace=True)
    y = ember.ones(1000)
    assert mi(y) is y and set(np.unique(y.numpy()).tolist()) == {0.0, 2.0}


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_errors_match_torch(p):
    for name in ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"]:
        raises_like(lambda: getattr(TF, name)(torch.ones(2, 3, 4), p, True),
                    lambda: getattr(EF, name)(ember.ones(2, 3, 4), p, True))
    for name in ["Dropout", "AlphaDropout", "Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"]:
        raises_like(lambda: getattr(torch.nn, name)(p), lambda: getattr(ember.nn, name)(p))


def test_alpha_dropout_keeps_mean_and_variance():
    ember.manual_seed(1)
    x = ember.randn(400, 500)
    y = EF.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    # the dropped value is the same constant as torch's
    t_vals = np.unique(TF.alpha_dropout(torch.zeros(2000), 0.3, True).numpy())
    e_vals = np.unique(EF.alpha_dropout(ember.zeros(2000), 0.3, True).numpy())
    np.testing.assert_allclose(e_vals, t_vals, rtol=1e-6)
    assert EF.alpha_dropout(ember.ones(4), 1.0, True).tolist() == [0.0] * 4


@pytest.mark.parametrize("name,shape", [("dropout1d", (4, 6, 3)), ("dropout1d", (6, 3)), ("dropout2d", (4, 6, 3, 2)),
                                        ("dropout2d", (4, 6, 3)), ("dropout3d", (4, 6, 2, 2, 2)),
                                        ("dropout3d", (6, 2, 2, 2)), ("feature_alpha_dropout", (4, 6, 3))])
def test_channel_dropout_drops_whole_channels(name, shape):
    ember.manual_seed(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(EF, name)(ember.ones(*shape), 0.5, True).numpy()
    batched = {"dropout1d": 3, "dropout2d": 3, "dropout3d": 5, "feature_alpha_dropout": 3}[name]
    rows = y.reshape(shape[0] * shape[1], -1) if len(shape) >= batched else y.reshape(shape[0], -1)
    assert all(len(np.unique(r)) == 1 for r in rows)  # each channel kept or dropped as a whole
    assert len(np.unique(rows[:, 0])) == 2


@pytest.mark.parametrize("call", [
    lambda F, x: F.dropout2d(x[0, 0, 0]),
    lambda F, x: F.dropout1d(x),
    lambda F, x: F.feature_alpha_dropout(x[0, 0, 0], 0.5, True),
])
def test_channel_dropout_errors_match_torch(call):
    x = np.ones((2, 3, 4, 5), dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like(lambda: call(TF, torch.from_numpy(x)), lambda: call(EF, ember.from_numpy(x)))


@pytest.mark.parametrize("name,shape", [("dropout2d", (3,)), ("dropout2d", (2, 3, 4)), ("dropout2d", (2, 3, 4, 5, 6)),
                                        ("dropout3d", (2, 3, 4))])
def test_channel_dropout_warnings_match_torch(name, shape):
    def messages(F, lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                getattr(F, name)(lib.ones(*shape))
            except RuntimeError:
                pass
        return [str(m.message) for m in w]
    assert messages(EF, ember) == messages(TF, torch)


def test_dropout_reprs_match_torch():
    for name in ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]:
        assert repr(getattr(ember.nn, name)()) == repr(getattr(torch.nn, name)())
        assert repr(getattr(ember.nn, name)(0.2, True)) == repr(getattr(torch.nn, name)(0.2, True))


def test_torch_namespace_and_tensor_bindings():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    tx, ex = torch.from_numpy(x), ember.from_numpy(x)
    assert_close(ember.softmax(ex, 1), torch.softmax(tx, 1))
    assert_close(ember.log_softmax(ex, 0, dtype=ember.float64), torch.log_softmax(tx, 0, dtype=torch.float64))
    assert_close(ex.softmax(-1), tx.softmax(-1))
    assert_close(ex.log_softmax(1), tx.log_softmax(1))
    assert_close(ex.hardshrink(0.3), tx.hardshrink(0.3))
    assert_close(ember.selu(ex), torch.selu(tx))
    assert_close(ember.celu(ex, 2.0), torch.celu(tx, 2.0))
    assert_close(ember.threshold(ex, 0.1, 5.0), torch.threshold(tx, 0.1, 5.0))
    assert_close(ember.prelu(ex, ember.tensor([0.2])), torch.prelu(tx, torch.tensor([0.2])))
    assert_close(ember.pairwise_distance(ex, ex[0]), torch.pairwise_distance(tx, tx[0]))
    assert_close(ember.cosine_similarity(ex, ex[0]), torch.cosine_similarity(tx, tx[0]))
    assert ember.dropout(ex, 0.5, False) is ex and torch.dropout(tx, 0.5, False) is tx
    with pytest.raises(TypeError):
        ember.softmax(ex)


def test_distance_modules_match_torch():
    for name, kw in [("PairwiseDistance", {}), ("PairwiseDistance", {"p": 1.0, "eps": 1e-3, "keepdim": True}),
                     ("CosineSimilarity", {}), ("CosineSimilarity", {"dim": 0, "eps": 1e-4})]:
        tm, em = getattr(torch.nn, name)(**kw), getattr(ember.nn, name)(**kw)
        assert repr(em) == repr(tm)
        _check(lambda F, a, b: (tm if F is TF else em)(a, b), (4, 3), (4, 3))


def test_gumbel_softmax_samples_and_straight_through_gradient():
    ember.manual_seed(3)
    logits = ember.tensor([[2.0, 0.0, -2.0]] * 4000, requires_grad=True)
    soft = EF.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), 1.0, rtol=1e-5)
    hard = EF.gumbel_softmax(logits, hard=True)
    vals = hard.detach().numpy()
    assert set(np.unique(vals).tolist()) == {0.0, 1.0} and (vals.sum(-1) == 1).all()
    freq = vals.mean(0)
    expected = np.exp([2.0, 0.0, -2.0]) / np.exp([2.0, 0.0, -2.0]).sum()  # Gumbel-max samples the softmax
    np.testing.assert_allclose(freq, expected, atol=0.03)
    (hard * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        EF.gumbel_softmax(ember.ones(2, 3), eps=0.1)


@pytest.mark.parametrize("call", [
    lambda t: t.ones(2).softmax(None), lambda t: t.softmax(t.ones(2), None), lambda t: t.ones(2).log_softmax(0.5),
    lambda t: t.log_softmax(t.ones(2), True), lambda t: t.ones(2).softmax(t.tensor(0)),
], ids=["method-None", "torch-None", "method-float", "torch-bool", "int-tensor-dim"])
def test_torch_softmax_requires_an_int_dim(call):
    """torch.softmax and Tensor.softmax have no implicit dim (F.softmax has, with a warning)."""
    outcomes = []
    for lib in (torch, ember):
        try:
            outcomes.append(call(lib).tolist())
        except TypeError as e:
            outcomes.append(str(e))
    assert outcomes[1] == outcomes[0]


# === dispatch helpers (torch.overrides' protocol, for library code that calls them) =============

class _Wrapped:
    """A non-tensor type with __torch_function__, as library code defines them."""
    def __init__(self, value):
        self.value = value

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return ("handled", func.__name__, len(args))


def test_has_torch_function_sees_overrides_only():
    import torch
    F = ember.nn.functional
    t, w = ember.ones(2), _Wrapped(1)
    for lib, tensor in ((torch.nn.functional, torch.ones(2)), (F, t)):
        assert not lib.has_torch_function((tensor, 3)) and lib.has_torch_function((tensor, w))
        assert lib.has_torch_function_unary(w) and not lib.has_torch_function_unary(tensor)
        assert lib.has_torch_function_variadic(tensor, w) and not lib.has_torch_function_variadic(tensor, 1.0)


def test_handle_torch_function_calls_the_override():
    import torch

    def op(a, b):
        return a
    w = _Wrapped(1)
    assert ember.nn.functional.handle_torch_function(op, (w,), w, 2) == \
        torch.nn.functional.handle_torch_function(op, (w,), w, 2) == ("handled", "op", 2)


def test_boolean_dispatch_and_assert_int_or_pair():
    import torch
    for F in (torch.nn.functional, ember.nn.functional):
        def yes(x, flag=False):
            """doc"""
            return "yes"

        def no(x, flag=False):
            return "no"
        fn = F.boolean_dispatch("flag", 1, False, yes, no, None, "pick")
        assert (fn(1), fn(1, True), fn(1, flag=True), fn.__name__, fn.__doc__) == ("no", "yes", "yes", "pick", "doc")
        F.assert_int_or_pair(3, "k", "{} bad")
        F.assert_int_or_pair((1, 2), "k", "{} bad")
        with pytest.raises(AssertionError, match="k bad"):
            F.assert_int_or_pair((1, 2, 3), "k", "{} bad")


@pytest.mark.parametrize("name,extra", [
    ("conv2d", lambda lib: (lib.ones(1, 1, 1, 1),)), ("unfold", lambda lib: (3,)), ("pixel_shuffle", lambda lib: (2,)),
    ("max_pool2d", lambda lib: (2,)), ("interpolate", lambda lib: ()), ("grid_sample", lambda lib: (lib.ones(1, 2, 2, 2),)),
    ("batch_norm", lambda lib: (None, None)), ("layer_norm", lambda lib: ((3,),)), ("rms_norm", lambda lib: ((3,),)),
    ("pdist", lambda lib: ()), ("ctc_loss", lambda lib: (lib.ones(1, 1, dtype=lib.long), (1,), (1,))),
])
@pytest.mark.parametrize("bad", [None, "x", [1.0, 2.0]])
def test_layer_functions_refuse_a_non_tensor_input_with_a_type_error(name, extra, bad):
    """A non-tensor where a tensor goes: TypeError naming the function and argument, as PyTorch, never an
    AttributeError from inside the layer's code. (PyTorch's own interpolate leaks AttributeError.)"""
    with pytest.raises(AttributeError if name == "interpolate" else TypeError):
        getattr(torch.nn.functional, name)(bad, *extra(torch))
    with pytest.raises(TypeError, match=rf"{name}\(\): argument '\w+' \(position 1\) must be Tensor"):
        getattr(ember.nn.functional, name)(bad, *extra(ember))
