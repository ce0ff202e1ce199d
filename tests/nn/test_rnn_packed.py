"""nn.utils.rnn (PackedSequence, pack/pad helpers) and recurrent layers on packed input, against PyTorch."""
import pytest
import torch
import torch.nn.utils.rnn as TR

import ember
import ember.nn.utils.rnn as ER
from tests.nn._nn_helpers import assert_close, copy_weights, raises_like, to_ember


def _states(h):
    return h if isinstance(h, tuple) else (h,)


@pytest.mark.parametrize("enforce_sorted, lengths", [(True, [5, 3, 2]), (False, [2, 5, 3]), (False, [3, 3, 1])])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_pad_roundtrip(enforce_sorted, lengths, batch_first):
    torch.manual_seed(0)
    x = torch.randn(3, 5, 2, requires_grad=True) if batch_first else torch.randn(5, 3, 2, requires_grad=True)
    ex = to_ember(x)
    tp = TR.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    ep = ER.pack_padded_sequence(ex, ember.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert isinstance(ep, ER.PackedSequence) and isinstance(ep, tuple)
    assert_close(ep.data, tp.data)
    assert ep.batch_sizes.tolist() == tp.batch_sizes.tolist() and ep.batch_sizes.dtype == ember.int64
    for e, t in ((ep.sorted_indices, tp.sorted_indices), (ep.unsorted_indices, tp.unsorted_indices)):
        assert (e is None and t is None) or e.tolist() == t.tolist()
    tpad, tl = TR.pad_packed_sequence(tp, batch_first=batch_first, padding_value=-2.0, total_length=7)
    epad, el = ER.pad_packed_sequence(ep, batch_first=batch_first, padding_value=-2.0, total_length=7)
    assert_close(epad, tpad)
    assert el.tolist() == tl.tolist() and el.dtype == ember.int64
    g = torch.randn(tpad.shape)
    (tpad * g).sum().backward()
    (epad * to_ember(g)).sum().backward()
    assert_close(ex.grad, x.grad)


@pytest.mark.host_only(reason="to('cpu') of a CPU sequence is itself")
def test_pad_sequence_and_friends():
    seqs = [torch.randn(2, 3), torch.randn(4, 3), torch.randn(1, 3)]
    es = [to_ember(s) for s in seqs]
    for kw in (dict(), dict(batch_first=True, padding_value=-1.0), dict(padding_side="left")):
        assert_close(ER.pad_sequence(es, **kw), TR.pad_sequence(seqs, **kw))
    assert_close(ER.pad_sequence(to_ember(torch.ones(2, 3, 1))), TR.pad_sequence(torch.ones(2, 3, 1)))
    for e, t in zip(ER.unpack_sequence(ER.pack_sequence(es, enforce_sorted=False)),
                    TR.unpack_sequence(TR.pack_sequence(seqs, enforce_sorted=False)), strict=True):
        assert_close(e, t)
    padded = TR.pad_sequence(seqs)
    for e, t in zip(ER.unpad_sequence(to_ember(padded), ember.tensor([2, 4, 1])),
                    TR.unpad_sequence(padded, torch.tensor([2, 4, 1])), strict=True):
        assert_close(e, t)
    p = ER.pack_sequence([es[1], es[0]])
    assert p.to(ember.float64).data.dtype == ember.float64 and p.double().data.dtype == ember.float64
    assert p.to("cpu") is p and not p.is_cuda


def test_packing_errors():
    x = torch.randn(4, 3, 2)
    cases = [
        lambda R, x: R.pack_padded_sequence(x, [1, 3, 2]),
        lambda R, x: R.pack_padded_sequence(x, [3, 0, 0]),
        lambda R, x: R.pack_padded_sequence(x, [3, 2]),
        lambda R, x: R.pad_packed_sequence(R.pack_padded_sequence(x, [3, 2, 1]), total_length=2),
        lambda R, x: R.pad_sequence([]),
        lambda R, x: R.pad_sequence([x], padding_side="middle"),
    ]
    for case in cases:
        raises_like(lambda: case(TR, x), lambda: case(ER, to_ember(x)))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_hx", [False, True])
def test_layers_on_packed_input(name, with_hx):
    torch.manual_seed(0)
    kw = dict(input_size=4, hidden_size=3, num_layers=2, bidirectional=True)
    tm, em = getattr(torch.nn, name)(**kw), getattr(ember.nn, name)(**kw)
    copy_weights(tm, em)
    x = torch.randn(5, 3, 4, requires_grad=True)
    ex = to_ember(x)
    lengths = [2, 5, 3]
    tp = TR.pack_padded_sequence(x, lengths, enforce_sorted=False)
    ep = ER.pack_padded_sequence(ex, lengths, enforce_sorted=False)
    t_hx = e_hx = None
    if with_hx:
        hs = [torch.randn(4, 3, 3, requires_grad=True) for _ in range(2 if name == "LSTM" else 1)]
        t_hx = tuple(hs) if name == "LSTM" else hs[0]
        e_hx = tuple(to_ember(h) for h in hs) if name == "LSTM" else to_ember(hs[0])
    to, th = tm(tp, t_hx)
    eo, eh = em(ep, e_hx)
    assert isinstance(eo, ER.PackedSequence)
    assert eo.batch_sizes.tolist() == to.batch_sizes.tolist()
    assert_close(eo.data, to.data)
    for e, t in zip(_states(eh), _states(th), strict=True):
        assert_close(e, t)  # each sequence's state at its own last step, in the caller's order
    g = torch.randn(to.data.shape)
    ((to.data * g).sum() + sum((h ** 2).sum() for h in _states(th))).backward()
    ((eo.data * to_ember(g)).sum() + sum((h ** 2).sum() for h in _states(eh))).backward()
    assert_close(ex.grad, x.grad)
    if with_hx:
        for e, t in zip(_states(e_hx), _states(t_hx), strict=True):
            assert_close(e.grad, t.grad)
    for (_, tp_), (_, ep_) in zip(tm.named_parameters(), em.named_parameters(), strict=True):
        assert_close(ep_.grad, tp_.grad, rtol=1e-5, atol=2e-6)


# --- cells ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kw", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu", bias=False)),
                                      ("GRUCell", {}), ("LSTMCell", {}), ("GRUCell", dict(bias=False))])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(name, kw, batched):
    torch.manual_seed(0)
    tm, em = getattr(torch.nn, name)(4, 3, **kw), getattr(ember.nn, name)(4, 3, **kw)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    copy_weights(tm, em)
    shape = (2,) if batched else ()
    x = torch.randn(*shape, 4, requires_grad=True)
    hs = [torch.randn(*shape, 3, requires_grad=True) for _ in range(2 if name == "LSTMCell" else 1)]
    t_hx = tuple(hs) if name == "LSTMCell" else hs[0]
    e_hx = tuple(to_ember(h) for h in hs) if name == "LSTMCell" else to_ember(hs[0])
    ex = to_ember(x)
    for t_args, e_args in (((x,), (ex,)), ((x, t_hx), (ex, e_hx))):
        to, eo = tm(*t_args), em(*e_args)
        for e, t in zip(_states(eo), _states(to), strict=True):
            assert_close(e, t)
        sum((o ** 2).sum() for o in _states(to)).backward()
        sum((o ** 2).sum() for o in _states(eo)).backward()
    assert_close(ex.grad, x.grad)
    for e, t in zip(_states(e_hx), _states(t_hx), strict=True):
        assert_close(e.grad, t.grad)
    for (_, tp), (_, ep) in zip(tm.named_parameters(), em.named_parameters(), strict=True):
        assert_close(ep.grad, tp.grad)


