"""torch.nn.attention against PyTorch (CPU build): SDPBackend, sdpa_kernel's switches and refusals, the flash
attention implementation registry."""
import logging

import numpy as np
import pytest
import torch
import torch.nn.attention as tattn

import ember
import ember.nn.attention as eattn
from _nn_helpers import assert_close

NAMES = ["ERROR", "MATH", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "OVERRIDEABLE"]


def test_sdp_backend_enum():
    assert list(eattn.SDPBackend.__members__) == list(tattn.SDPBackend.__members__) == NAMES
    for name in NAMES:
        e, t = getattr(eattn.SDPBackend, name), getattr(tattn.SDPBackend, name)
        assert (e.name, e.value, int(e), repr(e), str(e)) == (t.name, t.value, int(t), repr(t), str(t))
        assert [0, 1, 2, 3, 4, 5][e.value] == [0, 1, 2, 3, 4, 5][t.value]
    assert eattn.__all__ == tattn.__all__
    assert eattn.WARN_FOR_UNFUSED_KERNELS is tattn.WARN_FOR_UNFUSED_KERNELS


def _switches(lib):
    c = lib.backends.cuda
    return (c.flash_sdp_enabled(), c.math_sdp_enabled(), c.mem_efficient_sdp_enabled(), c.cudnn_sdp_enabled())


SELECTIONS = ["MATH", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "OVERRIDEABLE", "ERROR",
              ["EFFICIENT_ATTENTION", "CUDNN_ATTENTION"], ["MATH", "EFFICIENT_ATTENTION"], [], ["MATH", "MATH"]]


def _select(mod, sel):
    if isinstance(sel, list):
        return [getattr(mod.SDPBackend, s) for s in sel]
    return getattr(mod.SDPBackend, sel)


@pytest.mark.parametrize("sel", SELECTIONS, ids=str)
def test_sdpa_kernel_switches_and_refusal_on_cpu(sel):
    q = np.random.default_rng(0).standard_normal((1, 2, 4, 8)).astype(np.float32)
    results = []
    for lib, mod in ((torch, tattn), (ember, eattn)):
        before = _switches(lib)
        with mod.sdpa_kernel(_select(mod, sel)) as ctx:
            assert ctx == {}
            inside = _switches(lib)
            x = lib.from_numpy(q.copy()).cpu()
            try:
                out = lib.nn.functional.scaled_dot_product_attention(x, x, x)
            except RuntimeError as exc:
                out = str(exc)
        assert _switches(lib) == before
        results.append((inside, out))
    (t_inside, t_out), (e_inside, e_out) = results
    assert e_inside == t_inside
    if isinstance(t_out, str):
        assert e_out == t_out
    else:
        assert_close(e_out, t_out)


def _flash_inputs(lib, case):
    rng = np.random.default_rng(3)

    def t(*shape):
        return lib.from_numpy(rng.standard_normal(shape).astype(np.float32))
    q, k = t(2, 3, 4, 8), t(2, 3, 5, 8)
    cases = {
        "plain": lambda: ((q, k, k), {}), "f64": lambda: ((q.double(), k.double(), k.double()), {}),
        "bool_mask": lambda: ((q, k, k), {"attn_mask": lib.ones(4, 5, dtype=lib.bool)}),
        "mask_4d": lambda: ((q, k, k), {"attn_mask": lib.zeros(1, 1, 4, 5)}),
        "mask_3d": lambda: ((q, k, k), {"attn_mask": lib.zeros(3, 4, 5)}),
        "dropout": lambda: ((q, k, k), {"dropout_p": 0.5}), "causal": lambda: ((q, k, k), {"is_causal": True}),
        "3d": lambda: ((q[0], k[0], k[0]), {}), "gqa": lambda: ((t(2, 6, 4, 8), k, k), {"enable_gqa": True}),
        "gqa_bad": lambda: ((t(2, 4, 4, 8), k, k), {"enable_gqa": True}),
        "head_dims": lambda: ((q, k, t(2, 3, 5, 6)), {}), "batch_broadcast": lambda: ((q[:1], k, k), {}),
        "heads_broadcast": lambda: ((q[:, :1], k, k), {}),
        "last_stride": lambda: ((t(2, 3, 4, 16), k, k), {}),  # NOTE: strided on the CPU below
        "empty": lambda: ((q[:0], k[:0], k[:0]), {}),
    }
    return cases[case]()


@pytest.mark.parametrize("case", ["plain", "f64", "bool_mask", "mask_4d", "mask_3d", "dropout", "causal", "3d", "gqa",
                                  "gqa_bad", "head_dims", "batch_broadcast", "heads_broadcast", "last_stride",
                                  "empty"])
def test_flash_only_on_cpu_takes_what_torch_takes(case):
    outcomes = []
    for lib, mod in ((torch, tattn), (ember, eattn)):
        args, kwargs = _flash_inputs(lib, case)
        kwargs = {n: v.cpu() if isinstance(v, lib.Tensor) else v for n, v in kwargs.items()}
        args = [a.cpu() for a in args]
        if case == "last_stride":
            args[0] = args[0][..., ::2]
        with mod.sdpa_kernel(mod.SDPBackend.FLASH_ATTENTION):
            try:
                out = lib.nn.functional.scaled_dot_product_attention(*args, **kwargs)
                outcomes.append(("ok", tuple(out.shape)))
            except RuntimeError as exc:
                outcomes.append(("error", str(exc)))
    assert outcomes[1] == outcomes[0]


