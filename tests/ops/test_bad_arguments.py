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
import os
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from ember._ops import FUNCTIONS, SPECS
from test_against_torch import FLOAT, Gen, _convert, _np, _pair, _values

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "core"))
from _core_helpers import same  # noqa: E402

BUILTIN_ERRORS = (TypeError, ValueError, IndexError, KeyError, NotImplementedError, AssertionError,
                  ZeroDivisionError, RuntimeError)
# ember and PyTorch differ in these; each entry says why (strict xfail: a change shows up here).
_PY_LEVEL = ("PyTorch's {0} is Python code that calls a Tensor method on its argument and leaks "
             "AttributeError for a non-Tensor; ember raises the TypeError its C++ ops would")
KNOWN = {
    **{f"{name}-out-short": "out= with too few tensors for a multi-output *_copy: PyTorch refuses the shape; ember "
       "resizes the given tensor (write_outs)" for name in ("split_copy", "split_with_sizes_copy", "unbind_copy")},
    **{f"split-arg0-{k}": _PY_LEVEL.format("torch.split") for k in ("None", "list", "ndarray")},
    **{f"tensordot-arg{i}-{k}": _PY_LEVEL.format("torch.tensordot")
       for i in (0, 1) for k in ("None", "list", "ndarray", "str")},
    **{f"norm-arg0-{k}": _PY_LEVEL.format("torch.norm") for k in ("None", "list", "ndarray", "str")},
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
# NOTE: torch-level helpers of issue 15 (ember/_runtime.py, ember/_tail.py) whose refusal of a wrong first
# argument differs from PyTorch's
KNOWN_FUNCTIONS.update({
    **{f"classproperty-{k}": "torch.classproperty wraps any object in its own descriptor class; ember's is a "
       "property of a classmethod (another type)" for k in ("None", "list", "ndarray", "str")},
    **{f"from_dlpack-{k}": "from_dlpack of a non-DLPack object: PyTorch's RuntimeError about the capsule, ember's "
       "ValueError from NumPy's PyCapsule check" for k in ("None", "list", "str")},
    "from_file-str": "torch.from_file creates a missing file; ember reads existing files only",
    **{f"get_device_module-{k}": "get_device_module() for the CPU: PyTorch returns torch.cpu, ember has no ember.cpu "
       "module" for k in ("None", "list", "ndarray")},
    "get_file_path-str": "get_file_path joins onto the installed package's folder (torch's vs ember's)",
    "set_default_tensor_type-str": "PyTorch imports the named module (ModuleNotFoundError); ember raises ValueError "
    "for a name that is not a legacy tensor type",
    **{f"sym_fresh_size-{k}": "sym_fresh_size of a non-number: PyTorch builds a tensor from it; ember returns it"
       for k in ("None", "list", "ndarray", "str")},
    "sym_sum-ndarray": "sym_sum of an ndarray: PyTorch returns the array; ember sums its elements",
})


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


# --- the cases the issue names, each against PyTorch ----------------------------------------------------
@pytest.mark.parametrize("code", [
    "T.exp([1.0])", "T.exp(None)", "T.exp(np.ones(2))", "T.exp('a')", "T.exp(1.0)", "T.exp(np.float64(2))",
    "T.add([1.0], T.ones(2))", "T.add(T.ones(2), [1.0])", "T.add(T.ones(2), None)", "T.add(T.ones(2), np.ones(2))",
    "T.sum([1.0, 2.0])", "T.trace(None)", "T.cat([T.ones(2), None])", "T.stack(None)", "T.linalg.inv([[1.0]])",
    "T.ones(2).view_as(None)", "T.ones(2).type_as([1])", "T.where(None, 1.0, 2.0)", "T.einsum('i', [1.0])",
    "T.atleast_1d(None)", "T.meshgrid(T.ones(2), None)",
])
def test_non_tensor_where_a_tensor_belongs(code):
    """PyTorch's TypeError naming the op's argument, never an internal AttributeError."""
    same(lambda T: eval(code, {"T": T, "np": np}), messages=False)
    _, ours = same(lambda T: eval(code, {"T": T, "np": np}), messages=False)
    assert ours.type is TypeError and "object has no attribute" not in ours.message


@pytest.mark.parametrize("code", [
    "T.ones(2) == None", "T.ones(2) != None", "None == T.ones(2)", "None != T.ones(2)", "T.ones(2) == [1., 1.]",
    "T.ones(2) == 'a'", "T.ones(2) != [1., 1.]", "T.ones(2) + None", "T.ones(2) + [1.0]", "T.ones(2) + 'a'",
    "T.ones(2) | None", "T.ones(2) + np.ones(2)", "T.ones(2) + np.ones(2, dtype=np.int64)",
    "T.ones(2, dtype=T.int32) + np.ones(2, dtype=np.int64)", "T.ones(2) + np.ones((3, 2))", "T.ones(2) + np.array(2.0)",
    "T.ones(2) * np.ones(2, dtype=np.float32)", "T.ones(2) - np.ones(2)", "T.ones(2) / np.ones(2)",
    "T.ones(2) ** np.ones(2)", "T.ones(2) // np.ones(2)", "T.ones(2) @ np.ones(2)", "np.ones(2) * T.ones(2)",
    "T.ones(2, dtype=T.bool) & np.ones(2, dtype=bool)", "T.ones(2) == np.ones(2)", "T.ones(2) != np.ones(2)",
    "T.ones(2) == np.ones(3)", "T.ones(2) < np.ones(2)", "T.ones(2) > np.ones(2)", "T.ones(2).add(np.ones(2))",
    "T.ones(2) + np.float64(2)", "T.ones(2) * np.int64(3)", "T.ones(2, requires_grad=True) + np.ones(2)",
    "T.ones(2, requires_grad=True) == np.ones(2)", "T.ones(2) @ [1., 2.]", "T.ones(1) in [None, 3]",
    "(lambda t: (t.__iadd__(np.ones(2)), t)[1])(T.ones(2))",
])
def test_operators_with_foreign_operands(code):
    """`t == None` is False; an ndarray operand goes through NumPy (a float64 tensor for float64 data)."""
    same(lambda T: eval(code, {"T": T, "np": np}), messages=False)


@pytest.mark.parametrize("code", [
    "T.zeros(2, dtype=float)", "T.zeros(2, dtype=int)", "T.zeros(2, dtype=bool)", "T.zeros(2, dtype=complex)",
    "T.ones(2, dtype=float)", "T.empty(2, dtype=int).dtype", "T.full((2,), 1, dtype=int)", "T.full((2,), 1, dtype=float)",
    "T.tensor([1], dtype=float)", "T.as_tensor([1], dtype=bool)", "T.arange(3, dtype=float)",
    "T.linspace(0, 1, 3, dtype=float)", "T.eye(2, dtype=int)", "T.zeros_like(T.ones(2), dtype=int)",
    "T.full_like(T.ones(2), 2, dtype=int)", "T.ones(2).new_zeros(2, dtype=float)", "T.randn(2, dtype=float).dtype",
    "T.rand(2, dtype=int)", "T.randint(0, 3, (2,), dtype=float).dtype", "T.ones(2).to(float)", "T.ones(2).to(int)",
    "T.ones(2).to(dtype=complex)", "T.ones(2).sum(dtype=float)", "T.ones(2).softmax(0, dtype=float)",
    "T.zeros(2, dtype='float32')", "T.zeros(2, dtype=np.float32)", "T.zeros(2, dtype=3)", "T.ones(2).sum(dtype='float')",
    "T.tensor([1], dtype='int64')", "T.arange(3, dtype='float')",
])
def test_python_types_and_strings_as_dtype(code):
    same(lambda T: eval(code, {"T": T, "np": np}), messages=False)


@pytest.mark.parametrize("code", [
    "T.max(T.ones(2, 3), 1, out=T.zeros(2))", "T.sort(T.ones(3), out=T.zeros(3))", "T.topk(T.ones(3), 2, out=T.zeros(2))",
    "T.kthvalue(T.ones(3), 2, out=T.zeros(2))", "T.mode(T.ones(3), out=T.zeros(2))",
    "T.median(T.ones(2, 3), 1, out=T.zeros(2))", "T.cummax(T.ones(3), 0, out=T.zeros(2))",
    "T.aminmax(T.ones(3), out=T.zeros(2))", "T.linalg.eigh(T.eye(2), out=T.zeros(2))",
    "T.linalg.slogdet(T.eye(2), out=T.zeros(2))", "T.linalg.qr(T.eye(2), out=T.zeros(2))",
    "T.linalg.svd(T.eye(2), out=T.zeros(2))", "T.max(T.ones(2, 3), 1, out=(T.zeros(2),))",
    "T.max(T.ones(2, 3), 1, out=(T.zeros(2), None))", "T.exp(T.ones(2), out=[1])", "T.exp(T.ones(2), out=np.ones(2))",
    "T.exp(T.ones(2), out=(T.zeros(2),))",
])
def test_wrong_kind_of_out(code):
    """A single tensor where a tuple of outputs belongs (and the reverse) is PyTorch's TypeError."""
    same(lambda T: eval(code, {"T": T, "np": np}), messages=False)


@pytest.mark.parametrize("code", [
    "T.max(T.ones(2, 3), 1, out=(T.zeros(2), T.zeros(2)))", "T.sort(T.ones(3), out=(T.zeros(3), T.zeros(3)))",
    "T.max(T.ones(2, 3), 1, out=(T.zeros(2, dtype=T.long), T.zeros(2, dtype=T.long)))",
    "T.max(T.ones(2, 3), 1, out=(T.zeros(2), T.zeros(2, dtype=T.int32)))",
    "T.sort(T.ones(3), out=(T.zeros(3, dtype=T.float64), T.zeros(3, dtype=T.long)))",
    "T.topk(T.ones(3), 2, out=(T.zeros(2), T.zeros(2)))", "T.argmax(T.ones(2), out=T.zeros(()))",
    "T.aminmax(T.ones(3), out=(T.zeros(()), T.zeros((), dtype=T.long)))",
    "T.linalg.eigh(T.eye(2), out=(T.zeros(2), T.zeros(2, 2, dtype=T.long)))",
    "T.linalg.qr(T.eye(2), out=(T.zeros(2, 2), T.zeros(2, 2, dtype=T.float64)))",
])
def test_out_of_the_wrong_dtype(code):
    """Tuple outputs (and argmax's) must have the result's dtype exactly: PyTorch's RuntimeError."""
    same(lambda T: eval(code, {"T": T, "np": np}))


@pytest.mark.parametrize("code", [
    "T.max(T.tensor([[1., 5.], [7., 2.]]), 1, out=(T.zeros(2), T.zeros(2, dtype=T.long)))",
    "T.sort(T.tensor([3., 1.]), out=(T.zeros(2), T.zeros(2, dtype=T.long)))",
    "T.linalg.slogdet(2 * T.eye(2), out=(T.zeros(()), T.zeros(())))",
    "T.linalg.eigh(T.tensor([[2., 1.], [1., 2.]]), out=(T.zeros(2), T.zeros(2, 2)))",
    "T.linalg.qr(T.tensor([[2., 1.], [1., 3.]]), out=(T.zeros(2, 2), T.zeros(2, 2)))",
    "T.masked_select(T.arange(4.), T.arange(4) > 1, out=T.zeros(2))",
    "T.nonzero(T.tensor([0., 1., 2.]), out=T.zeros((2, 1), dtype=T.long))",
])
def test_out_is_written(code):
    """out= is written (and returned), not ignored."""
    def run(T):
        result = eval(code, {"T": T, "np": np})
        out = result if isinstance(result, T.Tensor) else tuple(result)
        return out
    same(run, exact=False)


_REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "all", "any", "nansum",
               "nanmean", "count_nonzero", "std", "var", "std_mean", "var_mean", "logsumexp", "norm", "cumsum",
               "cumprod", "cummax", "cummin", "logcumsumexp", "median", "nanmedian", "mode", "sort", "argsort",
               "softmax", "log_softmax"]


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("op", _REDUCTIONS)
def test_reduction_over_dim_of_a_0d_tensor(op, dim):
    """A 0-d tensor has dims 0 and -1 for PyTorch's reductions (no NumPy AxisError)."""
    same(lambda T: getattr(T, op)(T.tensor(3.), dim), messages=False)


