"""F.scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention against PyTorch."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as EF
from ember.nn.modules.activation import MultiheadAttention as EMultiheadAttention

from _nn_helpers import assert_close, copy_weights, raises_like, to_ember

TF = torch.nn.functional


def _qkv(batch, L, S, E, Ev, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*batch, n, e, dtype=dtype, generator=g).requires_grad_()
            for n, e in ((L, E), (S, E), (S, Ev))]


def _check_sdpa(tq, tk, tv, rtol=1e-7, atol=1e-9, **kw):
    eq, ek, ev = (to_ember(t) for t in (tq, tk, tv))
    ekw = {k: to_ember(v) if isinstance(v, torch.Tensor) else v for k, v in kw.items()}
    out = TF.scaled_dot_product_attention(tq, tk, tv, **kw)
    eout = EF.scaled_dot_product_attention(eq, ek, ev, **ekw)
    assert_close(eout, out, rtol, atol)
    grad = torch.randn_like(out)
    out.backward(grad)
    eout.backward(to_ember(grad))
    for e, t in ((eq, tq), (ek, tk), (ev, tv)):
        assert_close(e.grad, t.grad, rtol, atol)
    for k, v in kw.items():
        if isinstance(v, torch.Tensor) and v.requires_grad:
            assert_close(ekw[k].grad, v.grad, rtol, atol)


@pytest.mark.parametrize("batch,L,S", [((2, 3), 4, 6), ((1,), 5, 3), ((), 3, 3), ((2, 1, 2), 1, 4)])
@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}])
def test_sdpa_values_and_grads(batch, L, S, kw):
    _check_sdpa(*_qkv(batch, L, S, 5, 7), **kw)


def test_sdpa_broadcast_batch_dims():
    tq, _, _ = _qkv((2, 3), 4, 6, 5, 7)
    _, tk, tv = _qkv((1, 1), 4, 6, 5, 7, seed=1)
    _check_sdpa(tq, tk, tv)


@pytest.mark.parametrize("shape", [(4, 6), (3, 4, 6), (2, 1, 4, 6)])
def test_sdpa_float_mask_gets_gradient(shape):
    mask = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    _check_sdpa(*_qkv((2, 3), 4, 6, 5, 7), attn_mask=mask)


def test_sdpa_bool_mask_and_fully_masked_rows_are_zero():
    mask = torch.rand(4, 6, generator=torch.Generator().manual_seed(3)) > 0.5
    mask[0] = False  # a row with nothing to attend: PyTorch gives zeros (and zero gradients)
    mask[1, 0] = True
    _check_sdpa(*_qkv((2, 3), 4, 6, 5, 7), attn_mask=mask)
    neg = torch.zeros(4, 6, dtype=torch.float64).masked_fill(~mask, float("-inf"))
    _check_sdpa(*_qkv((2, 3), 4, 6, 5, 7), attn_mask=neg)


def test_sdpa_float32_and_gqa():
    _check_sdpa(*_qkv((2, 3), 4, 6, 8, 8, dtype=torch.float32), rtol=1e-5, atol=1e-6)
    tq, _, _ = _qkv((2, 4), 4, 6, 5, 7)
    _, tk, tv = _qkv((2, 2), 4, 6, 5, 7, seed=2)
    _check_sdpa(tq, tk, tv, enable_gqa=True)


def test_sdpa_dropout():
    q, k, v = (to_ember(t) for t in _qkv((2, 2), 4, 6, 5, 7))
    assert float(EF.scaled_dot_product_attention(q, k, v, dropout_p=1.0).abs().sum()) == 0
    ember.manual_seed(0)
    out = EF.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    out.sum().backward()
    assert out.shape == (2, 2, 4, 7) and q.grad is not None and np.isfinite(q.grad.numpy()).all()


def test_sdpa_gradcheck():
    q, k, v = (to_ember(t) for t in _qkv((2,), 3, 4, 2, 3))
    mask = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    fn = lambda q, k, v, m: EF.scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (q, k, v, mask))
    assert ember.autograd.gradgradcheck(fn, (q, k, v, mask))


def test_sdpa_errors():
    tq, tk, tv = (t.detach() for t in _qkv((2, 3), 4, 6, 5, 7, dtype=torch.float32))
    eq, ek, ev = (to_ember(t) for t in (tq, tk, tv))
    cases = [
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=q.new_zeros(4, 6), is_causal=True),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v[..., :5, :]),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k[..., :4], v),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k.double(), v),
        lambda F, q, k, v: F.scaled_dot_product_attention(q[0, 0, 0], k[0, 0, 0], v[0, 0, 0]),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=q.new_zeros(4, 6).long()),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=1.5),
        lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=q.new_zeros(5, 6)),
        lambda F, q, k, v: F.scaled_dot_product_attention(q[:, :2], k, v),
    ]
    for case in cases:
        raises_like(lambda: case(TF, tq, tk, tv), lambda: case(EF, eq, ek, ev))


# === multi-head attention ========================================================================
MHA_CONFIGS = [{}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True, "add_zero_attn": True},
               {"bias": False, "batch_first": True}]


def _pair(**kw):
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, **kw).double()
    e = EMultiheadAttention(8, 2, **kw).double()
    assert list(e.state_dict()) == list(t.state_dict())
    assert [tuple(v.shape) for v in e.state_dict().values()] == [tuple(v.shape) for v in t.state_dict().values()]
    copy_weights(t, e)
    return t, e


def _inputs(kw, L=4, S=5, N=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    dims = (8, kw.get("kdim", 8), kw.get("vdim", 8))
    shapes = [(N, n, d) if kw.get("batch_first") else (n, N, d) for n, d in zip((L, S, S), dims)]
    return [torch.randn(*s, dtype=torch.float64, generator=g).requires_grad_() for s in shapes]


def _masks(kind, L=4, S=5, N=3, heads=2):
    g = torch.Generator().manual_seed(7)
    out = {}
    if kind in ("kpm", "both"):
        out["key_padding_mask"] = torch.rand(N, S, generator=g) > 0.6
    if kind in ("attn", "both"):
        out["attn_mask"] = torch.rand(L, S, generator=g) > 0.7
    if kind == "float3d":
        out["attn_mask"] = torch.randn(N * heads, L, S, dtype=torch.float64, generator=g)
        out["key_padding_mask"] = torch.randn(N, S, dtype=torch.float64, generator=g)
    if kind == "causal":
        out["attn_mask"] = torch.ones(L, S, dtype=torch.bool).triu(1)
        out["is_causal"] = True
    return out


def _compare_mha(t, e, tin, masks, rtol=1e-7, atol=1e-9, **kw):
    ein = [to_ember(x) for x in tin]
    emasks = {k: to_ember(v) if isinstance(v, torch.Tensor) else v for k, v in masks.items()}
    out, w = t(*tin, **masks, **kw)
    eout, ew = e(*ein, **emasks, **kw)
    assert_close(eout, out, rtol, atol)
    if w is None:
        assert ew is None
    else:
        assert_close(ew, w, rtol, atol)
    loss = out.pow(2).sum() + (0 if w is None else w.sum() * 3)
    eloss = eout.pow(2).sum() + (0 if ew is None else ew.sum() * 3)
    loss.backward()
    eloss.backward()
    for x, ex in zip(tin, ein):
        assert_close(ex.grad, x.grad, rtol, atol)
    for (name, p), (ename, ep) in zip(t.named_parameters(), e.named_parameters()):
        assert name == ename
        assert_close(ep.grad, p.grad, rtol, atol)


@pytest.mark.parametrize("kw", MHA_CONFIGS)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask", ["none", "kpm", "attn", "both", "causal"])
def test_mha_against_torch(kw, need_weights, mask):
    t, e = _pair(**kw)
    _compare_mha(t, e, _inputs(kw), _masks(mask), need_weights=need_weights)


@pytest.mark.parametrize("average", [True, False])
def test_mha_float_masks_and_per_head_weights(average):
    t, e = _pair()
    _compare_mha(t, e, _inputs({}), _masks("float3d"), average_attn_weights=average)


def test_mha_self_attention_and_unbatched():
    t, e = _pair(batch_first=True)
    x = torch.randn(2, 4, 8, dtype=torch.float64, requires_grad=True)
    ex = to_ember(x)
    out, w = t(x, x, x)
    eout, ew = e(ex, ex, ex)
    assert_close(eout, out, 1e-7, 1e-9)
    assert_close(ew, w, 1e-7, 1e-9)
    out.sum().backward()
    eout.sum().backward()
    assert_close(ex.grad, x.grad, 1e-7, 1e-9)
    t, e = _pair()
    tin = [x.detach()[0].requires_grad_() for _ in range(3)]
    _compare_mha(t, e, tin, {"key_padding_mask": torch.tensor([False, True, False, False])})


def test_mha_train_mode_dropout_zero_and_dropout():
    t, e = _pair(dropout=0.0)
    t.train()
    e.train()
    _compare_mha(t, e, _inputs({}), _masks("both"))
    e = EMultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(4, 3, 8)
    out, w = e(x, x, x)
    assert out.shape == (4, 3, 8) and w.shape == (3, 4, 4)
    e.eval()
    assert np.allclose(e(x, x, x)[1].sum(-1).detach().numpy(), 1, atol=1e-5)


def test_mha_init_and_repr():
    e = EMultiheadAttention(16, 4, add_bias_kv=True)
    assert float(e.in_proj_bias.abs().sum()) == 0 and float(e.out_proj.bias.abs().sum()) == 0
    bound = (6 / (16 + 48)) ** 0.5
    assert float(e.in_proj_weight.abs().max()) <= bound
    assert tuple(e.bias_k.shape) == (1, 1, 16)
    t = torch.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert repr(e) == repr(t)


def test_mha_functional_matches():
    t, e = _pair()
    q, k, v = _inputs({})
    args = (8, 2, t.in_proj_weight, t.in_proj_bias, None, None, False, 0.0, t.out_proj.weight, t.out_proj.bias)
    eargs = (8, 2, e.in_proj_weight, e.in_proj_bias, None, None, False, 0.0, e.out_proj.weight, e.out_proj.bias)
    out, w = TF.multi_head_attention_forward(q, k, v, *args, training=False)
    eout, ew = EF.multi_head_attention_forward(*(to_ember(x) for x in (q, k, v)), *eargs, training=False)
    assert_close(eout, out, 1e-7, 1e-9)
    assert_close(ew, w, 1e-7, 1e-9)


def test_mha_errors():
    t, e = _pair()
    q, k, v = (x.detach() for x in _inputs({}))
    eq, ek, ev = (to_ember(x) for x in (q, k, v))
    cases = [
        lambda m, q, k, v: m(q, k[:, :, :4], v),
        lambda m, q, k, v: m(q[0], k, v),
        lambda m, q, k, v: m(q, k, v, attn_mask=q.new_zeros(3, 5)),
        lambda m, q, k, v: m(q, k, v, attn_mask=q.new_zeros(7, 4, 5)),
        lambda m, q, k, v: m(q, k, v, key_padding_mask=q.new_zeros(3, 4).bool()),
        lambda m, q, k, v: m(q, k, v, key_padding_mask=q.new_zeros(3, 5).long()),
        lambda m, q, k, v: m(q, k, v, is_causal=True),
        lambda m, q, k, v: m(q[:, :, :6], k[:, :, :6], v[:, :, :6]),
    ]
    for case in cases:
        raises_like(lambda: case(t, q, k, v), lambda: case(e, eq, ek, ev))
    raises_like(lambda: torch.nn.MultiheadAttention(6, 4), lambda: EMultiheadAttention(6, 4))
    raises_like(lambda: torch.nn.MultiheadAttention(0, 4), lambda: EMultiheadAttention(0, 4))


def test_mha_mismatched_mask_types_warn():
    t, e = _pair()
    q, k, v = (to_ember(x.detach()) for x in _inputs({}))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        e(q, k, v, key_padding_mask=ember.zeros(3, 5, dtype=ember.bool), attn_mask=ember.zeros(4, 5))


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("inference", [True, False])
def test_mha_fully_masked_query_nan_or_zero_as_torch(need_weights, inference):
    """A batch element whose every key is padding: NaN from softmax (need_weights, or PyTorch's fused
    inference kernel), zeros from SDPA (need_weights=False while training or with gradients)."""
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    e = EMultiheadAttention(8, 2, batch_first=True).eval()
    copy_weights(t, e)
    x = torch.randn(3, 5, 8)
    kpm = torch.tensor([[0, 0, 0, 1, 1], [0] * 5, [1] * 5], dtype=torch.bool)
    ex = to_ember(x)
    if inference:
        with torch.no_grad(), ember.no_grad():
            out, w = t(x, x, x, key_padding_mask=kpm, need_weights=need_weights)
            eout, ew = e(ex, ex, ex, key_padding_mask=to_ember(kpm), need_weights=need_weights)
    else:
        out, w = t(x, x, x, key_padding_mask=kpm, need_weights=need_weights)
        eout, ew = e(ex, ex, ex, key_padding_mask=to_ember(kpm), need_weights=need_weights)
    assert np.array_equal(np.isnan(eout.detach().numpy()), np.isnan(out.detach().numpy()))
    np.testing.assert_allclose(eout.detach().numpy(), out.detach().numpy(), rtol=1e-5, atol=1e-6)
    if need_weights:
        np.testing.assert_allclose(ew.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_sdpa_float16():
    g = torch.Generator().manual_seed(4)
    tq, tk, tv = (torch.randn(2, 3, 5, 8, generator=g).half().requires_grad_() for _ in range(3))
    mask = torch.rand(5, 5, generator=g) > 0.3
    _check_sdpa(tq, tk, tv, rtol=4e-3, atol=2e-3, attn_mask=mask)


def test_mha_functional_static_kv_and_separate_weights():
    g = torch.Generator().manual_seed(6)
    L, S, N, E, H = 4, 5, 2, 6, 3
    q = torch.randn(L, N, E, dtype=torch.float64, generator=g, requires_grad=True)
    k, v = (torch.randn(S, N, E, dtype=torch.float64, generator=g) for _ in range(2))
    static_k, static_v = (torch.randn(N * H, 7, E // H, dtype=torch.float64, generator=g, requires_grad=True)
                          for _ in range(2))
    ws = [torch.randn(E, E, dtype=torch.float64, generator=g, requires_grad=True) for _ in range(4)]
    b = torch.randn(3 * E, dtype=torch.float64, generator=g, requires_grad=True)
    e = {name: to_ember(x) for name, x in zip(("q", "sk", "sv", "wq", "wk", "wv", "wo", "b"),
                                               (q, static_k, static_v, *ws, b))}
    out, w = TF.multi_head_attention_forward(q, k, v, E, H, None, b, None, None, False, 0.0, ws[3], None,
                                             use_separate_proj_weight=True, q_proj_weight=ws[0], k_proj_weight=ws[1],
                                             v_proj_weight=ws[2], static_k=static_k, static_v=static_v,
                                             average_attn_weights=False)
    eout, ew = EF.multi_head_attention_forward(e["q"], to_ember(k), to_ember(v), E, H, None, e["b"], None, None, False,
                                               0.0, e["wo"], None, use_separate_proj_weight=True,
                                               q_proj_weight=e["wq"], k_proj_weight=e["wk"], v_proj_weight=e["wv"],
                                               static_k=e["sk"], static_v=e["sv"], average_attn_weights=False)
    assert_close(eout, out, 1e-7, 1e-9)
    assert_close(ew, w, 1e-7, 1e-9)
    (out.sum() + w.pow(2).sum()).backward()
    (eout.sum() + ew.pow(2).sum()).backward()
    for name, x in zip(("q", "sk", "sv", "wq", "wo", "b"), (q, static_k, static_v, ws[0], ws[3], b)):
        assert_close(e[name].grad, x.grad, 1e-7, 1e-9)


def test_mha_gradcheck_tiny():
    e = EMultiheadAttention(4, 2, kdim=3, vdim=5).double()
    g = torch.Generator().manual_seed(9)
    q, k, v = (to_ember(torch.randn(*s, dtype=torch.float64, generator=g)) for s in ((3, 2, 4), (2, 2, 3), (2, 2, 5)))
    kpm = ember.tensor([[False, True], [False, False]])
    params = (e.q_proj_weight, e.k_proj_weight, e.in_proj_bias)

    def fn(q, k, v, wq, wk, b):
        out, w = EF.multi_head_attention_forward(q, k, v, 4, 2, None, b, None, None, False, 0.0, e.out_proj.weight,
                                                 e.out_proj.bias, key_padding_mask=kpm,
                                                 use_separate_proj_weight=True, q_proj_weight=wq, k_proj_weight=wk,
                                                 v_proj_weight=e.v_proj_weight)
        return out, w
    assert ember.autograd.gradcheck(fn, (q, k, v) + params)


def test_mha_merge_masks():
    t, e = _pair(batch_first=True)
    x = torch.randn(3, 4, 8, dtype=torch.float64)
    kpm = torch.randn(3, 4, dtype=torch.float64)
    for attn in (None, torch.randn(4, 4, dtype=torch.float64), torch.randn(6, 4, 4, dtype=torch.float64)):
        for pad in (None, kpm):
            merged, kind = t.merge_masks(attn, pad, x)
            emerged, ekind = e.merge_masks(None if attn is None else to_ember(attn),
                                           None if pad is None else to_ember(pad), to_ember(x))
            assert ekind == kind
            if merged is None:
                assert emerged is None
            else:
                assert_close(emerged, merged)


def test_sdpa_primitive_with_dropout_mask_gradients():
    """The dropout path's backward (a fixed keep mask) against gradcheck and against the composed formula."""
    from ember._ops.nn.attention import ScaledDotProductAttention
    q, k, v = (to_ember(t) for t in _qkv((2,), 3, 4, 2, 3))
    keep = ember.tensor([[[2.0, 0, 2, 2], [0, 2, 2, 0], [2, 2, 0, 2]]] * 2, dtype=ember.float64)
    bias = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)

    def fused(q, k, v, bias):
        out, weights = ScaledDotProductAttention.apply(q, k, v, bias, keep, 0.5, True)
        return out, weights

    assert ember.autograd.gradcheck(fused, (q, k, v, bias))
    out, weights = fused(q, k, v, bias)
    composed_w = (q.matmul(k.transpose(-1, -2)) * 0.5 + bias).softmax(-1)
    composed = (composed_w * keep).matmul(v)
    assert_close(out, composed.detach(), 1e-10, 1e-12)
    g = ember.autograd.grad((out.sum() + weights.pow(2).sum()), (q, k, v, bias))
    cg = ember.autograd.grad((composed.sum() + composed_w.pow(2).sum()), (q, k, v, bias))
    for a, b in zip(g, cg):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
