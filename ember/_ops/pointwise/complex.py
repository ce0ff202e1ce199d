"""Complex tensors: torch.complex, polar, .real/.imag, view_as_real/view_as_complex, conj.

Gradients follow PyTorch's convention for complex numbers: the gradient of a real loss L with
respect to z = x + iy is dL/dx + i dL/dy, so `.real` sends g back as g + 0i and `.imag` as 0 + gi.
"""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor, sum_to
from .._registry import OpSpec, bind_method, public, register, spec

class Complex(Primitive):
    """real + i * imag, broadcasting; both float32 or both float64."""
    complex_grad = True
    inputs = 2

    @staticmethod
    def check(real, imag):
        for t in (real, imag):
            if not isinstance(t, Tensor):
                raise TypeError(f"complex(): argument 'real' (position 1) must be Tensor, not {type(t).__name__}")
        if real._dtype.category != _dtype.FLOAT or imag._dtype.category != _dtype.FLOAT \
                or _dtype.bfloat16 in (real._dtype, imag._dtype):
            raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                               f"{_dtype.scalar_type_name(real._dtype)} and {_dtype.scalar_type_name(imag._dtype)}")
        if real._dtype is not imag._dtype:
            raise RuntimeError(f"Expected object of scalar type {_dtype.scalar_type_name(real._dtype)} but got "
                               f"scalar type {_dtype.scalar_type_name(imag._dtype)} for second argument")
        if real._dtype is _dtype.float16:
            # NOTE: PyTorch would give complex32 (ComplexHalf), which ember does not have.
            raise NotImplementedError("ember has no complex32 (ComplexHalf) dtype")

    @staticmethod
    def forward(ctx, real, imag):
        ctx.shapes = (real.shape, imag.shape)
        xp = ctx.xp
        shape = xp.broadcast_shapes(real.shape, imag.shape)
        out = xp.empty(shape, dtype=xp.result_type(real.dtype, xp.complex64))
        out.real = real
        out.imag = imag
        return out

    @staticmethod
    def backward(ctx, g):
        return sum_to(g.real, ctx.shapes[0]), sum_to(g.imag, ctx.shapes[1])


def _complex_pair(torch, a, b):
    return torch.view_as_real(torch.complex(a, b))


register(OpSpec("complex", arity=2, shapes="binary", call=_complex_pair), torch="complex")(Complex)


@public
def polar(abs, angle, *, out=None):
    """abs * (cos(angle) + i sin(angle))."""
    for name, t in (("abs", abs), ("angle", angle)):
        if not isinstance(t, Tensor) or t._dtype.category != _dtype.FLOAT or t._dtype is _dtype.bfloat16:
            got = [_dtype.scalar_type_name(x._dtype) if isinstance(x, Tensor) else type(x).__name__
                   for x in (abs, angle)]
            raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got {got[0]} and "
                               f"{got[1]}")
    result = Complex.apply(abs * angle.cos(), abs * angle.sin())
    if out is None:
        return result
    from .._registry import write_out
    return write_out(out, result, "polar")


spec(OpSpec("polar", arity=2, shapes="binary", domain=(0.1, 3),
            call=lambda torch, r, t: torch.view_as_real(torch.polar(r, t))))


class Real(Primitive):
    """The real part of a complex tensor, as a view."""
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x):
        return x.real

    @staticmethod
    def backward(ctx, g):
        return Complex.apply(g, g.new_zeros(()))


class Imag(Primitive):
    """The imaginary part of a complex tensor, as a view."""
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x):
        return x.imag

    @staticmethod
    def backward(ctx, g):
        return Complex.apply(g.new_zeros(()), g)


