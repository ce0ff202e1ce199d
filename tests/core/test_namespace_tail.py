"""The long tail of torch.* and Tensor (issue 15) against PyTorch: *_copy, the view scatters, hsplit & co.,
put, index_reduce, fill_diagonal_, storages, resize_, legacy new, empty_strided, frombuffer, range, ..."""
import array
import warnings

import numpy as np
import pytest
import torch

import ember
from _core_helpers import same


def on_cpu(fn):
    """fn run with the CPU as default device (these answers are the CPU's, also under EMBER_TEST_DEVICE=cuda)."""
    def run(t):
        with t.device("cpu"):
            return fn(t)
    return run


def ar(t, *shape, dtype="float32"):
    n = int(np.prod(shape)) if shape else 1
    return t.arange(n).to(getattr(t, dtype)).reshape(shape)


# --- *_copy ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda t, x: t.transpose_copy(x, 0, 2),
    lambda t, x: t.permute_copy(x, (2, 0, 1)),
    lambda t, x: t.diagonal_copy(x, 1, 1, 2),
    lambda t, x: t.expand_copy(x[:, :1], (2, 4, 4)),
    lambda t, x: t.slice_copy(x, 2, 1, None, 2),
    lambda t, x: t.select_copy(x, 1, -1),
    lambda t, x: t.unfold_copy(x, 2, 2, 1),
    lambda t, x: t.view_copy(x.transpose(0, 1), (12, 2)),
    lambda t, x: t.view_copy(x, t.int32),
    lambda t, x: t.as_strided_copy(x, (2, 2), (1, 3), 1),
    lambda t, x: t.alias_copy(x),
    lambda t, x: t.t_copy(x[0]),
    lambda t, x: x.narrow_copy(2, 1, 2),
    lambda t, x: t.squeeze_copy(x[:1], 0),
    lambda t, x: t.unsqueeze_copy(x, -1),
    lambda t, x: t.split_copy(x, 3, 1),
    lambda t, x: t.split_with_sizes_copy(x, [1, 3], 2),
    lambda t, x: t.unbind_copy(x, 2),
    lambda t, x: t.view_as_real_copy(t.view_as_complex(x[..., :2].contiguous())),
])
def test_copies_are_fresh_contiguous_tensors(call):
    theirs, ours = same(lambda t: call(t, ar(t, 2, 3, 4)), strides=True)
    x = ar(ember, 2, 3, 4)
    results = call(ember, x)
    for r in results if isinstance(results, tuple) else (results,):
        assert r.is_contiguous()
        if r.numel() and r.dtype == x.dtype:
            r.view(-1)[0] = -100  # the input is left alone
            assert not bool((x == -100).any())


def test_copy_gradients_and_out():
    def grads(t):
        x = ar(t, 3, 4, dtype="float64").requires_grad_()
        w = ar(t, 4, 3, dtype="float64")
        (t.transpose_copy(x, 0, 1) * w).sum().backward()
        a, b = t.split_copy(x, 2, 1)
        (a * 2 + b.sum()).sum().backward()
        return x.grad
    same(grads)
    same(lambda t: t.t_copy(ar(t, 2, 3), out=t.empty(3, 2)))
    same(lambda t: t.split_copy(ar(t, 4, 3), 2, out=[t.empty(2, 3), t.empty(2, 3)]))
    same(lambda t: t.view_as_complex_copy(ar(t, 3, 2).requires_grad_()))


def test_detach_copy_is_a_detached_copy():
    x = ember.ones(2, requires_grad=True)
    y = ember.detach_copy(x)
    assert not y.requires_grad and y.data_ptr() != x.data_ptr()


# --- view scatters -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda t, x, s: t.diagonal_scatter(x, s[0, :3], 0),
    lambda t, x, s: t.diagonal_scatter(x, s[0, :2], -1),
    lambda t, x, s: t.select_scatter(x, s[1], 0, 1),
    lambda t, x, s: x.slice_scatter(s[:, :2], 1, 0, None, 2),
    lambda t, x, s: t.slice_scatter(x, s[:2], start=-2),
    lambda t, x, s: t.as_strided_scatter(x, s[:2, :2], (2, 2), (1, 2), 1),
])
def test_scatters_values_and_gradients(call):
    def run(t):
        x = ar(t, 3, 4, dtype="float64").requires_grad_()
        s = (ar(t, 3, 4, dtype="float64") * -1).requires_grad_()
        out = call(t, x, s)
        (out * ar(t, 3, 4, dtype="float64")).sum().backward()
        return out, s.grad
    same(run)


