"""torch.func.functional_call and stack_module_state: a module run with other tensors in place of its
parameters and buffers, and the parameters of many same-shaped models stacked for vmap."""
import contextlib

from .._tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()  # the marker for "the module had no such attribute", restored by deleting it


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """module(*args, **kwargs) with the given tensors swapped in for its parameters and buffers (by dotted
    name), restored afterwards even if the call raises. One dict or a sequence of dicts with distinct keys.

    tie_weights: a tensor given for one of several tied names (one Parameter reached by two names) is
    used for all of them. strict: every parameter and buffer must be given, and nothing else."""
    if isinstance(parameter_and_buffer_dicts, dict):
        given = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        given = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, given, tie_weights, strict):
        return module(*args, **kwargs)


def _named_tensors(module):
    """Every parameter and buffer by every name that reaches it (tied ones more than once)."""
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _untie(module, given):
    """`given` plus, for each given name of a tied tensor, its other names mapped to the same value."""
    names_of = {}
    for name, t in _named_tensors(module).items():
        names_of.setdefault(id(t), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    untied = dict(given)
    for name in given:
        if name not in tied:
            continue
        group = tied[name]
        values = {id(given[n]) for n in group if n in given}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(group)}, which are tied. "
                             "Consider using tie_weights=False")
        for other in group:
            untied[other] = given[name]
    return untied


def _check_strict(module, tensors):
    valid = set(_named_tensors(module))
    missing, unexpected = sorted(valid - set(tensors)), sorted(set(tensors) - valid)
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(), "\n\t".join(errors)))


def _owner(module, path):
    """(the submodule holding the dotted name `path`, the last part of the name)."""
    *parents, attr = path.split(".")
    for part in parents:
        try:
            child = getattr(module, part)
        except AttributeError as exc:
            raise AttributeError(f"{module._get_name()} has no attribute `{part}`") from exc
        if not hasattr(child, "_parameters"):
            raise TypeError(f"{child} is not an instance of torch.nn.Module")
        module = child
    return module, attr


def _swap(module, path, value):
    """Put `value` at the dotted name `path` and return what was there (_MISSING if nothing)."""
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    owner, name = _owner(module, path)
    # NOTE: the registries are written directly: Module.__setattr__ refuses a plain Tensor for a
    # Parameter's slot, and functional_call must accept any tensor (a stand-in under grad or vmap).
    for registry in (owner._parameters, owner._buffers):
        if name in registry:
            old = registry[name]
            if value is _MISSING:
                del registry[name]
            else:
                registry[name] = value
            return old
    old = getattr(owner, name) if hasattr(owner, name) else _MISSING
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise TypeError(f"attribute `{name}`: {old} is not an instance of torch.Tensor")
    if value is not _MISSING:
        setattr(owner, name, value)
    elif hasattr(owner, name):
        delattr(owner, name)
    return old


@contextlib.contextmanager
def _swapped(module, given, tie_weights, strict):
    """The module with `given` swapped in for the body of the with-statement; the originals put back
    after it, and the tensors the module holds then written back into `given` (as PyTorch does)."""
    tensors = _untie(module, given) if tie_weights else given
    if strict:
        _check_strict(module, tensors)
    originals = {}
    try:
        for path, value in tensors.items():
            originals[path] = _swap(module, path, value)
        yield
    finally:
        current = {path: _swap(module, path, old) for path, old in reversed(list(originals.items()))}
        given.update({k: current[k] for k in given if k in current and current[k] is not _MISSING})


def stack_module_state(models):
    """(params, buffers): each parameter and buffer of the models stacked along a new first dim, by name.
    Stacked parameters are new leaves that require grad when the models' parameters do."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first_type = type(models[0])
    if not all(type(m) is first_type for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers


def _stacked_leaf(tensors, name):
    from .. import stack  # NOTE: at call time: ember.func is imported before the ops are published
    needs = [t.requires_grad for t in tensors]
    if any(needs) and not all(needs):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack(tensors)
    return result.detach().requires_grad_() if all(needs) else result
