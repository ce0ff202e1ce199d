"""Functions returning several views (split, split_with_sizes, chunk, unbind) against PyTorch: one shared grad_fn,
and PyTorch's rules for writing into the pieces in place (CreationMeta::MULTI_OUTPUT_NODE): refused while autograd
records, allowed under no_grad/inference_mode but then the pieces' history cannot be rebuilt; the unsafe_ forms,
whose pieces are not views for autograd, and tensor_split/hsplit, whose pieces are plain slices, allow it."""
import pytest
import torch

import ember
from autograd_compare import same, same_error

MULTI = {
    "split": lambda y: y.split(2),
    "split_sizes": lambda y: y.split([1, 2]),
    "split_with_sizes": lambda y: y.split_with_sizes([2, 1]),
    "torch_split": lambda y: type(y).split(y, 1),
    "chunk": lambda y: y.chunk(2),
    "chunk_one": lambda y: y.chunk(1),
    "split_big": lambda y: y.split(5),
    "unbind": lambda y: y.unbind(1),
    "unbind0": lambda y: y.unbind(0),
}
SINGLE = {  # NOTE: PyTorch slices these (SliceBackward0): their pieces are ordinary views
    "tensor_split": lambda y: y.tensor_split(2),
    "tensor_split_indices": lambda y: y.tensor_split([1]),
    "hsplit": lambda y: y.hsplit(2),
    "vsplit": lambda y: y.vsplit([1]),
}
UNSAFE = {
    "unsafe_split": lambda y: y.unsafe_split(2),
    "unsafe_chunk": lambda y: y.unsafe_chunk(2),
    "unsafe_split_with_sizes": lambda y: y.unsafe_split_with_sizes([1, 2]),
}
ALL = {**MULTI, **SINGLE, **UNSAFE}


def _made(torch, dtype=None):
    a = torch.arange(6.0, dtype=dtype).reshape(3, 2).requires_grad_()
    return a, a * 1


def _names(parts):
    return [(p.grad_fn.name(), p.grad_fn is parts[0].grad_fn) for p in parts]


@pytest.mark.parametrize("case", list(ALL))
def test_pieces_share_one_grad_fn_named_as_torch(case):
    t = _names(ALL[case](_made(torch)[1]))
    e = _names(ALL[case](_made(ember)[1]))
    assert e == t


@pytest.mark.parametrize("case", ["chunk_empty", "split_empty"])
def test_pieces_of_an_empty_dim_are_named_as_torch(case):
    def parts(lib):
        y = lib.zeros(0, 2, requires_grad=True) * 1
        return y.chunk(3) if case == "chunk_empty" else y.split(0)
    assert _names(parts(ember)) == _names(parts(torch))


@pytest.mark.parametrize("used", [(0,), (1,), (0, 2), ()])
@pytest.mark.parametrize("case", ["split", "chunk3", "unbind", "unsafe_split"])
def test_gradients_with_unused_pieces(case, used):
    make = {"split": lambda y: y.split(1), "chunk3": lambda y: y.chunk(3), "unbind": lambda y: y.unbind(0),
            "unsafe_split": lambda y: y.unsafe_split(1)}[case]

    def fn(torch):
        a, y = _made(torch)
        parts = make(y)
        loss = (y * 0).sum() + sum(((parts[i] * (i + 2)) ** 2).sum() for i in used)
        loss.backward()
        return a.grad
    same(fn)


@pytest.mark.parametrize("case", ["split", "split_sizes", "chunk", "unbind", "unsafe_chunk"])
def test_double_backward_through_pieces(case):
    def fn(torch):
        a, y = _made(torch, torch.float64)
        parts = ALL[case](y)
        loss = sum((p ** 3).sum() * (i + 1) for i, p in enumerate(parts))
        (g,) = torch.autograd.grad(loss, a, create_graph=True)
        (gg,) = torch.autograd.grad((g * g).sum(), a)
        return g.detach(), gg
    same(fn, grad_fn=False)


@pytest.mark.parametrize("case", ["split", "split_sizes", "chunk", "unbind", "unsafe_split"])
def test_gradcheck_through_pieces(case):
    x = ember.randn(3, 2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: tuple(p * (i + 1) for i, p in enumerate(ALL[case](t))), (x,))
    assert ember.autograd.gradgradcheck(lambda t: tuple(p ** 2 for p in ALL[case](t)), (x,))


