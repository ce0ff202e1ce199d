"""A view fuzzer: random chains of view ops, valid and invalid, run on PyTorch and ember side by side.

Each step draws an op (as_strided, narrow, unfold, diagonal, select, view, view(dtype), transpose,
permute, movedim, expand, slicing, split/chunk, unsqueeze/squeeze, set_) with random arguments, some
outside the valid range. When PyTorch raises, ember must raise the same exception type; when PyTorch
succeeds, the results must agree in shape, stride, storage offset and values, and a write through the
result (fill_) must change the base's memory in the same way (or be refused in both).
"""
import collections
import random
import warnings

import numpy as np
import pytest
import torch

import ember

ROOT_DTYPES = ("float32", "float64", "int32", "int16", "int8")
VIEW_DTYPES = ("float32", "float64", "int32", "int16", "int8", "uint8", "int64", "float16", "complex64")


# --- drawing steps ------------------------------------------------------------------------------------------
def _dim(r, nd):
    """A dim index, now and then out of range."""
    return r.randint(-nd - 1, nd) if nd else r.choice([0, -1, 1])


def _size(r, shape, d):
    return shape[d] if shape and -len(shape) <= d < len(shape) else 1


def _draw_as_strided(r, shape, numel):
    nd = r.randint(0, 3)
    size = [r.randint(-1 if r.random() < 0.05 else 0, 4) for _ in range(nd)]
    stride = [r.randint(-1 if r.random() < 0.05 else 0, 5) for _ in range(nd)]
    if r.random() < 0.1:
        stride = stride[:-1]
    args = [size, stride]
    if r.random() < 0.7:
        args.append(r.randint(-2, numel + 2))
    return ("as_strided", *args)


def _draw(r, shape):
    nd, numel = len(shape), int(np.prod(shape)) if shape else 1
    kind = r.choice(["as_strided", "as_strided", "narrow", "unfold", "diagonal", "select", "view", "view_dtype",
                     "transpose", "permute", "movedim", "expand", "slice", "split", "chunk", "unsqueeze", "squeeze",
                     "reshape", "set_", "t", "unflatten"])
    if kind == "as_strided":
        return _draw_as_strided(r, shape, numel)
    d = _dim(r, nd)
    n = _size(r, shape, d)
    if kind == "narrow":
        if r.random() < 0.3:
            return (kind, d, r.randint(-n - 1, n + 1), r.randint(-1, n + 1))
        start = r.randint(0, n)
        return (kind, d, start - n if r.random() < 0.3 and start < n else start, r.randint(0, n - start))
    if kind == "unfold":
        return (kind, d, r.randint(-1, n + 1), r.randint(0, 3)) if r.random() < 0.3 else (kind, d, r.randint(0, n),
                                                                                          r.randint(1, 3))
    if kind == "diagonal":
        return (kind, r.randint(-4, 4), _dim(r, nd), _dim(r, nd))
    if kind == "select":
        return (kind, d, r.randint(-n - 1, n))
    if kind in ("view", "reshape"):
        target = [r.choice([1, 2, 3, numel]) for _ in range(r.randint(0, 2))]
        rest = numel // max(int(np.prod(target)), 1) if target else numel
        target.append(-1 if r.random() < 0.3 else rest)
        r.shuffle(target)
        return (kind, target)
    if kind == "view_dtype":
        return (kind, r.choice(VIEW_DTYPES))
    if kind == "transpose":
        return (kind, _dim(r, nd), _dim(r, nd))
    if kind == "permute":
        dims = list(range(nd))
        r.shuffle(dims)
        if r.random() < 0.1:
            dims = dims + [0]
        return (kind, dims)
    if kind == "movedim":
        return (kind, _dim(r, nd), _dim(r, nd))
    if kind == "expand":
        lead = [r.randint(1, 3) for _ in range(r.randint(0, 1))]
        return (kind, lead + [r.choice([s, -1, r.randint(1, 3)]) for s in shape])
    if kind == "slice":
        step = r.choice([1, 1, 2, 3, n + 1, 2 ** 40, 0, -1])
        return (kind, d, r.choice([None, r.randint(-n - 2, n + 2)]), r.choice([None, r.randint(-n - 2, n + 2)]), step)
    if kind in ("split", "chunk"):
        return (kind, r.randint(-1, 3), d, r.randint(0, 3))
    if kind == "unsqueeze":
        return (kind, r.randint(-nd - 2, nd + 1))
    if kind == "squeeze":
        return (kind, d)
    if kind == "unflatten":
        return (kind, d, [r.choice([1, 2, -1]), r.choice([1, n, -1])])
    if kind == "set_":
        size = [r.randint(0, 4) for _ in range(r.randint(0, 2))]
        return (kind, r.randint(-1, numel), size, [r.randint(0, 3) for _ in size] if r.random() < 0.7 else None)
    return (kind,)


