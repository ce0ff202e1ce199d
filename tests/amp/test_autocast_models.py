"""Models under CPU autocast against PyTorch (outputs and gradients, dtypes and values), and autocast's
context-manager behaviour: nesting, enabled=False inside, unsupported dtypes, no_grad, the decorator,
custom_fwd / custom_bwd, the state functions."""
import warnings

import numpy as np
import pytest
import torch

import ember

# NOTE: CPU autocast acts on CPU tensors; with ember's tensors on cuda (the stand-in) the CUDA policy applies,
# which tests/amp/test_autocast_cuda.py checks
pytestmark = pytest.mark.host_only("CPU autocast: PyTorch's CPU policy, on CPU tensors")


def _cnn(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.nn.Conv2d(3, 4, 3, padding=1)
            self.bn = lib.nn.BatchNorm2d(4)
            self.fc = lib.nn.Linear(4 * 3 * 3, 10)
            self.ln = lib.nn.LayerNorm(10)

        def forward(self, x):
            x = lib.relu(self.bn(self.conv(x)))
            x = lib.nn.functional.max_pool2d(x, 2).flatten(1)
            return self.ln(self.fc(x))
    return Net(), (2, 3, 6, 6)


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.GELU(), lib.nn.Dropout(0.0), lib.nn.Linear(16, 10)), (4, 8)


def _transformer(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
            self.head = lib.nn.Linear(8, 10)

        def forward(self, x):
            return self.head(self.enc(x).mean(1))
    return Net(), (2, 5, 8)


def _pair(make):
    torch.manual_seed(0)
    tm, shape = make(torch)
    em, _ = make(ember)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, em, shape


def _step(lib, model, x, y, dtype, backward_inside):
    with lib.autocast("cpu", dtype=getattr(lib, dtype)):
        out = model(lib.tensor(x))
        loss = lib.nn.functional.cross_entropy(out, lib.tensor(y))
        if backward_inside:
            loss.backward()
    if not backward_inside:
        loss.backward()
    return out, loss, {n: p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize("backward_inside", [False, True])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("make", [_cnn, _mlp, _transformer], ids=["cnn", "mlp", "transformer"])
def test_model_forward_backward_matches_torch(make, dtype, backward_inside):
    tm, em, shape = _pair(make)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, 10, shape[0])
    t_out, t_loss, t_grads = _step(torch, tm, x, y, dtype, backward_inside)
    e_out, e_loss, e_grads = _step(ember, em, x, y, dtype, backward_inside)
    assert str(e_out.dtype) == str(t_out.dtype) == f"torch.{dtype}"
    assert str(e_loss.dtype) == str(t_loss.dtype) == "torch.float32"
    tol = 3e-2
    np.testing.assert_allclose(e_out.detach().float().numpy(), t_out.detach().float().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=tol)
    for name, tg in t_grads.items():
        eg = e_grads[name]
        assert str(eg.dtype) == str(tg.dtype) == "torch.float32", name
        scale = max(float(tg.abs().max()), 1e-3)
        np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=0, atol=5e-2 * scale, err_msg=name)


def _dtypes(lib, body):
    a, b = lib.ones(2, 2), lib.ones(2, 2)
    return [str(d) for d in body(lib, a, b)]


def _both(body):
    assert _dtypes(ember, body) == _dtypes(torch, body)


def test_nested_and_disabled_regions():
    def body(lib, a, b):
        seen = []
        with lib.autocast("cpu"):
            seen.append(lib.mm(a, b).dtype)
            with lib.autocast("cpu", enabled=False):
                seen.append(lib.mm(a, b).dtype)
                seen.append(lib.is_autocast_enabled("cpu"))
            with lib.autocast("cpu", dtype=lib.float16):
                seen.append(lib.mm(a, b).dtype)
                seen.append(lib.get_autocast_dtype("cpu"))
            seen.append(lib.mm(a, b).dtype)
            seen.append(lib.get_autocast_dtype("cpu"))
        seen.append(lib.mm(a, b).dtype)
        seen.append(lib.is_autocast_enabled("cpu"))
        return seen
    _both(body)


def test_no_grad_float64_integers_and_other_device_types():
    def body(lib, a, b):
        with lib.no_grad(), lib.autocast("cpu"):
            d = [lib.mm(a, b).dtype, lib.mm(a.double(), b.double()).dtype,
                 lib.mm(a.long(), b.long()).dtype, lib.mm(a.double(), b).dtype if False else None]
        with lib.autocast("cuda", enabled=False):
            d.append(lib.mm(a, b).dtype)
        return d[:3] + d[4:]
    _both(body)