def test_retain_grad_and_hooks_on_pieces():
    def fn(torch):
        a, y = _made(torch)
        p, q, r = y.unbind(0)
        q.retain_grad()
        seen = []
        r.register_hook(lambda g: seen.append(g.clone()))
        (p * 2 + q * 3 + r * 4).sum().backward()
        return q.grad, seen, a.grad
    same(fn)


def test_complex_pieces():
    def fn(torch):
        a = torch.tensor([[1 + 2j, 3 - 1j], [0.5j, 2.0]], requires_grad=True)
        p, q = (a * 1).split(1)
        (p.abs() ** 2 + (q * 1j).real).sum().backward()
        return a.grad
    same(fn)


# --- writing into pieces in place -------------------------------------------------------------------------------
WRITES = {
    "mul_": lambda t, v: v.mul_(2),
    "zero_": lambda t, v: v.zero_(),
    "copy_": lambda t, v: v.copy_(t.ones_like(v)),
    "iadd": lambda t, v: v.__iadd__(1),
    "setitem": lambda t, v: v.__setitem__(0, 5.0),
    "view_mul_": lambda t, v: v.view(-1).mul_(2),
    "slice_mul_": lambda t, v: v[..., 0:1].mul_(2),
    "transpose_mul_": lambda t, v: v.t().mul_(2) if v.dim() == 2 else v.unsqueeze(0).mul_(2),
}


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("case", list(MULTI))
def test_write_into_a_piece_raises(case, write):
    def fn(torch):
        a, y = _made(torch)
        WRITES[write](torch, MULTI[case](y)[-1])
    same_error(fn)


@pytest.mark.parametrize("case", ["split", "chunk", "unbind"])
def test_write_into_a_piece_of_a_leaf_raises(case):
    def fn(torch):
        a = torch.zeros(3, 2, requires_grad=True)
        MULTI[case](a)[0].mul_(2)
    same_error(fn)


@pytest.mark.parametrize("case", ["split", "unbind"])
def test_write_with_a_tensor_that_requires_grad_into_a_piece_of_a_plain_tensor_raises(case):
    def fn(torch):
        y = torch.arange(6.0).reshape(3, 2)
        MULTI[case](y)[1].mul_(torch.ones(1, requires_grad=True))
    same_error(fn)


@pytest.mark.parametrize("case", list(MULTI) + list(SINGLE) + list(UNSAFE))
def test_plain_write_into_a_piece_of_a_plain_tensor(case):
    def fn(torch):
        y = torch.arange(6.0).reshape(3, 2)
        parts = ALL[case](y)
        parts[0].mul_(2)
        return y, [p.grad_fn for p in parts], [p.requires_grad for p in parts]
    same(fn)


@pytest.mark.parametrize("case", list(SINGLE) + list(UNSAFE))
def test_write_into_pieces_that_allow_it(case):
    def fn(torch):
        a, y = _made(torch)
        parts = ALL[case](y)
        parts[-1].mul_(3)
        (y * 2).sum().backward(retain_graph=True)
        loss = sum((p * (i + 5)).sum() for i, p in enumerate(parts))
        grads = torch.autograd.grad(loss, a)
        return y, parts[-1], a.grad, grads
    same(fn)


AFTER = {
    "grad_fn": lambda t, a, p: p[0].grad_fn,
    "other_grad_fn": lambda t, a, p: p[-1].grad_fn,
    "use": lambda t, a, p: p[0] * 1,
    "backward_other": lambda t, a, p: (p[-1] * 1).sum().backward(),
    "write_again": lambda t, a, p: p[-1].mul_(2),
}
BEFORE = {
    "no_grad_write": lambda t, y, p: _in(t.no_grad(), lambda: p[0].mul_(2)),
    "inference_write": lambda t, y, p: _in(t.inference_mode(), lambda: p[0].mul_(2)),
    "base_write": lambda t, y, p: y.mul_(2),
    "detached_write": lambda t, y, p: p[0].detach().mul_(2),
}


def _in(mode, f):
    with mode:
        f()


@pytest.mark.parametrize("after", list(AFTER))
@pytest.mark.parametrize("before", list(BEFORE))
@pytest.mark.parametrize("case", ["split", "chunk", "unbind", "split_sizes"])
def test_pieces_history_after_a_write_raises(case, before, after):
    def fn(torch):
        a, y = _made(torch)
        parts = MULTI[case](y)
        BEFORE[before](torch, y, parts)
        AFTER[after](torch, a, parts)
    same_error(fn)


