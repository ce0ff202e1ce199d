"""nn.Transformer, TransformerEncoder(Layer), TransformerDecoder(Layer) against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn

from _nn_helpers import assert_close, copy_weights, raises_like, to_ember

RTOL, ATOL = 1e-7, 1e-9


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _copy(t, e):
    assert list(e.state_dict()) == list(t.state_dict())
    copy_weights(t, e)
    return t, e


def _rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=g).requires_grad_()


def _grads_match(t, e, pairs):
    for x, ex in pairs:
        assert_close(ex.grad, x.grad, RTOL, ATOL)
    for (name, p), (ename, ep) in zip(t.named_parameters(), e.named_parameters()):
        assert name == ename
        assert_close(ep.grad, p.grad, RTOL, ATOL)


def _e(x):
    return to_ember(x) if isinstance(x, torch.Tensor) else x


LAYER_CONFIGS = [{}, {"norm_first": True, "activation": "gelu", "batch_first": True},
                 {"bias": False, "activation": torch.tanh}, {"layer_norm_eps": 1e-3, "batch_first": True}]


def _act(kw):
    """The same config for ember (a torch callable activation becomes ember's)."""
    return {k: (ember.tanh if v is torch.tanh else v) for k, v in kw.items()}


@pytest.mark.parametrize("kw", LAYER_CONFIGS)
@pytest.mark.parametrize("masks", ["none", "causal", "padding"])
def test_encoder_layer(kw, masks):
    torch.manual_seed(0)
    t, e = _copy(torch.nn.TransformerEncoderLayer(8, 2, 12, 0.0, **kw).double(),
                 enn.TransformerEncoderLayer(8, 2, 12, 0.0, **_act(kw)).double())
    bf = kw.get("batch_first", False)
    src = _rand(*((3, 5, 8) if bf else (5, 3, 8)))
    m = {}
    if masks == "causal":
        m = {"src_mask": torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64),
             "is_causal": True}
    elif masks == "padding":
        m = {"src_key_padding_mask": torch.tensor([[0, 0, 0, 1, 1], [0] * 5, [0, 1, 0, 0, 1]], dtype=torch.bool)}
    esrc = to_ember(src)
    out = t(src, **m)  # train mode, dropout 0
    eout = e(esrc, **{k: _e(v) for k, v in m.items()})
    assert_close(eout, out, RTOL, ATOL)
    (out * out).sum().backward()
    (eout * eout).sum().backward()
    _grads_match(t, e, [(src, esrc)])


@pytest.mark.parametrize("kw", LAYER_CONFIGS[:2])
def test_decoder_layer_with_memory_and_masks(kw):
    torch.manual_seed(1)
    t, e = _copy(torch.nn.TransformerDecoderLayer(8, 2, 12, 0.0, **kw).double(),
                 enn.TransformerDecoderLayer(8, 2, 12, 0.0, **_act(kw)).double())
    bf = kw.get("batch_first", False)
    tgt = _rand(*((3, 4, 8) if bf else (4, 3, 8)))
    mem = _rand(*((3, 6, 8) if bf else (6, 3, 8)), seed=1)
    m = {"tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64),
         "memory_mask": torch.rand(4, 6, generator=torch.Generator().manual_seed(2)) > 0.8,
         "tgt_key_padding_mask": torch.tensor([[0, 0, 0, 1], [0] * 4, [0, 0, 1, 1]], dtype=torch.bool),
         "memory_key_padding_mask": torch.tensor([[0] * 5 + [1], [0] * 6, [0, 0, 0, 1, 1, 1]], dtype=torch.bool)}
    m["tgt_mask"] = m["tgt_mask"] == float("-inf")  # all masks bool (mixed types warn in PyTorch)
    etgt, emem = to_ember(tgt), to_ember(mem)
    out = t(tgt, mem, **m)
    eout = e(etgt, emem, **{k: _e(v) for k, v in m.items()})
    assert_close(eout, out, RTOL, ATOL)
    out.sum().backward()
    eout.sum().backward()
    _grads_match(t, e, [(tgt, etgt), (mem, emem)])


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_end_to_end_eval(batch_first):
    torch.manual_seed(2)
    kw = {"dim_feedforward": 16, "batch_first": batch_first}
    t = _quiet(torch.nn.Transformer, 8, 2, 2, 2, **kw).double().eval()
    e = _quiet(enn.Transformer, 8, 2, 2, 2, **kw).double().eval()
    _copy(t, e)
    src = _rand(*((3, 5, 8) if batch_first else (5, 3, 8)))
    tgt = _rand(*((3, 4, 8) if batch_first else (4, 3, 8)), seed=3)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    kpm = torch.zeros(3, 5, dtype=torch.bool)
    kpm[1, 3:] = True
    esrc, etgt = to_ember(src), to_ember(tgt)
    out = t(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=kpm, memory_key_padding_mask=kpm)
    eout = e(esrc, etgt, tgt_mask=to_ember(tgt_mask), src_key_padding_mask=to_ember(kpm),
             memory_key_padding_mask=to_ember(kpm))
    assert_close(eout, out, RTOL, ATOL)
    out.sum().backward()
    eout.sum().backward()
    _grads_match(t, e, [(src, esrc), (tgt, etgt)])