def test_scatter_errors():
    same(lambda t: t.diagonal_scatter(t.zeros(3, 4), t.ones(4)))
    same(lambda t: t.select_scatter(t.zeros(3, 4), t.ones(3), 0, 1))
    same(lambda t: t.slice_scatter(t.zeros(3, 4), t.ones(3, 2), 1, 0, 3))
    same(lambda t: t.as_strided_scatter(t.zeros(3, 4), t.ones(3), (2, 2), (1, 2)))
    same(lambda t: t.as_strided_scatter(t.zeros(3, 4).t().requires_grad_(), t.ones(2, 2), (2, 2), (1, 2)))


def test_as_strided_scatter_gradient_is_the_finite_difference_one():
    """NOTE: PyTorch 2.13's input gradient here is the complement of the right one (its gradcheck fails)."""
    x = ember.randn(3, 3, dtype=ember.float64, requires_grad=True)
    s = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    for offset in (0, 1):
        assert ember.autograd.gradcheck(lambda a, b: ember.as_strided_scatter(a, b, (2, 2), (1, 2), offset), (x, s))
    tx = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    ts = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    assert not torch.autograd.gradcheck(lambda a, b: torch.as_strided_scatter(a, b, (2, 2), (1, 2), 1), (tx, ts),
                                        raise_exception=False)


# --- splits ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda t: t.hsplit(ar(t, 2, 4), 2), lambda t: t.hsplit(ar(t, 6), [1, 4]), lambda t: ar(t, 4, 2).vsplit(2),
    lambda t: t.dsplit(ar(t, 2, 2, 4), [1, 3]), lambda t: t.hsplit(ar(t, 2, 4), t.tensor([1, 2])),
    lambda t: t.hsplit(t.tensor(1.), 2), lambda t: t.hsplit(ar(t, 3, 4), 3), lambda t: t.vsplit(t.ones(3), 1),
    lambda t: t.dsplit(ar(t, 2, 3), 1), lambda t: t.vsplit(ar(t, 3, 2), 2), lambda t: t.hsplit(ar(t, 2, 4), 0),
    lambda t: t.unsafe_split(ar(t, 5, 2), 2), lambda t: ar(t, 5, 2).unsafe_split_with_sizes([1, 4]),
    lambda t: t.unsafe_chunk(ar(t, 5, 2), 2, 1),
])
def test_splits(call):
    same(call, strides=True)


# --- put, index_reduce, fill_diagonal_ ---------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda t: t.put(t.zeros(2, 3), t.tensor([0, -1, 2]), t.tensor([1., 2, 3])),
    lambda t: t.zeros(2, 3).t().put(t.tensor([[0, 0]]), t.tensor([[1., 2]]), accumulate=True),
    lambda t: t.zeros(2, 3).put_(t.tensor([5, 1]), t.tensor([1., 2])),
    lambda t: t.zeros(2, 3).put(t.tensor([6]), t.tensor([1.])),
    lambda t: t.zeros(2, 3).put(t.tensor([1, 2]), t.tensor([1.])),
    lambda t: t.zeros(2, 3).put(t.tensor([1.]), t.tensor([1.])),
    lambda t: t.zeros(2, 3).put(t.tensor([1]), t.tensor([1.], dtype=t.float64)),
    lambda t: t.zeros(2, 3).index_reduce(0, t.tensor([0, 0]), t.ones(2, 3), "sum"),
    lambda t: t.zeros(2, 3).index_reduce(0, t.tensor([0, 0, 1]), t.ones(2, 3), "prod"),
    lambda t: t.zeros(2, 3).index_reduce(0, t.tensor([0, 2]), t.ones(2, 3), "prod"),
    lambda t: t.zeros(2, 3).index_reduce(0, t.tensor([0, 1]), t.ones(2, 3, dtype=t.float64), "prod"),
    lambda t: t.zeros(2, 3).index_reduce(0, t.tensor([0., 1]), t.ones(2, 3), "prod"),
    lambda t: t.zeros(2, 3).index_reduce(0, t.tensor([[0, 1]]), t.ones(2, 3), "prod"),
    lambda t: (ar(t, 3, 2) + 1).index_reduce_(0, t.tensor([0, 2, 0], dtype=t.int32), ar(t, 3, 2) - 2, "amax",
                                              include_self=False),
    lambda t: (ar(t, 3, 2) + 1).index_reduce(1, t.tensor([1, 1, 0]), ar(t, 3, 3), "mean"),
    lambda t: t.zeros(3, 4).fill_diagonal_(1), lambda t: t.zeros(7, 3).fill_diagonal_(2, wrap=True),
    lambda t: t.zeros(7, 3).fill_diagonal_(2), lambda t: t.zeros(3, 3, 3).fill_diagonal_(5),
    lambda t: t.zeros(2, 3, 3).fill_diagonal_(1), lambda t: t.zeros(3).fill_diagonal_(1),
    lambda t: t.zeros(2, 2, dtype=t.uint8).fill_diagonal_(300),
])
def test_put_index_reduce_fill_diagonal(call):
    same(call)


