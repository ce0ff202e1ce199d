"""torch.autograd.gradcheck: analytical gradients against central finite differences."""
import warnings

from .. import _dtype
from .._tensor import Tensor, _wrap


class GradcheckError(RuntimeError):
    """Raised by gradcheck when gradients disagree (PyTorch's class of the same name)."""


def _inputs(inputs):
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _flat_outputs(func, inputs):
    """func's floating outputs; a complex one as its real and imaginary parts (view_as_real), so that each
    part's gradient is checked, as PyTorch's gradcheck checks both."""
    out = func(*inputs)
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    from .._ops.pointwise.complex import view_as_real
    return [view_as_real(o) if o._dtype.category == _dtype.COMPLEX else o
            for o in outs if isinstance(o, Tensor) and o._dtype.category >= 2]


def _numerical(func, inputs, i, j_out, eps):
    """d output[j_out] / d inputs[i], column by column, by central differences."""
    x = inputs[i]
    arr = x._data
    unravel = x._device.backend.xp.unravel_index
    cols = []
    # NOTE: func runs with grad mode as the caller has it: gradgradcheck's func itself calls
    # autograd.grad, which needs the graph. Elements are reached by position, not through
    # reshape(-1), which copies a non-contiguous input (and the perturbation would be lost).
    for k in range(arr.size):
        pos = unravel(k, arr.shape)
        orig = arr[pos].item()
        arr[pos] = orig + eps
        plus = _flat_outputs(func, inputs)[j_out]._data.copy()
        arr[pos] = orig - eps
        minus = _flat_outputs(func, inputs)[j_out]._data.copy()
        arr[pos] = orig
        cols.append(((plus - minus) / (2 * eps)).reshape(-1))
    return cols


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_backward_ad=True, fast_mode=False, masked=None, **kwargs):
    """Check func's gradients w.r.t. every input that requires grad; inputs should be float64."""
    from . import grad as autograd_grad
    inputs = _inputs(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in diff:
        if inputs[i]._dtype not in (_dtype.float64, _dtype.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ", UserWarning, stacklevel=2)
    outputs = _flat_outputs(func, inputs)
    for j, out in enumerate(outputs):
        n_out = out._data.size
        for i in diff:
            x = inputs[i]
            numerical = _numerical(func, inputs, i, j, eps)
            xp = x._device.backend.xp
            for r in range(n_out):
                seed = xp.zeros(out._data.size, dtype=out._dtype.np)
                seed[r] = 1
                seed_t = _wrap(seed.reshape(out._data.shape), out._device, out._dtype)
                fresh = _flat_outputs(func, inputs)[j]
                (g,) = autograd_grad(fresh, x, seed_t, retain_graph=False, allow_unused=True)
                analytic = xp.zeros(x._data.size) if g is None else g._data.reshape(-1)
                for k in range(x._data.size):
                    a = float(analytic[k])
                    n = float(numerical[k][r])
                    if abs(a - n) > atol + rtol * abs(n):
                        if not raise_exception:
                            return False
                        raise GradcheckError(
                            f"Jacobian mismatch for output {j} with respect to input {i},\n"
                            f"numerical:{n}\nanalytical:{a}\n(at input element {k}, output element {r})")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, **kwargs):
    """gradcheck of the gradient function (second derivatives)."""
    from . import grad as autograd_grad
    inputs = _inputs(inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    outs = _flat_outputs(func, inputs)
    if grad_outputs is None:
        xp = outs[0]._device.backend.xp
        rng = __import__("numpy").random.default_rng(0)
        grad_outputs = [_wrap(xp.asarray(rng.standard_normal(o._data.shape), dtype=o._dtype.np), o._device,
                              o._dtype, requires_grad=True) for o in outs]
    grad_outputs = list(_inputs(grad_outputs))
    n = len(inputs)

    def first(*args):
        ins, gos = args[:n], args[n:]
        o = _flat_outputs(func, ins)
        gs = autograd_grad(o, [t for t in ins if isinstance(t, Tensor) and t.requires_grad], gos,
                           create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)
    return gradcheck(first, tuple(inputs) + tuple(grad_outputs), **kwargs) and bool(diff)
