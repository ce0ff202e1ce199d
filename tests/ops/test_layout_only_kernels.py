"""The kernels PyTorch has for one layout only (native_norm: sparse COO; to_padded_tensor: nested), and the two
Tensor methods ember cannot give (chalf: complex32; index: first-class dims), against PyTorch."""
import warnings

import pytest
import torch

import ember

DENSE = [[0.0, 3.0], [4.0, 0.0]]


def _sparse(lib, dtype=None, requires_grad=False):
    s = lib.tensor(DENSE, dtype=dtype).to_sparse()
    return s.requires_grad_() if requires_grad else s


def _outcome(fn, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(lib)
        except Exception as exc:  # noqa: BLE001 - compared with torch's
            return type(exc), str(exc)
    return None, (out.item(), str(out.dtype), out.requires_grad, out.grad_fn is None and None or
                  type(out.grad_fn).__name__.replace("torch::autograd::", ""))


NORMS = {
    "default": lambda t: t.native_norm(_sparse(t)),
    "p1": lambda t: t.native_norm(_sparse(t), 1),
    "p0": lambda t: t.native_norm(_sparse(t), 0),
    "pinf": lambda t: t.native_norm(_sparse(t), float("inf")),
    "p3_float64": lambda t: t.native_norm(_sparse(t, t.float64), 3),
    "pneg": lambda t: t.native_norm(_sparse(t), -1),
    "all_dims": lambda t: t.native_norm(_sparse(t), 2, [0, 1], False, None),
    "all_dims_negative": lambda t: t.native_norm(_sparse(t), 2, [-1, 0], False, None),
    "no_dims": lambda t: t.native_norm(_sparse(t), 2, [], False, None),
    "keywords": lambda t: t.native_norm(_sparse(t), dim=[0, 1], keepdim=False, dtype=None, p=2),
    "complex": lambda t: t.native_norm(_sparse(t, t.complex64)),
    "empty": lambda t: t.native_norm(t.zeros(2, 2).to_sparse()),
    "requires_grad": lambda t: t.native_norm(_sparse(t, requires_grad=True)),
    "no_grad": lambda t: _no_grad(t, lambda: t.native_norm(_sparse(t, requires_grad=True))),
}
NORM_ERRORS = {
    "dense": lambda t: t.native_norm(t.ones(2, 2)),
    "dense_dims": lambda t: t.native_norm(t.ones(2, 2), 2, [1], False, None),
    "part_dims": lambda t: t.native_norm(_sparse(t), 2, [1], False, None),
    "repeated_dims": lambda t: t.native_norm(_sparse(t), 2, [1, 1], False, None),
    "dim_out_of_range": lambda t: t.native_norm(_sparse(t), 2, [0, 5], False, None),
    "keepdim": lambda t: t.native_norm(_sparse(t), 2, [0, 1], True, None),
    "dtype": lambda t: t.native_norm(_sparse(t), 2, [0, 1], False, t.float64),
    "integer": lambda t: t.native_norm(_sparse(t, t.int64)),
    "empty_negative_p": lambda t: t.native_norm(t.zeros(2, 2).to_sparse(), -1),
    "backward": lambda t: t.native_norm(_sparse(t, requires_grad=True)).backward(),
}


def _no_grad(t, f):
    with t.no_grad():
        return f()


@pytest.mark.host_only("PyTorch's message names the backend its tensors are on (the CPU)")
@pytest.mark.parametrize("case", list(NORMS) + list(NORM_ERRORS))
def test_native_norm_matches_torch(case):
    fn = {**NORMS, **NORM_ERRORS}[case]
    t_type, t_out = _outcome(fn, torch)
    e_type, e_out = _outcome(fn, ember)
    assert e_type is t_type
    if t_type is None:
        assert e_out[1:] == t_out[1:]
        assert e_out[0] == pytest.approx(t_out[0], rel=1e-6)
    elif t_type is NotImplementedError:  # NOTE: PyTorch's message goes on to list its dispatch keys
        assert e_out.split(" This could")[0] == t_out.split(" This could")[0]
    else:
        assert e_out == t_out


PADDED = {
    "dense": lambda t: t.ones(2, 3).to_padded_tensor(0.0),
    "output_size": lambda t: t.ones(2).to_padded_tensor(1.0, [3]),
    "sparse": lambda t: _sparse(t).to_padded_tensor(0.0),
}


@pytest.mark.host_only("PyTorch's message names the backend its tensors are on (the CPU)")
@pytest.mark.parametrize("case", list(PADDED))
def test_to_padded_tensor_refuses_tensors_that_are_not_nested(case):
    t_type, t_msg = _outcome(PADDED[case], torch)
    e_type, e_msg = _outcome(PADDED[case], ember)
    assert t_type is e_type is NotImplementedError
    assert e_msg.split(" This could")[0] == t_msg.split(" This could")[0]


def test_chalf_refuses_with_the_reason():
    with pytest.raises(NotImplementedError, match="complex32"):
        ember.ones(2).chalf()


@pytest.mark.xfail(strict=True, reason="ember has no complex32 (ComplexHalf) dtype (NumPy has no complex of two "
                                       "float16): Tensor.chalf() raises NotImplementedError")
def test_chalf_gives_complex32():
    out = ember.tensor([1.0, 2.0]).chalf()
    assert str(out.dtype) == str(torch.tensor([1.0, 2.0]).chalf().dtype)


@pytest.mark.xfail(strict=True, reason="Tensor.index binds positional dims to first-class Dim objects "
                                       "(functorch.dim, PyTorch 2.13); ember has no first-class dims, so it has "
                                       "no Tensor.index")
def test_tensor_index_for_first_class_dims():
    assert callable(ember.Tensor.index)


def test_native_norm_on_the_test_device():
    from _device import DEVICE
    s = ember.tensor(DENSE, device=DEVICE).to_sparse()
    out = ember.native_norm(s, 1)
    assert out.device.type == DEVICE and out.item() == 7.0
    with pytest.raises(NotImplementedError, match="Could not run 'aten::native_norm' with arguments from the '"
                                                  + ("CUDA" if DEVICE == "cuda" else "CPU") + "' backend"):
        ember.native_norm(ember.ones(2, device=DEVICE))
