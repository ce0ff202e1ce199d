"""Random sampling inside vmap: the `randomness=` modes ('error', 'same', 'different').

Every public sampler of ember (torch.rand, bernoulli, Tensor.normal_, ...) is marked in ember/_random.py and
ember/_sampling.py with the kind of its arguments; while a vmap is active the call comes here, which resolves
the innermost level and calls the sampler again with that level set aside (so nested levels resolve in turn):

- 'error': PyTorch's error.
- 'same': one draw for the whole batch, broadcast (an in-place sampler on a batched tensor draws one example
  and copies it into every row). A sampler whose values depend on a batched input refuses, as PyTorch does.
- 'different': every example draws its own values. Elementwise samplers (bernoulli, normal(mean tensor),
  poisson, the *_like samplers, the in-place samplers) run once on the physical batch (an unbatched input is
  expanded over the batch first), so they do not loop; factories (rand, randn, randint, randperm, normal with
  number arguments) and multinomial draw once per example and stack the draws.
"""
from ..._tensor import Tensor
from .tensor import BatchedTensor, batched, levels

ERROR_MODE = ("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
              "'different' randomness flags on vmap or perform the randomness operation out of vmap")
SAME_BATCHED = ("Vmap does not currently support same randomness with a batched tensor input. Please file an issue "
                "with functorch")
DIFFERENT_UNBATCHED_INPLACE = (
    "vmap: Cannot ask for different inplace randomness on an unbatched tensor. This will appear like same "
    "randomness. If this is necessary for your usage, please file an issue with functorch.")

# The kinds a sampler is marked with (ember/_random.py `_vmap_random`):
FACTORY = "factory"          # no tensor argument decides the values: rand(2, 3), randperm(5), normal(0., 1., size)
LIKE = "like"                # the first argument gives only shape/dtype/device: rand_like(x)
ELEMENTWISE = "elementwise"  # the first argument's elements parametrise the draws: bernoulli(p), poisson(rates)
INPLACE = "inplace"          # the first argument is filled in place: x.normal_(), x.bernoulli_(0.5)
ROWS = "rows"                # values depend on the input, not elementwise: multinomial


def call_random(kind, fn, args, kwargs):
    """fn(*args, **kwargs) under the active vmap levels, by the innermost level's randomness mode."""
    stack = levels()
    if not stack:
        return fn(*args, **kwargs)
    level = stack.pop()
    number = len(stack) + 1
    def inner(*a, **k):  # NOTE: the sampler under the remaining (outer) levels
        return call_random(kind, fn, a, k)
    try:
        return _at_level(kind, inner, args, kwargs, level, number)
    finally:
        stack.append(level)


def _is_at(t, number):
    return type(t) is BatchedTensor and t._level == number


def _at_level(kind, fn, args, kwargs, level, number):
    mode = level.randomness
    if mode == "error":
        raise RuntimeError(ERROR_MODE)
    at = [i for i, a in enumerate(args) if _is_at(a, number)] + [k for k, v in kwargs.items() if _is_at(v, number)]
    if kind == INPLACE and 0 in at and _mixed_modes(args[0], mode):
        # NOTE: as PyTorch: an in-place draw into a tensor batched at a 'same' level is made into one unbatched
        # example, which an outer 'different' level then refuses
        raise RuntimeError(DIFFERENT_UNBATCHED_INPLACE)
    if mode == "same":
        return _same(kind, fn, args, kwargs, at, number)
    return _different(kind, fn, args, kwargs, at, level, number)


def _mixed_modes(self, mode):
    """Whether an in-place draw resolved at a 'same' level still has a 'different' level outside it."""
    return mode == "same" and any(lvl.randomness == "different" for lvl in levels())


def _same(kind, fn, args, kwargs, at, number):
    if not at:
        return fn(*args, **kwargs)
    if kind == LIKE and at == [0]:
        # NOTE: only the shape is read: one example's (logical) tensor stands in for the batch
        return fn(args[0]._value.select(0, 0), *args[1:], **kwargs)
    if kind == INPLACE and at == [0]:
        self = args[0]
        one = fn(self._value.select(0, 0).clone(), *args[1:], **kwargs)
        _copy_rows(self, one)
        return self
    raise RuntimeError(SAME_BATCHED)


def _copy_rows(self, one):
    """Write `one` (an example) into every row of the batched `self`, through its physical value."""
    value = self._value
    value.copy_(one.unsqueeze(0).expand(tuple(value.shape)))


def _different(kind, fn, args, kwargs, at, level, number):
    size = level.size
    first_only = not at or at == [0]
    if kind == INPLACE:
        if 0 not in at:
            raise RuntimeError(DIFFERENT_UNBATCHED_INPLACE)
        if first_only:  # NOTE: the physical batch filled in one call: a draw per element is a draw per example
            fn(args[0]._value, *args[1:], **kwargs)
            return args[0]
        for i in range(size):
            fn(*_example(args, number, i), **_example_kw(kwargs, number, i))
        return args[0]
    if kind in (LIKE, ELEMENTWISE) and args and isinstance(args[0], Tensor) and first_only:
        x = args[0]
        value = x._value if at else x.unsqueeze(0).expand((size,) + tuple(x.shape))
        return batched(fn(value, *args[1:], **kwargs), number)
    from ..._ops.shape.join import stack
    draws = [fn(*_example(args, number, i), **_example_kw(kwargs, number, i)) for i in range(size)]
    return batched(stack(draws), number)


def _example(args, number, i):
    return [a._value.select(0, i) if _is_at(a, number) else a for a in args]


def _example_kw(kwargs, number, i):
    return {k: (v._value.select(0, i) if _is_at(v, number) else v) for k, v in kwargs.items()}