def test_put_and_fill_diagonal_gradients():
    def run(t):
        x = (ar(t, 2, 3, dtype="float64") + 1).requires_grad_()
        s = t.tensor([5., 6.], dtype=t.float64, requires_grad=True)
        y = x * 1
        y.put_(t.tensor([1, -1]), s)
        z = (x * 1).fill_diagonal_(0)
        (y * y).sum().backward()
        (z * 3).sum().backward()
        return x.grad, s.grad
    same(run)


# --- predicates and utilities ------------------------------------------------------------------------------
def test_small_utilities():
    same(lambda t: (t.ones(2).is_same_size(t.ones(2)), t.is_same_size(t.ones(2), t.ones(1, 2))))
    same(lambda t: (t.is_neg(t.ones(2)), t.resolve_neg(t.ones(2)), t.is_distributed(t.ones(1))))
    same(on_cpu(lambda t: (t.get_device(t.ones(1)), t.typename(t.ones(2, dtype=t.int64)), t.typename(3))))
    same(lambda t: (ar(t, 2, 3).t().dim_order(), t.ones(2, 3, 4).permute(2, 0, 1).dim_order(), ar(t, 2, 3).dim_order()))
    same(lambda t: (t.ones(2, 3).sum_to_size(1, 3), t.ones(2, 3).sum_to_size((3,)), t.ones(2, 3).sum_to_size(2, 3)))
    same(lambda t: t.ones(2, 3).sum_to_size(2, 1, 3))
    same(lambda t: t.ones(2, 3).sum_to_size(4, 3))
    same(lambda t: (t.fill(ar(t, 2, 2), 2), t.fill_(t.ones(2), 3), t.zero_(t.ones(2)), t.detach(t.ones(2)),
                    t.detach_(t.ones(2))))
    same(lambda t: t.fill(ar(t, 2, 2, dtype="int64"), t.tensor(3)))
    x = ember.ones(2, 3)
    assert x.is_set_to(x[:]) and not x.is_set_to(x.view(6)) and not x.is_set_to(x.clone())
    assert x.const_data_ptr() == x.data_ptr()
    assert ember.typename(ember.nn.Linear) == "ember.nn.modules.linear.Linear"
    assert ember.get_device_module("cuda") is ember.cuda


def test_sum_to_size_gradient():
    def run(t):
        x = ar(t, 2, 3, dtype="float64").requires_grad_()
        y = x.sum_to_size(1, 3)
        return y, t.autograd.grad((y * y).sum(), x)
    same(run)


def test_map_and_map2():
    same(on_cpu(lambda t: t.ones(2, 2).map_(t.tensor([1., 2]), lambda a, b: a + b)))
    same(on_cpu(lambda t: t.ones(2).map2_(t.tensor([1., 2]), t.tensor([3., 4]), lambda a, b, c: a + b * c)))


# --- resize ------------------------------------------------------------------------------------------------
def test_resize():
    same(lambda t: ar(t, 2, 3).resize_(2))
    same(lambda t: ar(t, 2, 3).resize_(3, 2))
    same(lambda t: ar(t, 2, 3).resize_as_(t.ones(3)))
    same(lambda t: t.resize_as_(ar(t, 2, 3), t.ones(1, 2)))
    same(lambda t: t.ones(2, requires_grad=True).resize_(3))
    same(lambda t: ar(t, 2, 3).resize(3, 2))
    same(lambda t: ar(t, 2, 3).resize(2, 2))
    same(lambda t: ar(t, 2, 3).resize_as(t.ones(3)))
    x = ar(ember, 2, 3)
    y = x.clone()
    y.resize_(2, 5)
    assert y.shape == (2, 5) and y.view(-1)[:6].tolist() == list(range(6))
    x.resize_(4)
    x[0] = 9  # a shrink shares the memory it keeps
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        ar(ember, 2, 3).resize(6)