def test_cell_gradcheck():
    cell = ember.nn.LSTMCell(2, 3, dtype=ember.float64)
    x = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    h = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    c = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))


CELL_ERRORS = {
    "input_size": lambda T: T.nn.GRUCell(10, 20)(T.randn(3, 7)),
    "input_3d": lambda T: T.nn.GRUCell(10, 20)(T.randn(3, 7, 1)),
    "hidden_3d": lambda T: T.nn.RNNCell(10, 20)(T.randn(3, 10), T.randn(1, 3, 20)),
    "batch": lambda T: T.nn.RNNCell(10, 20)(T.randn(3, 10), T.randn(2, 20)),
    "hidden_size": lambda T: T.nn.RNNCell(10, 20)(T.randn(3, 10), T.randn(3, 19)),
    "lstm_batch": lambda T: T.nn.LSTMCell(10, 20)(T.randn(3, 10), (T.randn(3, 20), T.randn(2, 20))),
    "lstm_3d": lambda T: T.nn.LSTMCell(10, 20)(T.randn(3, 10), (T.randn(1, 3, 20), T.randn(3, 20))),
}


@pytest.mark.parametrize("case", list(CELL_ERRORS))
def test_cell_errors(case):
    raises_like(lambda: CELL_ERRORS[case](torch), lambda: CELL_ERRORS[case](ember))