# --- applying a step ----------------------------------------------------------------------------------------
def _apply(lib, x, step):
    kind, args = step[0], step[1:]
    if kind == "as_strided":
        return x.as_strided(*args)
    if kind == "view_dtype":
        return x.view(getattr(lib, args[0]))
    if kind in ("view", "reshape", "permute", "expand"):
        return getattr(x, kind)(*args[0])
    if kind == "slice":
        d, start, stop, step_ = args
        nd = x.dim()
        key = slice(start, stop, step_)
        return x[(slice(None),) * (d % nd) + (key,)] if nd and -nd <= d < nd else x[key]
    if kind in ("split", "chunk"):
        size, d, pick = args
        pieces = getattr(x, kind)(size, d)
        return pieces[pick % len(pieces)]
    if kind == "set_":
        offset, size, stride = args
        return lib.zeros(0, dtype=x.dtype).set_(x, offset, size, stride)
    return getattr(x, kind)(*args)


def _run(lib, x, step):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _apply(lib, x, step), None
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            return None, exc


def _raw(root):
    return root.numpy().tobytes()


def _values(v):
    if v.numel() == 0:
        return b""
    if v.dtype in (torch.float16, ember.float16):
        v = v.float()
    return np.ascontiguousarray(v.numpy()).tobytes()


def _overlaps(v):
    return v.numel() > 0 and any(st == 0 and n > 1 for n, st in zip(v.shape, v.stride()))


def _compare(step, tv, ev, known):
    """Disagreements between the two successful results of a step (empty when they agree)."""
    got = []
    for what, theirs, ours in (("shape", tuple(tv.shape), tuple(ev.shape)), ("dtype", str(tv.dtype), str(ev.dtype)),
                               ("stride", tv.stride(), ev.stride()),
                               ("storage_offset", tv.storage_offset(), ev.storage_offset())):
        if theirs != ours:
            if what == "stride" and tv.numel() == 0:
                known["strides of an empty view"] += 1  # NOTE: see test_strides_of_empty_views below
                continue
            got.append(f"{step}: {what} {ours} != torch {theirs}")
    if not got and _values(tv) != _values(ev):
        got.append(f"{step}: values differ")
    return got


def _write_through(step, k, troot, eroot, tv, ev, known):
    """fill_ the view in both libraries: both refuse (same type) or both change the base the same way."""
    _, texc = _run(torch, tv, ("fill_", k))
    _, eexc = _run(ember, ev, ("fill_", k))
    if texc is None and eexc is not None and (_overlaps(tv) or not tv.numel()) and "single memory" in str(eexc):
        known["fill_ of an overlapping view"] += 1  # NOTE: test_math_basics' test_expanded_writes_without_overlap
        return None  # torch wrote, ember did not: the chain cannot go on side by side
    if (texc is None) != (eexc is None) or (texc is not None and not isinstance(eexc, type(texc))):
        return [f"{step}: fill_ torch {texc!r}, ember {eexc!r}"]
    if _raw(troot) != _raw(eroot):
        return [f"{step}: base memory differs after fill_"]
    return []


