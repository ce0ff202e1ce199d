"""The bad-argument sweep: every registered op called wrongly, in ember and in PyTorch.

Generated from the op registry: for each OpSpec reached as `torch.<name>` (or a Tensor method),
one valid call is drawn, then each tensor argument is replaced in turn by None, a nested list,
an ndarray and a string, `dim=` by a float and by an out-of-range int, and `out=` by a list, by
a single tensor where the op returns a tuple, by an index tensor of the wrong dtype. Each call runs
in both libraries: when PyTorch raises, ember must raise the same kind of exception (and name the
argument or the op where PyTorch's message names the argument); when PyTorch accepts the call
(ndarray operands of the operators, dim 0 of a 0-d tensor, ...), ember must give its result.
Then every registered torch-level function gets None, a list, an ndarray and a string as its
first argument. Known gaps are listed in KNOWN with the reason (strict xfail).
"""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember._ops import FUNCTIONS, SPECS
from test_against_torch import FLOAT, Gen, _convert, _np, _pair, _values

BUILTIN_ERRORS = (TypeError, ValueError, IndexError, KeyError, NotImplementedError, AssertionError,
                  ZeroDivisionError, RuntimeError)
# ember and PyTorch differ in these; each entry says why (strict xfail: a change shows up here).
_PY_LEVEL = ("PyTorch's {0} is Python code that calls a Tensor method on its argument and leaks "
             "AttributeError for a non-Tensor; ember raises the TypeError its C++ ops would")
KNOWN = {
    **{f"split-arg0-{k}": _PY_LEVEL.format("torch.split") for k in ("None", "list", "ndarray")},
    **{f"tensordot-arg{i}-{k}": _PY_LEVEL.format("torch.tensordot")
       for i in (0, 1) for k in ("None", "list", "ndarray", "str")},
    **{f"norm-arg0-{k}": _PY_LEVEL.format("torch.norm") for k in ("None", "list", "ndarray", "str")},
    "scatter-arg3-None": "ember's scatter takes src=None as 'no src' (the value= form); PyTorch refuses a "
                         "positional None src with a TypeError",
}


# --- the valid call each op starts from ----------------------------------------------------------------
def _shapes(spec):
    if spec.shapes in ("unary", "reduce"):
        return [(2, 3)] * spec.arity
    if spec.shapes in ("binary", "ternary"):
        return [(2, 3)] * spec.arity
    return list(spec.shapes[0])


def _base(spec):
    """(torch args, ember args, kwargs) of one valid call of `spec`, drawn with a fixed seed."""
    dtype = spec.dtypes[0]
    rng = np.random.default_rng(0)
    kw = dict(spec.kwargs[0])
    if spec.sample is not None:
        drawn, extra = spec.sample(Gen(rng, dtype, spec.domain))
        pairs = [_convert(x) for x in drawn]
        kw.update(extra)
    else:
        pairs = [_pair(_values(rng, s, dtype, spec.domain), dtype) for s in _shapes(spec)[:spec.arity]]
    return [p[0] for p in pairs], [p[1] for p in pairs], kw


def _call(mod, spec, args, kw):
    if spec.method:
        return getattr(args[0], spec.name)(*args[1:], **kw)
    fn = mod
    for part in spec.name.split("."):
        fn = getattr(fn, part)
    return fn(*args, **kw)


def _run(mod, spec, args, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _call(mod, spec, args, kw), None
        except Exception as exc:  # noqa: BLE001 - the exception is what we compare
            return None, exc


# --- the wrong calls ------------------------------------------------------------------------------------
def _wrong_values(t):
    """(label, torch value, ember value) replacing the tensor `t` (a torch tensor)."""
    arr = t.detach().numpy() if t.dtype != torch.bfloat16 else t.detach().float().numpy()
    yield "None", None, None
    yield "list", arr.tolist(), arr.tolist()
    yield "ndarray", arr.copy(), arr.copy()
    yield "str", "a", "a"


def _mutations(spec, t_args, e_args, kw, t_out):
    """Each wrong call: (label, torch args, ember args, torch kw, ember kw)."""
    first = 1 if spec.method else 0
    for i in range(first, len(t_args)):
        if not isinstance(t_args[i], torch.Tensor):
            continue
        for label, tv, ev in _wrong_values(t_args[i]):
            ta, ea = list(t_args), list(e_args)
            ta[i], ea[i] = tv, ev
            yield f"arg{i}-{label}", ta, ea, kw, kw
    if isinstance(kw.get("dim"), int):
        ndim = t_args[0].dim() if t_args and isinstance(t_args[0], torch.Tensor) else 1
        for label, value in (("float", 1.5), ("range", ndim + 3), ("str", "a")):
            yield f"dim-{label}", t_args, e_args, {**kw, "dim": value}, {**kw, "dim": value}
    if spec.method:
        return
    yield "out-list", t_args, e_args, {**kw, "out": [1]}, {**kw, "out": [1]}
    yield "out-ndarray", t_args, e_args, {**kw, "out": np.zeros(2)}, {**kw, "out": np.zeros(2)}
    if isinstance(t_out, tuple) and all(isinstance(o, torch.Tensor) for o in t_out):
        first_out = t_out[0]
        yield ("out-single", t_args, e_args, {**kw, "out": torch.zeros_like(first_out)},
               {**kw, "out": ember.zeros(tuple(first_out.shape), dtype=getattr(ember, _name(first_out)))})
        t_outs = [torch.zeros_like(o) for o in t_out]
        e_outs = [ember.zeros(tuple(o.shape), dtype=getattr(ember, _name(o))) for o in t_out]
        for j, o in enumerate(t_out):
            if o.dtype == torch.int64:  # an index output given a float tensor
                t_bad, e_bad = list(t_outs), list(e_outs)
                t_bad[j] = torch.zeros(o.shape)
                e_bad[j] = ember.zeros(tuple(o.shape))
                yield f"out{j}-float", t_args, e_args, {**kw, "out": tuple(t_bad)}, {**kw, "out": tuple(e_bad)}
        yield "out-short", t_args, e_args, {**kw, "out": tuple(t_outs[:1])}, {**kw, "out": tuple(e_outs[:1])}
    elif isinstance(t_out, torch.Tensor):
        yield ("out-tuple", t_args, e_args, {**kw, "out": (torch.zeros_like(t_out),)},
               {**kw, "out": (ember.zeros(tuple(t_out.shape), dtype=getattr(ember, _name(t_out))),)})


def _name(t):
    return str(t.dtype).split(".")[1]


def _specs():
    seen = set()
    for spec in SPECS:
        if spec.call is not None or spec.name in seen:
            continue
        seen.add(spec.name)
        yield spec


def _cases():
    for spec in _specs():
        t_args, e_args, kw = _base(spec)
        t_out, t_err = _run(torch, spec, t_args, kw)
        e_out, e_err = _run(ember, spec, e_args, kw)
        if t_err is not None or e_err is not None:
            continue  # NOTE: no valid call to start from (the generic test compares these errors)
        for label, *call in _mutations(spec, t_args, e_args, kw, t_out):
            case_id = f"{spec.name}-{label}"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[case_id])] if case_id in KNOWN else []
            yield pytest.param(spec, *call, id=case_id, marks=marks)


