"""Complex autograd against PyTorch: products conjugate the other factor, holomorphic functions
give grad * conj(f'(z)); ops whose backward is written for real inputs only refuse complex inputs
instead of returning a wrong gradient."""
import collections
import os
import sys
import zlib

import numpy as np
import pytest
import torch

import ember
from ember._ops import SPECS
from ember.autograd.function import Primitive

Z1 = np.array([1 + 2j, -0.5 + 1j, 3 - 1j], dtype=np.complex128)
Z2 = np.array([0.5 - 1j, 2 + 0.5j, -1 + 1j], dtype=np.complex128)


def _grads(lib, fn):
    a = lib.from_numpy(Z1.copy()).requires_grad_()
    b = lib.from_numpy(Z2.copy()).requires_grad_()
    fn(lib, a, b).backward()
    return [np.asarray(t.grad.resolve_conj().detach().numpy() if lib is torch else t.grad.numpy()) for t in (a, b)]


@pytest.mark.parametrize("name,fn", [
    ("mul.real", lambda lib, a, b: (a * b).real.sum()),
    ("mul.imag", lambda lib, a, b: (a * b).imag.sum()),
    ("square", lambda lib, a, b: (a * a).real.sum() + (b * 2j).imag.sum()),
    ("div", lambda lib, a, b: (a / b).real.sum()),
    ("rdiv", lambda lib, a, b: (2 / a).imag.sum() + (b * a.conj()).real.sum()),
    ("abs of product", lambda lib, a, b: (a * b).abs().sum()),
    ("pow", lambda lib, a, b: (a ** b).real.sum() + (2 ** a).imag.sum() + (a ** 1.5).real.sum()),
])
def test_complex_product_gradients_match_torch(name, fn):
    for e, t in zip(_grads(ember, fn), _grads(torch, fn)):
        np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


HOLOMORPHIC = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "sin",
               "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sinc",
               "sigmoid", "neg", "square", "prod", "abs"]


@pytest.mark.parametrize("op", HOLOMORPHIC)
def test_pointwise_complex_gradients_match_torch(op):
    z = (np.array([0.3, 0.9, 1.2, 0.5]) + 1j * np.array([0.4, -0.7, 0.2, -0.1])).astype(np.complex128)
    grads = []
    for lib in (torch, ember):
        x = lib.from_numpy(z.copy()).requires_grad_()
        out = getattr(lib, op)(x)
        loss = (out.real.sum() + 0.3 * out.imag.sum()) if out.is_complex() else out.sum()
        loss.backward()
        grads.append(x.grad.resolve_conj().detach().numpy() if lib is torch else x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)


def test_complex_second_derivative_matches_torch():
    z = np.array([0.3 + 0.4j, 1.2 - 0.7j], dtype=np.complex128)
    grads = []
    for lib in (torch, ember):
        x = lib.from_numpy(z.copy()).requires_grad_()
        (g,) = lib.autograd.grad(x.exp().sin().real.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g.conj()).real.sum(), x)
        grads.append(gg.resolve_conj().detach().numpy() if lib is torch else gg.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10)


class _RealOnlyTwice(Primitive):
    """A primitive that declares nothing about complex numbers (as every new ember op starts)."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_undeclared_primitive_refuses_complex():
    z = ember.from_numpy(Z1.copy()).requires_grad_()
    loss = _RealOnlyTwice.apply(z).real.sum()
    with pytest.raises(NotImplementedError, match="_RealOnlyTwiceBackward0 for complex inputs"):
        loss.backward()
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    _RealOnlyTwice.apply(x).sum().backward()  # real inputs are unaffected
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_undeclared_primitive_refuses_complex_output_of_real_inputs():
    class _ToComplex(Primitive):
        @staticmethod
        def forward(ctx, x):
            return x * (1 + 1j)

        @staticmethod
        def backward(ctx, g):
            return g.real

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="complex"):
        _ToComplex.apply(x).imag.sum().backward()


def test_custom_function_stays_permissive_for_complex():
    """Users' autograd.Function runs its backward for complex inputs, as in PyTorch."""
    grads = []
    for lib in (torch, ember):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return g * 3

        z = lib.from_numpy(Z1.copy()).requires_grad_()
        Scale.apply(z).imag.sum().backward()
        grads.append(z.grad.resolve_conj().detach().numpy() if lib is torch else z.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0])


