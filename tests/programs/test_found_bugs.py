"""ember bugs found while bringing up the seed programs, each as the test that catches it.

Open bugs are marked xfail(strict=True): when a fix lands the test passes, strict xfail turns that
into a failure, and whoever fixed it removes the marker. Fixed bugs keep their test, unmarked, as a
regression test (they may move next to the code they cover: tests/ops, tests/autograd, tests/core).
"""
import warnings

import pytest
import torch

import ember


def _bug(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


# Fixed since found: x[i] = v / x[i, j] = v (an int for every dim) raised TypeError (numpy's a[i, j] is a
# scalar, not a view).
def test_setitem_single_element():
    x = ember.zeros(3)
    x[0] = 1  # was: TypeError: 'numpy.float32' object does not support item assignment
    m = ember.zeros(2, 2)
    m[1, 0] = 1
    m[1, 1] += 3
    assert x.tolist() == [1.0, 0.0, 0.0]
    assert m.tolist() == [[0.0, 0.0], [1.0, 3.0]]


# Fixed since found: in-place ops on an element view (t[0].add_(5)) wrote into a copy; the base never changed.
def test_inplace_on_element_view_writes_through():
    t = ember.zeros(2)
    t[0].add_(5)
    t[1].fill_(7)
    assert t.tolist() == [5.0, 7.0]


# Fixed since found: y[0] = v on a tensor that requires grad wrote nothing and did not mask the gradient.
def test_setitem_single_element_under_autograd():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y[0] = 10.0
    y.sum().backward()
    assert y.tolist() == [10.0, 2.0]  # was: [1.0, 2.0]
    assert x.grad.tolist() == [0.0, 1.0]  # was: [1.0, 1.0]


# Fixed since found: a non-leaf fully overwritten in place left x.grad None (PyTorch gives zeros).
@pytest.mark.parametrize("overwrite", ["copy_", "fill_", "zero_", "setitem"])
def test_overwritten_non_leaf_gives_zero_grad(overwrite):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    if overwrite == "copy_":
        y.copy_(ember.tensor([5.0, 6.0]))
    elif overwrite == "fill_":
        y.fill_(3.0)
    elif overwrite == "zero_":
        y.zero_()
    else:
        y[:] = 10.0
    y.sum().backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, 0.0]


# Fixed since found: a broadcasting mismatch raised numpy's ValueError, not PyTorch's RuntimeError and message.
def test_broadcast_mismatch_error():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) "
                                           r"at non-singleton dimension 1"):
        ember.ones(2, 3) + ember.ones(4)


# Fixed since found: division by zero leaked NumPy RuntimeWarnings.
def test_division_by_zero_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = ember.tensor([1.0, -1.0, 0.0]) / 0
    assert str(r) == str(torch.tensor([1.0, -1.0, 0.0]) / 0)


# Fixed since found: gradgradcheck always raised (gradcheck's finite differences ran the gradient function
# with grad mode off); ember/autograd/gradcheck.py.
def test_gradgradcheck_simple():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a: (a * a).sum(), (x,))