def _require_tensor(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


@public
def real(input):
    """The real part: a view for complex tensors, input itself for real ones."""
    _require_tensor(input, "real")
    return Real.apply(input) if input.is_complex() else input


@public
def imag(input):
    """The imaginary part of a complex tensor, as a view."""
    _require_tensor(input, "imag")
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


def _set_part(getter):
    def setter(self, value):
        getter(self).copy_(value if isinstance(value, Tensor) else self.new_tensor(value).real)
    return setter


bind_method("real", property(real, _set_part(real), doc="The real part (a view for complex tensors)."))
bind_method("imag", property(imag, _set_part(imag), doc="The imaginary part of a complex tensor (a view)."))


spec(OpSpec("real", arity=2, shapes="binary", call=lambda torch, a, b: torch.real(torch.complex(a, b)) * 2),
     OpSpec("imag", arity=2, shapes="binary", call=lambda torch, a, b: torch.complex(a, b).imag * 3),
     OpSpec("real", dtypes=("float32", "int64"), call=lambda torch, x: torch.real(x)))


class ViewAsReal(Primitive):
    """A complex tensor seen as real pairs: shape (..., 2)."""
    batch_rule = None  # vmap: no rule, the shape changes (see ember/func/_batching/rules.py)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x):
        return x[..., None].view(x.real.dtype)

    @staticmethod
    def backward(ctx, g):
        return ViewAsComplex.apply(g.contiguous())


class ViewAsComplex(Primitive):
    """Real pairs (last dim of size 2, stride 1) seen as complex numbers."""
    batch_rule = None  # vmap: no rule, the shape changes (see ember/func/_batching/rules.py)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x):
        return x.view(ctx.xp.complex64 if x.dtype.itemsize == 4 else ctx.xp.complex128)[..., 0]

    @staticmethod
    def backward(ctx, g):
        return ViewAsReal.apply(g)


@public
def view_as_real(input):
    """A view of a complex tensor as real pairs, shape (..., 2)."""
    _require_tensor(input, "view_as_real")
    if not input.is_complex():
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return ViewAsReal.apply(input)


@public
def view_as_complex(input):
    """A view of a (..., 2) real tensor as complex numbers."""
    _require_tensor(input, "view_as_complex")
    if input._dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, but got a "
                           f"tensor of scalar type: {_dtype.scalar_type_name(input._dtype)}")
    if input.dim() == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    strides = input.stride()
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return ViewAsComplex.apply(input)


spec(OpSpec("view_as_real", arity=2, shapes="binary",
            call=lambda torch, a, b: torch.view_as_real(torch.complex(a, b))[..., 1]),
     OpSpec("view_as_complex", shapes=[((3, 2),), ((2, 4, 2),), ((2,),)],
            call=lambda torch, x: torch.view_as_complex(x.contiguous()).imag),
     OpSpec("view_as_complex", shapes=[((3, 3),), ((4, 2),), ((2, 1),)], dtypes=("float32", "int64"), grad=False,
            call=lambda torch, x: torch.view_as_real(torch.view_as_complex(x))))


class Conj(Primitive):
    """The complex conjugate, materialised (PyTorch sets a lazy conjugate bit instead)."""
    complex_grad = True
    linear = True  # NOTE: over the reals: the tangent is conj(t)

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.conj(x)

    @staticmethod
    def backward(ctx, g):
        return Conj.apply(g)


@public(method=True)
def conj(input):
    """The complex conjugate; input itself for real tensors.

    NOTE: ember materialises the conjugate, so the result does not alias input and is_conj() is False."""
    _require_tensor(input, "conj")
    return Conj.apply(input) if input.is_complex() else input


@public(method=True)
def conj_physical(input):
    """The complex conjugate as a new tensor (a copy for real tensors)."""
    _require_tensor(input, "conj_physical")
    return Conj.apply(input) if input.is_complex() else input.clone()


@public(method=True)
def resolve_conj(input):
    """input itself: ember's conjugates are always materialised."""
    return input


@public(method=True)
def is_conj(input):
    """False: ember never sets PyTorch's lazy conjugate bit (see conj)."""
    _require_tensor(input, "is_conj")
    return False


def _conj_call(name):
    return lambda torch, a, b: torch.view_as_real(getattr(torch, name)(torch.complex(a, b)))


spec(OpSpec("conj", arity=2, shapes="binary", call=lambda torch, a, b: torch.view_as_real(
         torch.complex(a, b).conj().resolve_conj())),
     OpSpec("conj", dtypes=("float32", "int64"), call=lambda torch, x: torch.conj(x)),
     OpSpec("conj_physical", arity=2, shapes="binary", call=_conj_call("conj_physical")),
     OpSpec("conj_physical", dtypes=("float32", "int64"), call=lambda torch, x: x.conj_physical()),
     OpSpec("resolve_conj", dtypes=("float32", "float64"), call=lambda torch, x: torch.resolve_conj(x) * 2))