@pytest.mark.parametrize("name, gates", [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1),
                                         ("rnn_relu_cell", 1)])
def test_torch_cell_functions(name, gates):
    torch.manual_seed(0)
    ts = [torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4), torch.randn(4 * gates, 3),
          torch.randn(4 * gates, 4), torch.randn(4 * gates), torch.randn(4 * gates)]
    ts = [t.requires_grad_(True) for t in ts]
    es = [to_ember(t) for t in ts]

    def call(mod, a):
        hx = (a[1], a[2]) if name == "lstm_cell" else a[1]
        out = getattr(mod, name)(a[0], hx, *a[3:])
        return out if isinstance(out, tuple) else (out,)

    to, eo = call(torch, ts), call(ember, es)
    for e, t in zip(eo, to, strict=True):
        assert_close(e, t)
    sum((o ** 2).sum() for o in to).backward()
    sum((o ** 2).sum() for o in eo).backward()
    for e, t in zip(es, ts):
        if t.grad is not None:
            assert_close(e.grad, t.grad, rtol=1e-5, atol=1e-5)


def _tagger(lib):
    nn = lib.nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(12, 6, padding_idx=0)
            self.lstm = nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True)
            self.out = nn.Linear(10, 4)

        def forward(self, tokens, lengths):
            packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                                       enforce_sorted=False)
            hidden, _ = self.lstm(packed)
            padded, _ = nn.utils.rnn.pad_packed_sequence(hidden, batch_first=True)
            return nn.functional.log_softmax(self.out(padded), dim=-1)

    return Tagger()


def test_tagger_training_matches_torch():
    """An embedding + packed bidirectional LSTM tagger trained for a few SGD steps under both libraries."""
    torch.manual_seed(0)
    tm, em = _tagger(torch), _tagger(ember)
    copy_weights(tm, em)
    tokens = torch.tensor([[3, 5, 7, 0, 0], [1, 2, 3, 4, 11], [9, 9, 0, 0, 0]])
    lengths = [3, 5, 2]
    tags = torch.tensor([[1, 2, 3, -100, -100], [0, 1, 2, 3, 0], [2, 2, -100, -100, -100]])
    results = []
    for lib, model, toks, tg in ((torch, tm, tokens, tags), (ember, em, to_ember(tokens), to_ember(tags))):
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        losses = []
        for _ in range(4):
            opt.zero_grad()
            scores = model(toks, lengths)
            loss = lib.nn.functional.nll_loss(scores.reshape(-1, 4), tg.reshape(-1))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append(losses)
    assert results[1] == pytest.approx(results[0], rel=1e-5, abs=1e-6)
    for (_, tp), (_, ep) in zip(tm.named_parameters(), em.named_parameters(), strict=True):
        assert_close(ep, tp, rtol=1e-4, atol=1e-5)