def test_sdpa_kernel_priority_is_restored():
    order = [ember.nn.attention.SDPBackend.CUDNN_ATTENTION, ember.nn.attention.SDPBackend.MATH]
    with eattn.sdpa_kernel(order, set_priority=True):
        assert eattn._cur_sdpa_kernel_backends(with_priority=True) == order
        with tattn.sdpa_kernel([tattn.SDPBackend.CUDNN_ATTENTION, tattn.SDPBackend.MATH], set_priority=True):
            assert ember.backends._flags.get("cuda.sdp.priority_order") == tuple(torch._C._get_sdp_priority_order())
    assert [b.name for b in eattn._cur_sdpa_kernel_backends(with_priority=True)] == \
        [b.name for b in tattn._cur_sdpa_kernel_backends(with_priority=True)]


@pytest.mark.parametrize("bad", ["math", 3, (0,)])
def test_sdpa_kernel_rejects_what_torch_rejects(bad):
    def enter(mod, value):
        value = tuple(getattr(mod.SDPBackend, "MATH") for _ in value) if isinstance(value, tuple) else value
        with mod.sdpa_kernel(value):
            pass
    with pytest.raises(AssertionError) as t_err:
        enter(tattn, bad)
    with pytest.raises(AssertionError) as e_err:
        enter(eattn, bad)
    assert str(e_err.value) == str(t_err.value)


def test_flash_attention_registry(caplog):
    assert eattn.list_flash_attention_impls() == tattn.list_flash_attention_impls()
    assert eattn.current_flash_attention_impl() is tattn.current_flash_attention_impl() is None
    for impl in ("FA3", "FA4", "nope"):
        with pytest.raises(Exception) as t_err:
            tattn.activate_flash_attention_impl(impl)
        with pytest.raises(type(t_err.value)) as e_err:
            eattn.activate_flash_attention_impl(impl)
        assert str(e_err.value) == str(t_err.value)
    with caplog.at_level(logging.WARNING):
        eattn.restore_flash_attention_impl()
    assert "Trying to restore default FA2 impl when no custom impl was activated" in caplog.text

    removed = []

    class Handle:
        def remove(self):
            removed.append(True)
    eattn.register_flash_attention_impl("Mine", register_fn=Handle)
    try:
        eattn.activate_flash_attention_impl("Mine")
        assert eattn.current_flash_attention_impl() == "Mine"
        eattn.restore_flash_attention_impl()
        assert removed == [True] and eattn.current_flash_attention_impl() is None
    finally:
        eattn._registry._IMPLS.pop("Mine")


@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
@pytest.mark.parametrize("lq,lkv", [(3, 3), (3, 5), (5, 3), (1, 4)])
def test_causal_bias_masks_and_attention(variant, lq, lkv):
    import warnings

    import torch.nn.attention.bias as tbias

    import ember.nn.attention.bias as ebias
    with warnings.catch_warnings(record=True) as t_warn:
        warnings.simplefilter("always")
        tb = getattr(tbias, variant)(lq, lkv)
    with warnings.catch_warnings(record=True) as e_warn:
        warnings.simplefilter("always")
        eb = getattr(ebias, variant)(lq, lkv)
    assert [str(w.message) for w in e_warn] == [str(w.message) for w in t_warn]
    assert isinstance(eb, ember.Tensor) and isinstance(eb, ebias.CausalBias)
    assert int(eb.variant) == int(tb.variant) and (eb.seq_len_q, eb.seq_len_kv) == (lq, lkv)
    assert_close(eb._materialize(), tb._materialize())
    assert repr(eb) == repr(tb)
    rng = np.random.default_rng(1)
    q = rng.standard_normal((2, 3, lq, 8)).astype(np.float32)
    k = rng.standard_normal((2, 3, lkv, 8)).astype(np.float32)
    v = rng.standard_normal((2, 3, lkv, 4)).astype(np.float32)
    t_out = torch.nn.functional.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)), attn_mask=tb)
    e_out = ember.nn.functional.scaled_dot_product_attention(*map(ember.from_numpy, (q, k, v)), attn_mask=eb)
    assert_close(e_out, t_out, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
        ember.nn.functional.scaled_dot_product_attention(*map(ember.from_numpy, (q, k, v)), attn_mask=eb,
                                                         is_causal=True)


def test_causal_bias_errors():
    import torch.nn.attention.bias as tbias

    import ember.nn.attention.bias as ebias
    for name in ("causal_upper_left", "causal_lower_right"):
        with pytest.raises(AssertionError) as t_err:
            getattr(tbias, name)(2, 3, 4)
        with pytest.raises(AssertionError) as e_err:
            getattr(ebias, name)(2, 3, 4)
        assert str(e_err.value) == str(t_err.value)
    assert ebias.__all__ == tbias.__all__
    assert [(m.name, m.value) for m in ebias.CausalVariant] == [(m.name, m.value) for m in tbias.CausalVariant]