# --- creation with geometry --------------------------------------------------------------------------------
def test_empty_strided_permuted_and_new():
    same(lambda t: (t.empty_strided((2, 3), (1, 2)).stride(), t.empty_strided((2, 3), (1, 2), dtype=t.int64).dtype,
                    t.empty_permuted((2, 3, 4), (2, 0, 1)).stride(), t.empty_permuted((2, 3), (1, 0)).shape,
                    t.ones(1, dtype=t.float64).new_empty_strided((2, 3), (1, 2)).dtype,
                    t.empty_strided((2, 3), (3, 1))._base is None))
    same(lambda t: (ar(t, 2).new(2, 3).shape, ar(t, 2).new([1, 2]), ar(t, 2).new(), ar(t, 2).new(t.ones(2)),
                    t.ones(2, dtype=t.int32).new((1, 2)), ar(t, 2).new(t.Size([3])).shape))
    assert ember.empty_strided((2, 2), (1, 2), requires_grad=True).requires_grad


def test_frombuffer():
    buf = array.array("f", [1, 2, 3])
    same(lambda t: t.frombuffer(array.array("f", [1, 2, 3]), dtype=t.float32, count=2, offset=4))
    same(lambda t: t.frombuffer(b"\x01\x00\x00\x00\x02\x00\x00\x00", dtype=t.int32))
    same(lambda t: t.frombuffer(array.array("f", [1, 2, 3]), dtype=t.float32, count=5))
    same(lambda t: t.frombuffer(bytearray(b""), dtype=t.float32))
    same(lambda t: t.frombuffer(array.array("f", [1, 2, 3]), dtype=t.float32, offset=13))
    same(lambda t: t.frombuffer(bytearray(b"abc"), dtype=t.int16))
    x = ember.frombuffer(buf, dtype=ember.float32)
    x[0] = 7  # shares the writable buffer's memory
    assert buf[0] == 7


def test_range_is_inclusive_and_deprecated():
    same(lambda t: (t.range(0, 4), t.range(1, 4, dtype=t.int64), t.range(1, 4, 2), t.range(0, 1, 0.25),
                    t.range(3, 0, -1)))
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        ember.range(0, 2)


def test_nonzero_static():
    same(lambda t: t.nonzero_static(t.tensor([0, 1, 0, 2]), size=4))
    same(lambda t: t.nonzero_static(t.tensor([[0, 1], [2, 0]]), size=1, fill_value=9))
    same(lambda t: t.tensor([[0, 1], [2, 0]]).nonzero_static(size=3))


# --- storages ----------------------------------------------------------------------------------------------
def test_storages():
    def info(t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = ar(t, 2, 3)
            s, u = x.storage(), x.untyped_storage()
            return (s.size(), s.dtype, s.element_size(), s.nbytes(), len(s), s.tolist(), s.type(),
                    u.size(), u.nbytes(), u.element_size(), len(u), u.tolist(), u.type(),
                    x[1].untyped_storage().data_ptr() == u.data_ptr(), u.data_ptr() == x.data_ptr(),
                    x[1].storage().size(), x.storage_type().__name__, t.is_storage(s), t.is_storage(u),
                    t.is_storage(x), x.t().untyped_storage().data_ptr() == u.data_ptr(),
                    x.clone().untyped_storage().data_ptr() == u.data_ptr(), s.is_cuda, str(s.device))
    same(on_cpu(info))


def test_share_memory():
    same(on_cpu(lambda t: (t.ones(2).is_shared(), t.ones(2).share_memory_().is_shared())))
    x = ember.ones(3, device="cpu")
    x.share_memory_()
    assert x[1:].is_shared() and not ember.ones(3, device="cpu").is_shared()


# --- subclasses, module_load, missing backends -------------------------------------------------------------
def test_as_subclass_and_module_load():
    class Sub(ember.Tensor):
        pass
    x = ember.ones(2, requires_grad=True) * 2
    s = x.as_subclass(Sub)
    assert type(s) is Sub and s.data_ptr() == x.data_ptr() and s.grad_fn is x.grad_fn
    p = ember.ones(2).as_subclass(ember.nn.Parameter)
    assert isinstance(p, ember.nn.Parameter)
    same(lambda t: (ar(t, 2).module_load(t.tensor([5., 6.])), ar(t, 2).module_load(t.ones(2), assign=True)))


def test_missing_backends_raise_as_pytorch():
    for name in ("ipu", "xpu", "mtia"):
        same(lambda t: getattr(t.ones(1), name)())
    same(lambda t: t.ones(1).reinforce(1))
    assert ember.ones(1).record_stream(object()) is None


def test_index_reduce_refuses_negative_indices():
    same(lambda t: t.zeros(3, 2).index_reduce(0, t.tensor([0, -1]), t.ones(2, 2), "amin"))


# --- hash_tensor, segment_reduce, slice_inverse --------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda t: t.hash_tensor(t.tensor([1.5, -2.0])), lambda t: t.hash_tensor(t.tensor([-1], dtype=t.int32)),
    lambda t: t.hash_tensor(t.tensor([True, True, False])), lambda t: t.hash_tensor(t.tensor([3], dtype=t.uint8)),
    lambda t: t.hash_tensor(t.tensor([[1, 2], [3, 4]]), dim=0, keepdim=True),
    lambda t: t.hash_tensor(t.tensor([[1, 2], [3, 4]]), dim=(0, 1)), lambda t: t.hash_tensor(t.tensor([], dtype=t.float32)),
    lambda t: t.hash_tensor(t.tensor([1.]), mode=1), lambda t: t.hash_tensor(t.tensor(1.0 + 2j)),
    lambda t: t.ones(2, requires_grad=True).hash_tensor(), lambda t: t.hash_tensor(ar(t, 3, 4).t()),
    lambda t: t.hash_tensor(t.ones(2, 0), dim=1),
])
def test_hash_tensor(call):
    same(call)


