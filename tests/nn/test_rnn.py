"""nn.RNN / LSTM / GRU against PyTorch: outputs, final states and every gradient, with torch's weights."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.nn._nn_helpers import assert_close, copy_weights, raises_like, to_ember

TOL = dict(rtol=1e-5, atol=2e-6)


def _pair(name, dtype=None, **kw):
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(**kw, dtype=dtype and getattr(torch, dtype))
    em = getattr(ember.nn, name)(**kw, dtype=dtype and getattr(ember, dtype))
    copy_weights(tm, em)
    return tm, em


def _states(h):
    return h if isinstance(h, tuple) else (h,)


def _initial(name, kw, batch, unbatched=False):
    """Random h0 (and c0) of the right shape as (torch, ember) pairs that require grad."""
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    size = kw.get("proj_size", 0) or kw["hidden_size"]
    shapes = [(layers, size)] if unbatched else [(layers, batch, size)]
    if name == "LSTM":
        shapes.append(shapes[0][:-1] + (kw["hidden_size"],))
    ts = [torch.randn(*s, requires_grad=True) for s in shapes]
    es = [to_ember(t) for t in ts]
    return (tuple(ts), tuple(es)) if name == "LSTM" else (ts[0], es[0])


def _compare(tm, em, x, hx=None, tol=TOL):
    """Forward both, compare output and states, backward a weighted loss, compare every gradient."""
    ex = to_ember(x)
    ehx = None if hx is None else hx[1]
    to, th = tm(x) if hx is None else tm(x, hx[0])
    eo, eh = em(ex) if hx is None else em(ex, ehx)
    assert_close(eo, to, **tol)
    for e, t in zip(_states(eh), _states(th), strict=True):
        assert_close(e, t, **tol)
    weights = torch.randn(to.shape)
    (to * weights).sum().add(sum((h * h).sum() for h in _states(th))).backward()
    (eo * to_ember(weights)).sum().add(sum((h * h).sum() for h in _states(eh))).backward()
    assert_close(ex.grad, x.grad, **tol)
    if hx is not None:
        for e, t in zip(_states(ehx), _states(hx[0]), strict=True):
            assert_close(e.grad, t.grad, **tol)
    for (tn, tp), (en, ep) in zip(tm.named_parameters(), em.named_parameters(), strict=True):
        assert tn == en
        assert_close(ep.grad, tp.grad, **tol)


CONFIGS = [
    dict(input_size=3, hidden_size=4),
    dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True),
    dict(input_size=3, hidden_size=5, batch_first=True, bias=False, num_layers=2),
]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
@pytest.mark.parametrize("with_hx", [False, True])
def test_layers_match_torch(name, cfg, with_hx):
    kw = CONFIGS[cfg]
    tm, em = _pair(name, **kw)
    assert list(em.state_dict()) == list(tm.state_dict())
    x = torch.randn(2, 5, 3, requires_grad=True) if kw.get("batch_first") else torch.randn(5, 2, 3, requires_grad=True)
    hx = _initial(name, kw, 2) if with_hx else None
    _compare(tm, em, x, hx)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(name):
    kw = dict(input_size=3, hidden_size=4, num_layers=2)
    tm, em = _pair(name, **kw)
    _compare(tm, em, torch.randn(6, 3, requires_grad=True), _initial(name, kw, None, unbatched=True))
    tm.zero_grad()
    em.zero_grad()
    _compare(tm, em, torch.randn(6, 3, requires_grad=True))


def test_relu_rnn_and_lstm_projection():
    tm, em = _pair("RNN", input_size=3, hidden_size=4, nonlinearity="relu", num_layers=2, bidirectional=True)
    _compare(tm, em, torch.randn(5, 2, 3, requires_grad=True))
    kw = dict(input_size=3, hidden_size=5, proj_size=2, num_layers=2, bidirectional=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported with oneDNN"
        tm, em = _pair("LSTM", **kw)
        assert [tuple(p.shape) for p in em.parameters()] == [tuple(p.shape) for p in tm.parameters()]
        _compare(tm, em, torch.randn(5, 3, 3, requires_grad=True), _initial("LSTM", kw, 3))


def test_float64_and_long_sequence():
    tm, em = _pair("GRU", input_size=2, hidden_size=3, dtype="float64")
    assert em.weight_ih_l0.dtype == ember.float64
    _compare(tm, em, torch.randn(40, 2, 2, dtype=torch.float64, requires_grad=True), tol=dict(rtol=1e-10, atol=1e-12))


def test_parameters_names_shapes_and_init():
    tm = torch.nn.LSTM(3, 8, num_layers=2, bidirectional=True)
    em = ember.nn.LSTM(3, 8, num_layers=2, bidirectional=True)
    assert em._flat_weights_names == tm._flat_weights_names
    assert [[tuple(w.shape) for w in ws] for ws in em.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in tm.all_weights]
    assert [tuple(v.shape) for v in em.state_dict().values()] == [tuple(v.shape) for v in tm.state_dict().values()]
    bound = 1 / 8 ** 0.5
    for p in em.parameters():
        assert float(p.abs().max()) <= bound
    assert float(em.weight_hh_l1_reverse.abs().max()) > 0.8 * bound
    em.flatten_parameters()
    assert em._flat_weights[0] is em.weight_ih_l0
    # ember's state_dict loads into torch unchanged (strict: same keys and shapes)
    tm.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in em.state_dict().items()})
    assert_close(em.weight_ih_l1, tm.weight_ih_l1)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_repr(name):
    kw = dict(input_size=3, hidden_size=4, num_layers=2, bias=False, batch_first=True, dropout=0.5,
              bidirectional=True)
    if name == "LSTM":
        kw["proj_size"] = 2
    assert repr(getattr(ember.nn, name)(**kw)) == repr(getattr(torch.nn, name)(**kw))


def test_dropout_between_layers_train_only():
    em = ember.nn.GRU(3, 4, num_layers=3, dropout=0.5)
    x = ember.randn(5, 2, 3)
    em.eval()
    a, _ = em(x)
    b, _ = em(x)
    assert bool((a == b).all())
    em.train()
    ember.manual_seed(1)
    c, _ = em(x)
    ember.manual_seed(2)
    d, _ = em(x)
    assert not bool((c == d).all())
    em.dropout = 0.0
    e, _ = em(x)
    assert_close(e, a)


def test_dropout_warning_and_constructor_errors():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.LSTM(3, 4, dropout=0.5)
    for kwargs in (dict(proj_size=5), dict(proj_size=-1), dict(dropout=1.5), dict(bias=1), dict(num_layers=0),
                   dict(batch_first=None)):
        raises_like(lambda: torch.nn.LSTM(3, 4, **kwargs), lambda: ember.nn.LSTM(3, 4, **kwargs))
    raises_like(lambda: torch.nn.GRU(3, 4, proj_size=2), lambda: ember.nn.GRU(3, 4, proj_size=2))
    raises_like(lambda: torch.nn.RNN(3, 4, nonlinearity="gelu"), lambda: ember.nn.RNN(3, 4, nonlinearity="gelu"))
    raises_like(lambda: torch.nn.RNN(3, 0), lambda: ember.nn.RNN(3, 0))


FORWARD_ERRORS = {
    "input_size": lambda T: T.nn.LSTM(10, 20)(T.randn(5, 3, 7)),
    "hidden": lambda T: T.nn.GRU(10, 20)(T.randn(5, 3, 10), T.randn(2, 3, 20)),
    "hidden0": lambda T: T.nn.LSTM(10, 20)(T.randn(5, 3, 10), (T.randn(2, 3, 20), T.randn(1, 3, 20))),
    "hidden1": lambda T: T.nn.LSTM(10, 20)(T.randn(5, 3, 10), (T.randn(1, 3, 20), T.randn(1, 2, 20))),
    "rnn_4d": lambda T: T.nn.RNN(10, 20)(T.randn(5, 3, 10, 1)),
    "gru_4d": lambda T: T.nn.GRU(10, 20)(T.randn(5, 3, 10, 1)),
    "lstm_4d": lambda T: T.nn.LSTM(10, 20)(T.randn(5, 3, 10, 1)),
    "hx_2d": lambda T: T.nn.RNN(10, 20)(T.randn(5, 3, 10), T.randn(3, 20)),
    "unbatched_hx_3d": lambda T: T.nn.GRU(10, 20)(T.randn(5, 10), T.randn(1, 3, 20)),
    "lstm_hx_2d": lambda T: T.nn.LSTM(10, 20)(T.randn(5, 3, 10), (T.randn(3, 20), T.randn(3, 20))),
    "lstm_unbatched_hx_3d": lambda T: T.nn.LSTM(10, 20)(T.randn(5, 10), (T.randn(1, 3, 20), T.randn(1, 20))),
    "dtype": lambda T: T.nn.LSTM(10, 20)(T.randn(5, 3, 10, dtype=T.float64)),
    "empty_sequence": lambda T: T.nn.GRU(10, 20)(T.randn(0, 3, 10)),
}


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_empty_batch(name):
    tm, em = _pair(name, input_size=3, hidden_size=4, bidirectional=True)
    _compare(tm, em, torch.randn(5, 0, 3, requires_grad=True))


@pytest.mark.parametrize("case", list(FORWARD_ERRORS))
def test_forward_errors(case):
    raises_like(lambda: FORWARD_ERRORS[case](torch), lambda: FORWARD_ERRORS[case](ember))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_gradcheck_float64(name):
    ember.manual_seed(0)
    m = getattr(ember.nn, name)(2, 3, num_layers=2, bidirectional=True, dtype=ember.float64)
    x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)
    h = ember.randn(4, 2, 3, dtype=ember.float64, requires_grad=True)
    c = ember.randn(4, 2, 3, dtype=ember.float64, requires_grad=True)
    params = list(m.parameters())

    def run(x, h, c):
        out, hn = m(x, (h, c) if name == "LSTM" else h)
        return (out,) + tuple(_states(hn))

    inputs = (x, h, c) if name == "LSTM" else (x, h)
    fn = (lambda x, h, c: run(x, h, c)) if name == "LSTM" else (lambda x, h: run(x, h, None))
    assert ember.autograd.gradcheck(fn, inputs)
    # the parameters' gradients: the module's weights replaced by the checked inputs
    weights = tuple(p.detach().clone().requires_grad_(True) for p in params)

    def by_weights(*ws):
        for p_name, w in zip(m._flat_weights_names, ws):
            m._parameters[p_name] = w
        out, hn = m(x.detach(), h.detach() if name != "LSTM" else (h.detach(), c.detach()))
        return (out,) + tuple(_states(hn))

    assert ember.autograd.gradcheck(by_weights, weights)


def test_backward_is_once_differentiable():
    m = ember.nn.GRU(2, 3)
    x = ember.randn(4, 1, 2, requires_grad=True)
    out, _ = m(x)
    (g,) = ember.autograd.grad(out.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_float16_runs_in_float32_and_rounds_once(name):
    tm, em = _pair(name, input_size=3, hidden_size=4, dtype="float16")
    x = torch.randn(6, 2, 3, dtype=torch.float16, requires_grad=True)
    ex = to_ember(x)
    to, _ = tm(x)
    eo, _ = em(ex)
    assert_close(eo, to, rtol=2e-3, atol=1e-3)
    (to.float() ** 2).sum().backward()
    (eo.float() ** 2).sum().backward()
    assert ex.grad.dtype == ember.float16 and em.weight_hh_l0.grad.dtype == ember.float16
    assert_close(ex.grad, x.grad, rtol=5e-3, atol=2e-3)
    assert_close(em.weight_hh_l0.grad, tm.weight_hh_l0.grad, rtol=5e-3, atol=2e-3)


@pytest.mark.xfail(strict=True, raises=RuntimeError,
                   reason="ember's recurrence backward is first-order only (hand-written BPTT on arrays); PyTorch's "
                          "CPU RNNs support double backward")
def test_double_backward_matches_torch():
    tm, em = _pair("GRU", input_size=2, hidden_size=3, dtype="float64")
    x = torch.randn(4, 1, 2, dtype=torch.float64, requires_grad=True)
    ex = to_ember(x)
    (tg,) = torch.autograd.grad(tm(x)[0].sum(), x, create_graph=True)
    (eg,) = ember.autograd.grad(em(ex)[0].sum(), ex, create_graph=True)
    (tgg,) = torch.autograd.grad((tg ** 2).sum(), x)
    (egg,) = ember.autograd.grad((eg ** 2).sum(), ex)
    assert_close(egg, tgg)


@pytest.mark.parametrize("packed", [False, True])
def test_gru_backward_reusing_its_saved_gates_gives_the_same_gradients(packed):
    """With retain_graph=False the GRU writes its gate gradients over its saved activations; with
    retain_graph=True it must not (a second backward reads them): both give torch's gradients, twice."""
    torch.manual_seed(0)
    tm = torch.nn.GRU(3, 4, bidirectional=True)
    em = ember.nn.GRU(3, 4, bidirectional=True)
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    x = torch.randn(5, 2, 3)
    lengths = [5, 3]
    for retain in (True, False):
        grads = {}
        for lib, m in ((torch, tm), (ember, em)):
            m.zero_grad()
            xi = x if lib is torch else to_ember(x)
            if packed:
                xi = lib.nn.utils.rnn.pack_padded_sequence(xi, lengths)
            out, h = m(xi)
            data = out.data if packed else out
            loss = (data * data).sum() + h.sum()
            loss.backward(retain_graph=retain)
            if retain:
                loss.backward()  # the saved activations must still be intact
            grads[lib.__name__] = {k: p.grad.detach().numpy().copy() for k, p in m.named_parameters()}
        for k, g in grads["torch"].items():
            np.testing.assert_allclose(grads["ember"][k], g, rtol=1e-4, atol=1e-5, err_msg=f"{k} retain={retain}")