@pytest.mark.parametrize("name,fn", [
    ("addcmul", lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5)),
    ("addcmul complex value", lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5 - 2j)),
    ("addcdiv", lambda lib, a, b, c: lib.addcdiv(a, b, c, value=-1.5)),
    ("logsumexp", lambda lib, a, b, c: lib.logsumexp(a * b + c, 1)),
    ("sum mean", lambda lib, a, b, c: (a * b).sum(0) + (b - c).mean(1, keepdim=True)),
    ("matmul", lambda lib, a, b, c: a @ b.mT @ c),
    ("sgn", lambda lib, a, b, c: (a * b).sgn()),
    ("cumprod", lambda lib, a, b, c: (a * b).cumprod(1)),
    ("var std", lambda lib, a, b, c: a.var(1) * b.std(0).sum()),
    ("prod with dtype", lambda lib, a, b, c: lib.prod(a * b, 1, dtype=lib.float64)),
    ("logaddexp", lambda lib, a, b, c: lib.logaddexp(a, b * c)),
    ("cast", lambda lib, a, b, c: a.real.to(lib.complex64) * b.to(lib.complex64)),
    ("complex alpha and weight", lambda lib, a, b, c: lib.add(a, b, alpha=1.5 - 1j) - lib.rsub(b, c, alpha=0.5 + 1j)
        + lib.lerp(a, c, 0.3 + 0.2j) + (2 - 1j) / c),
    ("cat fill_", lambda lib, a, b, c: lib.cat([a, (b * 1).fill_(c[0, 0])], 1)),
    # NOTE: complex eigen/singular vectors carry a free phase: PyTorch differentiates only losses blind to it
    ("eigh", lambda lib, a, b, c: (lambda w, V: (V * V.conj()).real + w)(*lib.linalg.eigh(a[:, :3] + a[:, :3].mH))),
    ("eig", lambda lib, a, b, c: (lambda w, V: (V * w.unsqueeze(-2)) @ lib.linalg.inv(V))(*lib.linalg.eig(a[:, :3]))),
    ("svd", lambda lib, a, b, c: (lambda U, S, Vh: (U * S.unsqueeze(-2)) @ Vh + (U.abs() ** 2).sum())(
        *lib.linalg.svd(a, full_matrices=False))),
])
def test_issue_9_ops_match_torch_on_3x4_complex128(name, fn):
    """The ops issue 9 found off by up to 10 (addcmul, addcdiv, logsumexp), and others fixed with them."""
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4)) for _ in range(3)]
    results = []
    for lib in (torch, ember):
        leaves = [lib.from_numpy(a.copy()).requires_grad_() for a in arrays]
        out = fn(lib, *leaves)
        cot_rng = np.random.default_rng(1)  # NOTE: the same cotangent for both libraries
        shape = tuple(out.shape)
        cot = cot_rng.standard_normal(shape) + (1j * cot_rng.standard_normal(shape) if out.is_complex() else 0)
        grads = lib.autograd.grad(out, leaves, lib.from_numpy(np.asarray(cot)), allow_unused=True)
        results.append([None if g is None else (g.resolve_conj().detach().numpy() if lib is torch else g.numpy())
                        for g in grads])
    rtol = 1e-10 if out.dtype in (ember.float64, ember.complex128) else 1e-5
    for t, e in zip(*results):
        if t is None:
            assert e is None or not np.any(e)
            continue
        np.testing.assert_allclose(e, t, rtol=rtol, atol=rtol / 100)


def test_real_inputs_unaffected():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * np.array([2.0, 3.0]), rtol=1e-6)


# --- the sweep: every OpSpec with complex inputs, against PyTorch ---------------------------------------------
# NOTE: each spec's inputs are drawn as in tests/ops (its real dtype), then every float array gets a random
# imaginary part. Where PyTorch accepts the complex inputs and differentiates them, ember must give the same
# gradient (all differentiable outputs, random complex cotangents) or refuse with NotImplementedError.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "ops"))
from test_against_torch import Gen, _call, _convert, _np, _outputs, _small_shapes, _values  # noqa: E402

OK = ("match", "refused", "torch refuses", "not differentiable", "no complex input")
KNOWN = {  # spec name: (status, why); each must still fail this way, or come off the list
    "as_strided_scatter": ("WRONG", "PyTorch 2.13's input gradient of as_strided_scatter is the complement of the right "
                           "one (it fails torch.autograd.gradcheck); ember's is checked against finite differences in "
                           "tests/core/test_namespace_tail.py"),
}