@pytest.mark.parametrize("call", [
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "mean", lengths=t.tensor([2, 0, 3]), initial=10.),
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "max", lengths=t.tensor([2, 0, 3])),
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "min", offsets=t.tensor([0, 2, 2, 5])),
    lambda t: t.segment_reduce(t.tensor([[1., 2], [3, 4], [5, 6]]).t().contiguous(), "sum",
                               lengths=t.tensor([[1, 2], [2, 1]]), axis=1),
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "sum", lengths=t.tensor([2, 2])),
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "sum"),
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "sum", indices=t.tensor([0])),
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "foo", lengths=t.tensor([5])),
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "sum", lengths=t.tensor([2., 3])),
    lambda t: t.segment_reduce(t.tensor([1., 2, 3, 4, 5]), "sum", lengths=t.tensor([6, -1])),
    lambda t: t.segment_reduce(t.tensor([1, 2, 3]), "sum", lengths=t.tensor([1, 2])),
    lambda t: t.segment_reduce(t.ones(5, 1), "sum", lengths=t.tensor([2, 3]), axis=1),
])
def test_segment_reduce(call):
    same(call)


def test_segment_reduce_gradients():
    def run(t):
        out = []
        for reduce in ("max", "prod", "mean", "sum", "min"):
            x = t.tensor([1., 3, 2, 4, 5], dtype=t.float64, requires_grad=True)
            t.segment_reduce(x, reduce, lengths=t.tensor([2, 0, 3]), initial=1.5 if reduce == "sum" else None)\
                .mul(t.tensor([1., 2, 3], dtype=t.float64)).sum().backward()
            out.append(x.grad)
        return out
    same(run)


def test_slice_inverse():
    def run(t):
        base = ar(t, 4, 3)
        view = base[1:3]
        inv = t.slice_inverse(view, base, 0, 1, 3)
        return inv, inv.stride(), inv.data_ptr() == base.data_ptr()
    same(run)


# --- post-accumulate-grad hooks, in-place torch functions, small predicates ---------------------------------
def test_register_post_accumulate_grad_hook():
    def run(t):
        x = t.ones(2, requires_grad=True)
        seen = []

        def hook(leaf):
            seen.append(leaf.grad.clone())
            leaf.grad.mul_(10)  # NOTE: the hook sees (and may change) the accumulated gradient
        handle = x.register_post_accumulate_grad_hook(hook)
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        handle.remove()
        (x * 3).sum().backward()
        t.autograd.grad((x * 1).sum(), x)  # NOTE: no accumulation, no call
        return seen, x.grad
    same(run)
    same(lambda t: (t.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print))
    same(lambda t: t.ones(2).register_post_accumulate_grad_hook(print))

    def returns_value(t):
        y = t.ones(2, requires_grad=True)
        y.register_post_accumulate_grad_hook(lambda leaf: 5)
        (y * 1).sum().backward()
    same(returns_value)


def test_inplace_torch_functions_and_predicates():
    same(lambda t: (t.gcd_(t.tensor([4, 9]), t.tensor([6, 3])), t.lcm_(t.tensor([4]), t.tensor([6])),
                    t.ldexp_(t.tensor([1., 2.]), t.tensor([2, 3])), t.xlogy_(t.tensor([2., 0.]), t.tensor([3., 0.])),
                    t.addmv_(t.ones(2), t.ones(2, 3), t.ones(3), beta=2),
                    t.conj_physical_(t.tensor([1 + 2j])), t.tensor([1.]).conj_physical_(),
                    t.ones(1).is_distributed(), t.is_vulkan_available()))