@pytest.mark.parametrize("before", list(BEFORE))
@pytest.mark.parametrize("case", list(UNSAFE) + ["tensor_split"])
def test_pieces_that_allow_writes_keep_working_after_one(case, before):
    def fn(torch):
        a, y = _made(torch)
        parts = ALL[case](y)
        BEFORE[before](torch, y, parts)
        (parts[-1] * 3).sum().backward()
        return a.grad, parts[-1], [p.requires_grad for p in parts], y._version, parts[0]._version
    same(fn, grad_fn=False)  # NOTE: a rebuilt slice is AsStridedBackward0 in both; its address differs


def test_data_write_keeps_history():
    def fn(torch):
        a, y = _made(torch)
        parts = y.split(2)
        parts[0].data.mul_(2)
        (parts[0] * 1).sum().backward()
        return parts[0], a.grad
    same(fn)


@pytest.mark.parametrize("case", ["split", "unbind", "unsafe_split"])
def test_pieces_made_under_no_grad(case):
    def write_grad(torch):
        a, y = _made(torch)
        with torch.no_grad():
            parts = ALL[case](y)
        return parts[0].mul_(2), parts[0].requires_grad

    def write_inside(torch):
        a, y = _made(torch)
        with torch.no_grad():
            parts = ALL[case](y)
            parts[0].mul_(2)
        return parts[0].requires_grad, parts[0].grad_fn
    for fn in (write_grad, write_inside):
        if case == "unsafe_split":
            same(fn)
        else:
            same_error(fn)


@pytest.mark.parametrize("case", ["split", "unbind", "unsafe_split"])
def test_pieces_made_in_inference_mode(case):
    def write_outside(torch):
        a, y = _made(torch)
        with torch.inference_mode():
            parts = ALL[case](y)
        parts[0].mul_(2)
    same_error(write_outside)

    def write_inside(torch):
        a, y = _made(torch)
        with torch.inference_mode():
            parts = ALL[case](y)
            parts[0].mul_(2)
        return y, parts[0].requires_grad
    same(write_inside)


@pytest.mark.parametrize("case", ["split", "unbind"])
def test_detached_piece_may_be_written(case):
    def fn(torch):
        a, y = _made(torch)
        d = MULTI[case](y)[0].detach()
        d.mul_(2)
        return d, y
    same(fn)


def _pieces(torch):
    return (torch.arange(6.0).reshape(3, 2).requires_grad_() * 1).split(1)


MORE = {
    "view_of_piece_made_under_no_grad": lambda t: _written_view_no_grad(t),
    "detach_": lambda t: _pieces(t)[0].detach_(),
    "t_": lambda t: _pieces(t)[0].t_(),
    "set_": lambda t: _pieces(t)[0].set_(t.zeros(1, 2)),
    "resize_": lambda t: _pieces(t)[0].resize_(2),
    "piece_of_a_piece": lambda t: _pieces(t)[0].split(1)[0].mul_(2),
    "view_after_base_write": lambda t: _view_after_base_write(t),
    "plain_base_made_to_require_grad": lambda t: _plain_base_made_to_require_grad(t).grad_fn,
}


def _written_view_no_grad(torch):
    p = _pieces(torch)
    with torch.no_grad():
        v = p[0].view(-1)
    v.mul_(2)


def _view_after_base_write(torch):
    y = torch.arange(6.0).reshape(3, 2).requires_grad_() * 1
    v = y.split(1)[0].view(-1)
    y.mul_(2)
    return v.grad_fn


def _plain_base_made_to_require_grad(torch):
    x = torch.arange(6.0).reshape(3, 2)
    p = x.split(2)
    x.mul_(torch.ones(1, requires_grad=True))
    return p[0]


@pytest.mark.parametrize("case", list(MORE))
def test_more_refusals_match_torch(case):
    same_error(MORE[case])


def test_piece_requires_grad_once_its_base_does():
    def fn(torch):
        p = _plain_base_made_to_require_grad(torch)
        return p.requires_grad
    same(fn)
    same(lambda torch: [(p.requires_grad, p._version) for p in _pieces(torch)])


def test_no_grad_write_into_a_piece_reaches_the_base():
    def fn(torch):
        y = torch.arange(6.0).reshape(3, 2).requires_grad_() * 1
        p = y.unbind(0)
        with torch.no_grad():
            p[0].add_(1)
        return y
    same(fn)