@pytest.mark.parametrize("code", [
    "T.tensor(3.).sum((0,))", "T.tensor(3.).sum((0, -1))", "T.tensor(3.).mean((0,), keepdim=True)",
    "T.tensor(3.).sum(1)", "T.tensor(3.).amax((0,), keepdim=True)", "T.tensor(3.).var(-1, correction=0)",
    "T.aminmax(T.tensor(3.), dim=0)", "T.tensor(3).sum(0)", "T.tensor(3.).flip(0)", "T.tensor(3.).roll(1, 0)",
    "T.topk(T.tensor(3.), 1, 0)", "T.kthvalue(T.tensor(3.), 1, 0)", "T.tensor(3.).max(-1, keepdim=True)",
    "T.ones(2, 3).sum(dim=1.5)", "T.ones(2, 3).sum(dim='a')", "T.softmax(T.ones(2), dim=1.0)",
    "T.ones(2, 3).max(dim=1.0)", "T.ones(2, 3).cumsum(dim=0.0)",
])
def test_dims_of_0d_tensors_and_non_integer_dims(code):
    same(lambda T: eval(code, {"T": T, "np": np}), messages=False)


def test_cuda_device_without_cuda():
    """No GPU: PyTorch's CPU build fails an assertion; ember without CuPy does the same, never an
    internal AttributeError. (With CuPy but no device ember says there is no driver, as a CUDA build.)"""
    from ember import _backends
    no_cupy = _backends.get("cuda").xp is None
    for code in ("T.zeros(2, device='cuda')", "T.ones(2, device='cuda:0')", "T.empty(2, device='cuda')",
                 "T.full((2,), 1., device='cuda')", "T.tensor([1.], device='cuda')", "T.randn(2, device='cuda')",
                 "T.arange(3, device='cuda')", "T.zeros_like(T.ones(2), device='cuda')", "T.ones(2).to('cuda')",
                 "T.ones(2).cuda()", "T.zeros(2, device=0)"):
        if torch.cuda.is_available() or ember.cuda.is_available():
            eval(code, {"T": ember})  # NOTE: a machine with a GPU runs these
        elif no_cupy:
            same(lambda T: eval(code, {"T": T}))
        else:
            with pytest.raises(RuntimeError, match="NVIDIA driver|accelerator"):
                eval(code, {"T": ember})