def _complexify(item, rng, dtype):
    if isinstance(item, np.ndarray):
        if item.dtype.kind != "f":
            return item
        return np.asarray(item + 1j * rng.uniform(-1, 1, item.shape)).astype(dtype)
    if isinstance(item, (list, tuple)) and any(isinstance(x, (np.ndarray, list, tuple)) for x in item):
        return type(item)(_complexify(x, rng, dtype) for x in item)
    return item


def _hermitian(a, name):
    """Cholesky's inputs stay Hermitian positive definite (and its factor's diagonal real)."""
    eye = np.eye(a.shape[-1], dtype=a.dtype)
    if name == "cholesky_inverse":
        return a - 1j * (a.imag * eye)
    return (a + a.swapaxes(-1, -2).conj()) / 2 + a.shape[-1] * eye


def _draw_complex(spec, rng, dtype):
    if dtype in spec.dtypes:
        return spec.sample(Gen(rng, dtype, spec.domain)) if spec.sample is not None else None
    base = next((d for d in ("float64", "float32") if d in spec.dtypes), None)
    if base is None:
        return None
    if spec.sample is not None:
        drawn, extra = spec.sample(Gen(rng, base, spec.domain))
    else:
        drawn, extra = [_values(rng, s, base, spec.domain) for s in _small_shapes(spec)[: spec.arity]], {}
    drawn = [_complexify(x, rng, dtype) for x in drawn]
    if "cholesky" in spec.name:
        drawn = [_hermitian(x, spec.name) if isinstance(x, np.ndarray) and x.dtype.kind == "c" else x for x in drawn]
    return drawn, extra


def _complex_leaves(values, kind):
    for v in values:
        if isinstance(v, kind):
            if v.is_complex():
                yield v
        elif isinstance(v, (list, tuple)):
            yield from _complex_leaves(v, kind)


def _close(e, t, dtype):
    rtol, atol = (1e-6, 1e-8) if dtype == "complex128" else (1e-3, 1e-4)
    return e.shape == t.shape and np.allclose(e, t, rtol=rtol, atol=atol, equal_nan=True)


def _sweep_case(spec, kw, dtype):
    """(status, detail) of one spec with complex inputs: see OK and KNOWN."""
    rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
    drawn = _draw_complex(spec, rng, dtype)
    if drawn is None:
        return "no complex input", ""
    pairs = [_convert(x) for x in drawn[0]]
    t_in, e_in, kw = [p[0] for p in pairs], [p[1] for p in pairs], {**kw, **drawn[1]}
    t_leaves, e_leaves = list(_complex_leaves(t_in, torch.Tensor)), list(_complex_leaves(e_in, ember.Tensor))
    if not t_leaves:
        return "no complex input", ""
    for t, e in zip(t_leaves, e_leaves):
        t.requires_grad_(True)
        e.requires_grad_(True)
    try:
        torch.manual_seed(0)  # NOTE: ops with a random sketch (svd_lowrank) draw the same numbers in both libraries,
        t_out = _outputs(_call(torch, spec, t_in, kw))  # whatever earlier tests left the generators at
    except Exception:  # noqa: BLE001 - PyTorch refuses complex inputs here
        return "torch refuses", ""
    idx = [i for i, o in enumerate(t_out) if isinstance(o, torch.Tensor) and o.requires_grad and o.numel()]
    if not idx:
        return "not differentiable", ""
    cots = []
    for i in idx:
        shape = tuple(t_out[i].shape)
        c = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if t_out[i].is_complex() else 0)
        cots.append(np.asarray(c, dtype=_np(t_out[i]).dtype))
    try:
        t_grads = torch.autograd.grad([t_out[i] for i in idx], t_leaves, [torch.from_numpy(c) for c in cots],
                                      allow_unused=True)
    except Exception:  # noqa: BLE001 - PyTorch has no complex derivative here
        return "torch refuses", ""
    try:
        ember.manual_seed(0)
        e_out = _outputs(_call(ember, spec, e_in, kw))
    except Exception as exc:  # noqa: BLE001
        return "ember forward error", f"{type(exc).__name__}: {exc}"
    for t, e in zip(t_out, e_out):
        if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex()):
            if str(t.dtype) != str(e.dtype) or not _close(_np(e), _np(t), dtype):
                return "forward differs", f"{e.dtype} vs torch {t.dtype}"
    try:
        e_grads = ember.autograd.grad([e_out[i] for i in idx], e_leaves, [ember.from_numpy(c) for c in cots],
                                      allow_unused=True)
    except NotImplementedError as exc:
        return ("refused", str(exc)) if "complex" in str(exc) else ("ember backward error", str(exc))
    except Exception as exc:  # noqa: BLE001
        return "ember backward error", f"{type(exc).__name__}: {exc}"
    for i, (tg, eg) in enumerate(zip(t_grads, e_grads)):
        zeros = np.zeros(tuple(e_leaves[i].shape))
        t, e = (zeros if tg is None else _np(tg)), (zeros if eg is None else _np(eg))
        if not _close(e, t, dtype):
            return "WRONG", f"gradient of input {i} differs from torch's"
    return "match", ""


