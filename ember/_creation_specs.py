"""The creation ops' specs for the generic comparison with PyTorch (tests/ops/test_against_torch.py)."""


def _dtype_of(torch, name):
    return getattr(torch, name)


def _sized(g):
    return [], {"size": g.shape(max_side=3), "dtype": g.dtype}


def _range(g):
    start = g.choice([0, 1, -2, 0.5, -1.25])
    step = g.choice([1, 2, 0.3, -0.7, 0.25, 3])
    count = g.integers(0, 6)
    return [], {"start": start, "end": start + step * count + g.choice([0, 0.1, -0.1]), "step": step,
                "dtype": g.dtype}


def _spaced_args(g):
    return [], {"start": g.choice([0, -1, 2.5]), "end": g.choice([1, 10, -3.5]), "steps": g.integers(0, 6),
                "dtype": g.dtype}


def _register_specs():
    from ._ops._registry import OpSpec, spec

    def factory(name, call, sample=_sized, dtypes=("float32", "int64"), **kw):
        return OpSpec(name, dtypes=dtypes, grad=False, sample=sample, call=call, **kw)

    def like(name, call, dtypes=("float32", "int64", "bool")):
        return OpSpec(name, dtypes=dtypes, grad=False, call=call)

    spec(factory("zeros", lambda torch, size, dtype: torch.zeros(size, dtype=_dtype_of(torch, dtype))),
         factory("zeros", lambda torch, size, dtype: torch.zeros(*size, dtype=_dtype_of(torch, dtype))),
         factory("ones", lambda torch, size, dtype: torch.ones(size=size, dtype=_dtype_of(torch, dtype))),
         factory("empty", lambda torch, size, dtype: torch.empty(size, dtype=_dtype_of(torch, dtype)).fill_(2)),
         factory("full", lambda torch, size, dtype: torch.full(size, 7, dtype=_dtype_of(torch, dtype))),
         factory("full", lambda torch, size, dtype: torch.full(size, 1.5)),
         factory("arange", lambda torch, dtype, **kw: torch.arange(**kw, dtype=_dtype_of(torch, dtype)), _range,
                 ("float32", "float64", "int64")),
         factory("arange", lambda torch, dtype, **kw: torch.arange(**kw), _range),
         factory("linspace", lambda torch, dtype, **kw: torch.linspace(**kw, dtype=_dtype_of(torch, dtype)),
                 _spaced_args, ("float32", "float64", "int64")),
         factory("logspace", lambda torch, dtype, **kw: torch.logspace(**kw, base=2, dtype=_dtype_of(torch, dtype)),
                 _spaced_args, ("float32", "float64")),
         factory("eye", lambda torch, size, dtype: torch.eye(*size[:2], dtype=_dtype_of(torch, dtype)),
                 lambda g: ([], {"size": g.shape(1, 2), "dtype": g.dtype}), ("float32", "int64", "bool"),
                 large=False),  # NOTE: a long side n would make an n x n matrix
         like("zeros_like", lambda torch, x: torch.zeros_like(x)),
         like("ones_like", lambda torch, x: torch.ones_like(x, dtype=torch.float64)),
         like("empty_like", lambda torch, x: torch.empty_like(x).fill_(1)),
         like("full_like", lambda torch, x: torch.full_like(x, 3)),
         like("new_zeros", lambda torch, x: x.new_zeros((2, 3))),
         like("new_ones", lambda torch, x: x.new_ones(3, dtype=torch.int32)),
         like("new_full", lambda torch, x: x.new_full((2,), 1)),
         like("new_empty", lambda torch, x: x.new_empty((0, 2))),
         like("new_tensor", lambda torch, x: x.new_tensor([1, 0, 1])),
         OpSpec("tensor", dtypes=("float32", "int64", "bool"), grad=False,
                call=lambda torch, x: torch.tensor(x.tolist())),
         OpSpec("as_tensor", dtypes=("float32", "int64"), call=lambda torch, x: torch.as_tensor(x) * 2),
         OpSpec("as_tensor", dtypes=("float32", "int64"), grad=False,
                call=lambda torch, x: torch.as_tensor(x.tolist(), dtype=torch.float64)),
         OpSpec("from_numpy", dtypes=("float32", "int64", "bool", "int8"), grad=False,
                call=lambda torch, x: torch.from_numpy(x.numpy())),
         OpSpec("scalar_tensor", dtypes=("float32",), grad=False, shapes=[((),)],
                call=lambda torch, x: torch.scalar_tensor(x.item())),
         OpSpec("clone", kwargs=({"memory_format": "contiguous_format"}, {"memory_format": "preserve_format"}),
                call=lambda torch, x, memory_format: torch.clone(x, memory_format=getattr(torch, memory_format))))


_register_specs()