def test_backward_of_the_cast_gives_float32_grads():
    for lib in (ember, torch):
        w = lib.ones(3, 3, requires_grad=True)
        with lib.autocast("cpu"):
            y = lib.mm(w, w)
        assert y.dtype == lib.bfloat16
        y.float().sum().backward()
        assert w.grad.dtype == lib.float32 and float(w.grad.sum()) == 54.0


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_unsupported_dtype_warns_and_disables(dtype):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autocast("cpu", dtype=getattr(lib, dtype)) as ctx:
                on = lib.is_autocast_enabled("cpu")
        return on, [str(w.message) for w in caught], type(ctx).__name__
    assert run(ember) == run(torch)


def test_argument_errors():
    for bad, exc in ((1, ValueError), ("foo", RuntimeError)):
        with pytest.raises(exc) as t_err:
            torch.autocast(bad)
        with pytest.raises(exc) as e_err:
            ember.autocast(bad)
        assert str(e_err.value) == str(t_err.value)


def test_decorator_and_state_functions():
    for lib in (ember, torch):
        @lib.autocast("cpu")
        def f(a):
            return lib.mm(a, a).dtype, lib.is_autocast_enabled("cpu"), lib.is_autocast_cache_enabled()
        assert f(lib.ones(2, 2)) == (lib.bfloat16, True, True)
        assert not lib.is_autocast_enabled("cpu")
        with lib.autocast("cpu", cache_enabled=False):
            assert not lib.is_autocast_cache_enabled()
        assert lib.is_autocast_cache_enabled()
        assert lib.amp.is_autocast_available("cpu") and lib.amp.is_autocast_available("cuda")
        assert lib.autocast is lib.amp.autocast and lib.GradScaler is lib.amp.GradScaler
        assert lib.amp.autocast_mode.autocast is lib.amp.autocast
        assert lib.amp.grad_scaler.GradScaler is lib.GradScaler


def test_deprecated_cpu_forms_warn_as_torch():
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.cpu.amp.autocast():
                d = lib.mm(lib.ones(2, 2), lib.ones(2, 2)).dtype
            s = lib.cpu.amp.GradScaler()
        return str(d), s.is_enabled(), [(w.category.__name__, str(w.message)) for w in caught]
    assert run(ember) == run(torch)


def test_custom_fwd_bwd():
    def run(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float32)
            def forward(ctx, x):
                ctx.save_for_backward(x)
                seen.extend([str(x.dtype), lib.is_autocast_enabled("cpu"), str(lib.mm(x, x).dtype)])
                return x * x

            @staticmethod
            @lib.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                seen.append(lib.is_autocast_enabled("cpu"))
                return 2 * x * g

        class Plain(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu")
            def forward(ctx, x):
                return lib.mm(x, x)

            @staticmethod
            @lib.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                seen.append(lib.is_autocast_enabled("cpu"))
                return g

        seen = []
        x = lib.ones(2, 2, dtype=lib.bfloat16, requires_grad=True)
        with lib.autocast("cpu"):
            y = Square.apply(x)
            z = Plain.apply(lib.ones(2, 2, requires_grad=True))
        y.sum().backward()
        z.float().sum().backward()
        return str(y.dtype), str(x.grad.dtype), str(z.dtype), seen
    assert run(ember) == run(torch)
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        ember.amp.custom_fwd(lambda ctx: None, device_type=None)


def test_weight_cache_shares_one_cast_per_block():
    def run(lib):
        w, x = lib.ones(2, 2, requires_grad=True), lib.ones(2, 2)
        with lib.autocast("cpu"):
            a, b = lib.mm(x, w), lib.mm(x, w)
            shared = a.grad_fn.next_functions[1][0] is b.grad_fn.next_functions[1][0]
            with lib.autocast("cpu", cache_enabled=False):
                c = lib.mm(x, w)
            uncached = c.grad_fn.next_functions[1][0] is not a.grad_fn.next_functions[1][0]
        with lib.autocast("cpu"):
            d = lib.mm(x, w)
        fresh = d.grad_fn.next_functions[1][0] is not a.grad_fn.next_functions[1][0]
        (a.sum() + b.sum() + c.sum() + d.sum()).float().backward()
        return shared, uncached, fresh, w.grad.tolist()
    assert run(ember) == run(torch) == (True, True, True, [[8.0] * 2] * 2)


def _attention_pair(make_t, make_e):
    torch.manual_seed(0)
    tm = make_t()
    em = make_e()
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def test_multihead_attention_under_autocast():
    tm, em = _attention_pair(lambda: torch.nn.MultiheadAttention(8, 2, batch_first=True),
                             lambda: ember.nn.MultiheadAttention(8, 2, batch_first=True))
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    outs = []
    for lib, m in ((torch, tm), (ember, em)):
        with lib.autocast("cpu"):
            xx = lib.tensor(x)
            o, w = m(xx, xx, xx)
        outs.append((str(o.dtype), str(w.dtype), o.detach().float().numpy()))
    assert outs[0][:2] == outs[1][:2] == ("torch.bfloat16", "torch.bfloat16")
    np.testing.assert_allclose(outs[1][2], outs[0][2], rtol=3e-2, atol=3e-2)


@pytest.mark.xfail(strict=True, reason="PyTorch's eval/no_grad TransformerEncoderLayer takes its fused fast path, "
                   "whose inner ops autocast to a bfloat16 result; ember runs the layer's ops (float32 after the "
                   "residual adds, as PyTorch's own slow path gives)")
def test_transformer_layer_fast_path_dtype_under_autocast():
    def make(lib):
        return lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True).eval()
    tm, em = _attention_pair(lambda: make(torch), lambda: make(ember))
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    dtypes = []
    for lib, m in ((torch, tm), (ember, em)):
        with lib.no_grad(), lib.autocast("cpu"):
            dtypes.append(str(m(lib.tensor(x)).dtype))
    assert dtypes[0] == dtypes[1]