# --- one chain ---------------------------------------------------------------------------------------------
def _chain(seed, known, steps=6, log=None):
    """Run one random chain; returns the list of disagreements (known gaps are counted in `known`).
    `log`, a list, receives each step with both outcomes (for debugging a seed)."""
    r = random.Random(seed)
    dtype = r.choice(ROOT_DTYPES)
    shape = [r.randint(0, 4) for _ in range(r.randint(0, 3))]
    n = int(np.prod(shape)) if shape else 1
    if r.random() < 0.2:  # NOTE: from_numpy of a slice: the storage is the slice's memory, not the whole array
        skip = r.randint(1, 3)
        troot, eroot = (lib.from_numpy(np.arange(n + skip + 2, dtype=dtype)[skip:skip + n].reshape(shape))
                        for lib in (torch, ember))
    else:
        troot, eroot = (lib.arange(n).to(getattr(lib, dtype)).reshape(shape) for lib in (torch, ember))
    tx, ex = troot, eroot
    nbytes = troot.untyped_storage().nbytes()
    problems = []
    for i in range(steps):
        step = _draw(r, list(tx.shape))
        tv, texc = _run(torch, tx, step)
        ev, eexc = _run(ember, ex, step)
        if log is not None:
            log.append((step, texc or (tuple(tv.shape), tv.stride(), tv.storage_offset()),
                        eexc or (tuple(ev.shape), ev.stride(), ev.storage_offset())))
        if texc is not None:
            if eexc is None or not isinstance(eexc, type(texc)):
                problems.append(f"{step}: torch raised {texc!r}; ember {'returned' if eexc is None else 'raised'} "
                                f"{eexc!r}")
            continue
        if eexc is not None:
            if step[0] == "set_" and troot.untyped_storage().nbytes() > nbytes and "setStorage" in str(eexc):
                known["set_ growing the storage"] += 1  # NOTE: test_views' test_set_grows_the_storage
                break  # torch's storage has new memory now: the chain cannot go on side by side
            if step[0] == "as_strided" and "negative dimension" in str(eexc):
                known["a negative size PyTorch accepts"] += 1  # NOTE: test_views' as_strided xfail
                continue
            problems.append(f"{step}: torch returned; ember raised {eexc!r}")
            continue
        found = _compare(step, tv, ev, known)
        if not found and step[0] != "set_" and r.random() < 0.5:
            found = _write_through(step, i + 1, troot, eroot, tv, ev, known)
            if found is None:
                break
        problems += found
        if found:
            break
        tx, ex = tv, ev
    return problems


CHAINS_PER_TEST = 250
SEEDS = range(8)


@pytest.mark.parametrize("block", SEEDS)
def test_random_view_chains_agree_with_torch(block):
    problems, known = [], collections.Counter()
    for seed in range(block * CHAINS_PER_TEST, (block + 1) * CHAINS_PER_TEST):
        problems += [f"seed {seed}: {p}" for p in _chain(seed, known)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.xfail(strict=True, reason="Tensor.stride() reads an empty, writeable array whose NumPy strides are all 0 "
                                       "as contiguous; a select of an empty as_strided view whose remaining stride is "
                                       "PyTorch's 0 lands there (the fuzzer counts these as known)")
def test_strides_of_empty_views():
    def strides(t):
        return t.arange(8, dtype=t.int16).as_strided((2, 0), (5, 0)).select(0, 0).stride()
    assert strides(ember) == strides(torch)


def test_fuzzer_finds_a_planted_disagreement(monkeypatch):
    """The fuzzer is not blind: an ember narrow that copies instead of viewing is reported."""
    real = ember.Tensor.narrow
    monkeypatch.setattr(ember.Tensor, "narrow", lambda self, *args: real(self, *args).clone())
    problems = [p for seed in range(200) for p in _chain(seed, collections.Counter())]
    assert any("narrow" in p for p in problems)