def test_encoder_inference_fast_path_zeroes_padding():
    """PyTorch's eval/no-grad encoder runs on nested tensors: padded positions come out as zeros (pre-norm)."""
    torch.manual_seed(3)
    t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                                    norm=torch.nn.LayerNorm(8)).eval()
    e = enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                               norm=enn.LayerNorm(8)).eval()
    _copy(t, e)
    src = torch.randn(3, 5, 8)
    for kpm in ([[0, 0, 0, 1, 1], [0] * 5, [0, 1, 1, 1, 1]], [[0, 1, 0, 1, 1], [0] * 5, [0] * 5]):
        kpm = torch.tensor(kpm, dtype=torch.bool)
        with torch.no_grad(), ember.no_grad():
            out = _quiet(t, src, src_key_padding_mask=kpm)
            eout = e(to_ember(src), src_key_padding_mask=to_ember(kpm))
        assert_close(eout, out, 1e-5, 1e-5)
        out = t(src, src_key_padding_mask=kpm)
        eout = e(to_ember(src), src_key_padding_mask=to_ember(kpm))
        assert_close(eout, out, 1e-5, 1e-5)


def test_unbatched_and_square_mask():
    torch.manual_seed(4)
    t, e = _copy(torch.nn.TransformerEncoderLayer(8, 2, 12, 0.0).double(),
                 enn.TransformerEncoderLayer(8, 2, 12, 0.0).double())
    src = _rand(5, 8)
    esrc = to_ember(src)
    assert_close(e(esrc), t(src), RTOL, ATOL)
    tm = torch.nn.Transformer.generate_square_subsequent_mask(3)
    em = enn.Transformer.generate_square_subsequent_mask(3)
    assert_close(em, tm)
    assert enn.Transformer.generate_square_subsequent_mask(2, dtype=ember.float64).dtype == ember.float64


def test_train_mode_dropout_runs_and_eval_is_deterministic():
    e = enn.TransformerEncoderLayer(8, 2, 12, dropout=0.3)
    x = ember.randn(4, 2, 8, requires_grad=True)
    e(x).sum().backward()
    assert x.grad is not None
    e.eval()
    assert np.array_equal(e(x).detach().numpy(), e(x).detach().numpy())


def test_init_warning_state_dict_and_errors():
    with pytest.warns(UserWarning, match="self.use_nested_tensor is False because encoder_layer.self_attn.batch_first"):
        enc = enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2, 12), 2)
    assert not enc.use_nested_tensor and enc.layers[0] is not enc.layers[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2, 12, batch_first=True), 2)
        enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2, 12), 2, enable_nested_tensor=False)
    t = _quiet(torch.nn.Transformer, 8, 2, 1, 1, 16)
    e = _quiet(enn.Transformer, 8, 2, 1, 1, 16)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    raises_like(lambda: torch.nn.TransformerEncoderLayer(8, 2, activation="tanh"),
                lambda: enn.TransformerEncoderLayer(8, 2, activation="tanh"))
    raises_like(lambda: t(torch.randn(5, 3, 8), torch.randn(4, 2, 8)),
                lambda: e(ember.randn(5, 3, 8), ember.randn(4, 2, 8)))
    raises_like(lambda: t(torch.randn(5, 3, 8), torch.randn(4, 3, 6)),
                lambda: e(ember.randn(5, 3, 8), ember.randn(4, 3, 6)))


def test_encoder_layer_inference_fully_padded_sequence_is_nan_as_torch():
    torch.manual_seed(5)
    t = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
    e = enn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
    _copy(t, e)
    src = torch.randn(3, 5, 8)
    kpm = torch.tensor([[0, 0, 0, 1, 1], [0] * 5, [1] * 5], dtype=torch.bool)
    with torch.no_grad(), ember.no_grad():
        out = t(src, src_key_padding_mask=kpm)
        eout = e(to_ember(src), src_key_padding_mask=to_ember(kpm))
    assert np.array_equal(np.isnan(eout.numpy()), np.isnan(out.numpy()))
    np.testing.assert_allclose(eout.numpy(), out.numpy(), rtol=1e-5, atol=1e-5)
    enc_t = _quiet(torch.nn.TransformerEncoder, t, 2)
    enc_e = enn.TransformerEncoder(e, 2)
    with torch.no_grad(), ember.no_grad():
        out = _quiet(enc_t, src, src_key_padding_mask=kpm)
        eout = enc_e(to_ember(src), src_key_padding_mask=to_ember(kpm))
    assert_close(eout, out, 1e-5, 1e-5)  # the nested-tensor path: padded positions are 0, no NaN


def test_encoder_and_decoder_layers_gradcheck_tiny():
    enc = enn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    dec = enn.TransformerDecoderLayer(4, 2, 6, dropout=0.0).double()
    src = ember.randn(3, 2, 4, dtype=ember.float64, requires_grad=True)
    mem = ember.randn(2, 2, 4, dtype=ember.float64, requires_grad=True)
    mask = enn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64)
    assert ember.autograd.gradcheck(lambda x: enc(x, src_mask=mask), (src,))
    assert ember.autograd.gradcheck(lambda x, m: dec(x, m, tgt_mask=mask), (src, mem))