@pytest.mark.parametrize("cls", ["LSTM", "RNN", pytest.param("GRU", marks=pytest.mark.xfail(
    strict=True, reason="PyTorch's GRU on the CPU gives float32 under autocast (its cell mixes the float32 hidden "
    "state into the bfloat16 gates); ember's GRU layer primitive keeps bfloat16"))])
def test_recurrent_layers_under_autocast(cls):
    torch.manual_seed(0)
    tm, em = getattr(torch.nn, cls)(8, 6, batch_first=True), getattr(ember.nn, cls)(8, 6, batch_first=True)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    outs = []
    for lib, m in ((torch, tm), (ember, em)):
        with lib.autocast("cpu"):
            o = m(lib.tensor(x))[0]
        outs.append((str(o.dtype), o.detach().float().numpy()))
    assert outs[1][0] == outs[0][0]
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=3e-2, atol=3e-2)


def test_cast_under_no_grad_is_not_reused_with_grad():
    def run(lib):
        w, x = lib.ones(2, 2, requires_grad=True), lib.ones(2, 2)
        with lib.autocast("cpu"):
            with lib.no_grad():
                a = lib.mm(x, w)
            b = lib.mm(x, w)
        b.float().sum().backward()
        return a.requires_grad, b.requires_grad, w.grad.tolist()
    assert run(ember) == run(torch) == (False, True, [[2.0] * 2] * 2)


@pytest.mark.parametrize("kw", [{"enabled": 1}, {"enabled": None}, {"cache_enabled": 1}])
def test_non_bool_switches_raise_as_torch(kw):
    def run(lib):
        try:
            with lib.autocast("cpu", **kw):
                pass
        except TypeError as err:
            return str(err)
        finally:  # NOTE: PyTorch leaves what __enter__ set before the error: put it back
            if "cache_enabled" in kw:
                lib.autocast_decrement_nesting()
            lib.set_autocast_enabled("cpu", False)
            lib.set_autocast_dtype("cpu", lib.bfloat16)
            lib.set_autocast_cache_enabled(True)
        return None
    assert run(ember) == run(torch) is not None


def test_enter_and_exit_autocast_functions():
    for lib in (ember, torch):
        mode = lib.amp._enter_autocast("cpu", lib.float16)
        assert lib.is_autocast_enabled("cpu") and lib.mm(lib.ones(2, 2), lib.ones(2, 2)).dtype == lib.float16
        lib.amp._exit_autocast(mode)
        assert not lib.is_autocast_enabled("cpu") and lib.get_autocast_dtype("cpu") == lib.bfloat16


@pytest.mark.parametrize("device_type", ["cuda", "mps", "xpu", "hpu", "mtia", "maia", "xla", "ipu", "cpu:0"])
def test_autocast_on_other_device_types_as_torch(device_type):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autocast(device_type):
                seen = (lib.is_autocast_enabled(device_type), str(lib.get_autocast_dtype(device_type)))
        return seen, [str(w.message) for w in caught]
    if device_type == "cuda" and ember.cuda.is_available():
        pytest.skip("ember has cuda here (the stand-in)")
    assert run(ember) == run(torch)
