"""torch.func.functionalize, linearize, replace_all_batch_norm_modules_, debug_unwrap against PyTorch."""
import numpy as np
import pytest
import torch

import ember


def _np(x):
    if isinstance(x, (tuple, list)):
        return [_np(i) for i in x]
    if isinstance(x, dict):
        return {k: _np(v) for k, v in x.items()}
    return x.detach().cpu().numpy() if hasattr(x, "detach") else x


def _close(a, b, rtol=1e-6):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for i, j in zip(a, b):
            _close(i, j, rtol)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k], rtol)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


def _both(build):
    return _np(build(torch)), _np(build(ember))


def _data(lib, dtype):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(5), dtype=getattr(lib, dtype))
    y = lib.tensor(rng.standard_normal((3, 3)), dtype=getattr(lib, dtype))
    return x, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linearize_values(dtype):
    def build(lib):
        x, y = _data(lib, dtype)

        def f(a, b):
            return a.sin() * a, (b @ b.tanh()).sum() + a.exp().sum()
        out, jvp_fn = lib.func.linearize(f, x, y)
        tx, ty = x.cos(), y * 0.5
        return [out, jvp_fn(tx, ty), jvp_fn(x, y)]
    t, e = _both(build)
    _close(t, e, rtol=1e-5 if dtype == "float32" else 1e-10)


def test_linearize_pytrees():
    def build(lib):
        x, _ = _data(lib, "float64")
        out, jvp_fn = lib.func.linearize(lambda d: {"s": d["a"].exp(), "t": [d["a"] * d["b"]]},
                                         {"a": x, "b": x.cos()})
        return [out, jvp_fn({"a": lib.ones(5, dtype=lib.float64), "b": x})]
    t, e = _both(build)
    _close(t, e, rtol=1e-12)


@pytest.mark.parametrize("case", ["count", "shape", "dtype", "nesting", "not_tensor"])
def test_linearize_errors(case):
    def run(lib):
        x, y = _data(lib, "float64")
        if case == "not_tensor":
            return lib.func.linearize(lambda a: a * 2, 3.0)
        _, jvp_fn = lib.func.linearize(lambda a, b: a.sum() + b.sum(), x, y)
        if case == "count":
            return jvp_fn(x)
        if case == "shape":
            return jvp_fn(lib.ones(4, dtype=lib.float64), y)
        if case == "dtype":
            return jvp_fn(x.float(), y)
        return jvp_fn((x, y))
    errors = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as info:
            run(lib)
        errors.append(info.value)
    assert type(errors[1]) is type(errors[0])
    if case in ("shape", "dtype", "not_tensor"):
        assert str(errors[1]) == str(errors[0])
    else:
        assert str(errors[1]).startswith("Expected the tangents ")


def test_linearize_gradcheck_like():
    # NOTE: jvp_fn is linear in the tangents: check it against finite differences of func in float64
    x, y = _data(ember, "float64")

    def f(a):
        return (a * a.sin()).cumsum(0)
    _, jvp_fn = ember.func.linearize(f, x)
    t = ember.tensor(np.linspace(-1, 1, 5))
    eps = 1e-6
    fd = (f(x + eps * t) - f(x - eps * t)) / (2 * eps)
    np.testing.assert_allclose(jvp_fn(t).numpy(), fd.numpy(), rtol=1e-6, atol=1e-8)


def test_functionalize_runs_the_function():
    def build(lib):
        x, y = _data(lib, "float64")
        out = []
        a = x.clone()
        out.append(lib.func.functionalize(lambda t: t.add_(1))(a))
        out.append(a)  # NOTE: the input is written, as PyTorch's functionalize copies the result back

        def h(t):
            v = t.view(-1)
            v.mul_(2)
            return t
        b = y.clone()
        out.append(lib.func.functionalize(h, remove="mutations_and_views")(b))
        out.append(b)
        out.append(lib.func.grad(lib.func.functionalize(lambda t: t.clone().sin_().sum()))(x))
        return out
    t, e = _both(build)
    _close(t, e, rtol=1e-12)


def test_functionalize_bad_remove():
    msgs = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            lib.func.functionalize(lambda t: t, remove="foo")
        msgs.append(str(info.value))
    assert msgs[1] == msgs[0]


def test_replace_all_batch_norm_modules_():
    def build(lib):
        lib.manual_seed(0)
        nn = lib.nn
        m = nn.Sequential(nn.BatchNorm1d(3), nn.Sequential(nn.BatchNorm2d(2, momentum=0.3)), nn.Linear(2, 2),
                          nn.BatchNorm1d(2, track_running_stats=False), nn.InstanceNorm1d(3, track_running_stats=True))
        assert lib.func.replace_all_batch_norm_modules_(m) is m
        state = [(type(x).__name__, x.running_mean is None, x.running_var is None,
                  getattr(x, "num_batches_tracked", 0) is None, x.track_running_stats)
                 for x in m.modules() if hasattr(x, "track_running_stats")]
        bn = m[0]
        x = lib.tensor(np.arange(12.0).reshape(4, 3) ** 1.5, dtype=lib.float32)
        bn.eval()  # NOTE: without running stats, eval mode normalizes with the batch statistics
        return [state, bn(x), sorted(bn.state_dict())]
    t, e = _both(build)
    assert t[0] == e[0] and t[2] == e[2]
    _close(t[1], e[1], rtol=1e-5)


def test_replace_on_a_batch_norm_root():
    for lib in (torch, ember):
        bn = lib.nn.BatchNorm1d(4)
        lib.func.replace_all_batch_norm_modules_(bn)
        assert bn.running_mean is None and not bn.track_running_stats


def test_debug_unwrap():
    for lib in (torch, ember):
        x, y = _data(lib, "float64")
        assert lib.func.debug_unwrap(x) is x
        seen = []

        def f(a):
            seen.append((tuple(lib.func.debug_unwrap(a).shape), tuple(lib.func.debug_unwrap(a, recurse=False).shape)))
            return a
        lib.func.vmap(lib.func.vmap(f))(y.reshape(3, 3, 1))
        assert seen == [((3, 3, 1), (3, 1))], lib.__name__