def _sweep_cases():
    seen = set()
    for spec in SPECS:
        for i, kw in enumerate(spec.kwargs):
            key = (spec.name, i, spec.call)
            if key not in seen:
                seen.add(key)
                yield spec, kw


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_gradient_sweep_over_every_spec(dtype):
    """Declared ops match PyTorch's complex gradient; undeclared ones refuse; none is silently wrong."""
    results = [(spec.name, *_sweep_case(spec, kw, dtype)) for spec, kw in _sweep_cases()]
    bad = [r for r in results if r[1] not in OK and KNOWN.get(r[0], ("",))[0] != r[1]]
    assert not bad, "\n".join(f"{name}: {status} {detail}" for name, status, detail in bad)
    for name, (status, why) in KNOWN.items():
        got = {r[1] for r in results if r[0] == name}
        assert got == {status}, f"{name} now gives {got}: update KNOWN ({why})"
    counts = collections.Counter(status for _, status, _ in results)
    ops = {status: len({name for name, s, _ in results if s == status}) for status in counts}
    print(f"\n{dtype}: {len(results)} specs swept; specs by status {dict(counts)}; ops by status {ops}")
    assert counts["match"] >= 335  # NOTE: the sweep must keep reaching the ops it checks today


@pytest.mark.parametrize("case", [
    lambda t, x: x.clone().eq_(t.tensor([0.5, 1.5, 2.0])), lambda t, x: x.clone().ne_(1.0),
    lambda t, x: x.clone().lt_(t.tensor(1.0)), lambda t, x: x.clone().greater_equal_(x.detach() * 2),
    lambda t, x: _slice_compared(x), lambda t, x: t.tensor([0.5, 1.0, 2.0]).le_(x),
], ids=["eq-tensor", "ne-number", "lt-0d", "ge-alias", "gt-on-a-slice", "le-other-needs-grad"])
def test_inplace_comparison_records_a_zero_gradient(case):
    """PyTorch records x.eq_(y) on a tensor in the graph with EqBackward0/1, whose gradient is zero
    (not the history before the write); the names and edges match too."""
    results = []
    for lib in (torch, ember):
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = case(lib, x)
        (g,) = lib.autograd.grad(y.sum(), x)
        name = type(y.grad_fn).__name__
        edges = [type(f).__name__ for f, _ in y.grad_fn.next_functions] if name != "CopySlices" else None
        results.append((g.tolist(), name, y.requires_grad, edges))
    assert results[1] == results[0]


def _slice_compared(x):
    z = x.clone()
    z[:2].gt_(0.7)
    return z


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_two_outputs_of_one_node_as_roots(dtype):
    """The engine walks a node once when several of its outputs seed the backward (slogdet's two)."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 3)) + (1j * rng.standard_normal((3, 3)) if dtype == "complex128" else 0)
    grads = []
    for lib in (torch, ember):
        x = lib.from_numpy(a.copy()).requires_grad_()
        sign, logabs = lib.linalg.slogdet(x)
        seeds = [lib.from_numpy(np.asarray(0.7 - 0.2j if sign.is_complex() else 0.7)), lib.from_numpy(np.asarray(0.3))]
        (g,) = lib.autograd.grad([sign, logabs], x, seeds)
        grads.append(g.resolve_conj().detach().numpy() if lib is torch else g.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_complex_logcumsumexp_forward_matches_torch(dim):
    rng = np.random.default_rng(dim + 5)
    z = rng.uniform(-3, 3, (3, 5)) + 1j * rng.uniform(-3, 3, (3, 5))
    z[0, 0] = -np.inf
    ours = ember.logcumsumexp(ember.from_numpy(z), dim)
    theirs = torch.logcumsumexp(torch.from_numpy(z), dim)
    assert ours.dtype is ember.complex128
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