CASES = list(_cases())


# --- comparing ------------------------------------------------------------------------------------------
def _builtin(exc):
    for kind in BUILTIN_ERRORS:
        if isinstance(exc, kind):
            return kind
    return type(exc)


def _same_failure(t_err, e_err, names):
    assert e_err is not None, f"torch raised {type(t_err).__name__}({t_err}); ember accepted the call"
    kind = _builtin(t_err)
    assert isinstance(e_err, kind), (f"torch raised {type(t_err).__name__}({t_err}); "
                                     f"ember raised {type(e_err).__name__}({e_err})")
    t_msg, e_msg = str(t_err), str(e_err)
    if "argument '" in t_msg:
        arg = t_msg.split("argument '", 1)[1].split("'", 1)[0]
        assert any(n in e_msg for n in (arg, *names)), f"ember's message names neither '{arg}' nor the op: {e_msg}"


def _same_result(t_out, e_out):
    t_list = list(t_out) if isinstance(t_out, (tuple, list)) else [t_out]
    e_list = list(e_out) if isinstance(e_out, (tuple, list)) else [e_out]
    assert len(t_list) == len(e_list)
    for t, e in zip(t_list, e_list):
        if isinstance(t, torch.Tensor):
            assert isinstance(e, ember.Tensor), f"ember returned {type(e).__name__}"
            assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
            tol = 1e-2 if _name(t) in FLOAT - {"float32", "float64"} else 1e-5
            np.testing.assert_allclose(_np(e), _np(t), rtol=tol, atol=tol, equal_nan=True)
        else:
            assert type(e) is type(t) and e == t


def _check(t_res, e_res, names):
    (t_out, t_err), (e_out, e_err) = t_res, e_res
    if t_err is not None:
        _same_failure(t_err, e_err, names)
    else:
        if e_err is not None:
            raise AssertionError(f"torch accepted the call; ember raised {type(e_err).__name__}({e_err})")
        _same_result(t_out, e_out)


@pytest.mark.parametrize("spec,t_args,e_args,t_kw,e_kw", CASES)
def test_wrong_argument_like_torch(spec, t_args, e_args, t_kw, e_kw):
    names = (spec.name, spec.name.split(".")[-1])
    _check(_run(torch, spec, t_args, t_kw), _run(ember, spec, e_args, e_kw), names)


# --- every torch-level function, wrong first argument ---------------------------------------------------
FIRST_ARGS = {"None": None, "list": [1.0, 2.0], "ndarray": np.ones(2), "str": "a"}
KNOWN_FUNCTIONS = {f"norm-{k}": _PY_LEVEL.format("torch.norm") for k in FIRST_ARGS}


def _function_cases():
    for name in sorted(FUNCTIONS):
        if not callable(getattr(torch, name, None)) or name.startswith("_"):
            continue
        for label in FIRST_ARGS:
            case_id = f"{name}-{label}"
            marks = ([pytest.mark.xfail(strict=True, reason=KNOWN_FUNCTIONS[case_id])]
                     if case_id in KNOWN_FUNCTIONS else [])
            yield pytest.param(name, label, id=case_id, marks=marks)


class _Fn:
    """A spec-like stand-in for a torch-level function called with one argument."""
    method = False

    def __init__(self, name):
        self.name = name


@pytest.mark.parametrize("name,label", list(_function_cases()))
def test_wrong_first_argument_like_torch(name, label):
    value = FIRST_ARGS[label]
    fn = _Fn(name)
    t_arg = value.copy() if isinstance(value, (list, np.ndarray)) else value
    e_arg = value.copy() if isinstance(value, (list, np.ndarray)) else value
    _check(_run(torch, fn, [t_arg], {}), _run(ember, fn, [e_arg], {}), (name,))


def test_sweep_is_large():
    """The sweep covers the registry: hundreds of ops, thousands of wrong calls."""
    assert len({c.values[0].name for c in CASES}) >= 250
    assert len(CASES) >= 2000
    assert len(list(_function_cases())) >= 1200
