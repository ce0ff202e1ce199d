"""torch.optim.Optimizer: parameter groups, per-parameter state, state_dict, step hooks."""
import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, set_grad_enabled
from ..nn.modules.module import _zero_grads
from ..utils.hooks import RemovableHandle
from . import _foreach

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook", "required"]


class _RequiredParameter:
    """Marks a hyperparameter that every param group must give (PyTorch's `required`)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_step_pre_hooks = OrderedDict()
_global_step_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """A hook run before every optimizer's step: hook(optimizer, args, kwargs)."""
    handle = RemovableHandle(_global_step_pre_hooks)
    _global_step_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """A hook run after every optimizer's step: hook(optimizer, args, kwargs)."""
    handle = RemovableHandle(_global_step_post_hooks)
    _global_step_post_hooks[handle.id] = hook
    return handle


def _typename(obj):
    """torch.typename: 'torch.FloatTensor' for a tensor, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", None)
    prefix = f"{module}." if module not in (None, "builtins", "__builtin__") else ""
    cls = obj if isinstance(obj, type) else type(obj)
    return prefix + getattr(cls, "__qualname__", cls.__name__)


def _scalar(value):
    """A hyperparameter as a Python number (a 1-element tensor lr becomes its value)."""
    return value.item() if isinstance(value, Tensor) else value


def _to_scalar(value):
    """A 1-element tensor hyperparameter as a 0-d tensor; a number stays a number (PyTorch's `_to_scalar`).

    NOTE: PyTorch keeps a tensor lr (or beta) a tensor through the step's scalar arithmetic, so
    `lr / bias_correction` rounds in the tensor's dtype (float32 for `torch.tensor(0.01)`) before it becomes
    the `value=` of an update; the optimizers compute with this and call `_scalar` only at that point."""
    return value.squeeze() if isinstance(value, Tensor) and value.dim() != 0 else value


# NOTE: PyTorch's _get_capturable_supported_devices(); 'privateuseone' is the default private backend's name
_CAPTURABLE_DEVICES = ("cuda", "xpu", "hpu", "privateuseone")


# NOTE: PyTorch's _get_foreach_kernels_supported_devices() (the CPU has none: its default is the for-loop)
_FOREACH_DEVICES = ("cuda", "xpu", "mtia", "privateuseone")

# NOTE: PyTorch's _get_fused_kernels_supported_devices()
_FUSED_DEVICES = ["mps", "cuda", "xpu", "hpu", "cpu", "mtia", "privateuseone"]


def _check_fused(p):
    """fused=True takes floating-point parameters only (PyTorch's _device_dtype_check_for_fused)."""
    if not (p.device.type in _FUSED_DEVICES and p.is_floating_point()):
        raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of "
                           f"supported devices: {_FUSED_DEVICES} but {p.dtype} and {p.device.type}")


def _check_fused_once(optimizer, group, params):
    """SGD and Adagrad check the first parameter with a gradient, once per optimizer, as PyTorch does."""
    if group.get("fused") and params and getattr(optimizer, "_need_device_dtype_check_for_fused", True):
        _check_fused(params[0])
        optimizer._need_device_dtype_check_for_fused = False


def _check_capturable(group, params, what="params and state_steps", xla=True):
    """capturable=True needs the parameters on an accelerator: PyTorch's AssertionError on the CPU."""
    if not group.get("capturable") or not params:
        return
    devices = list(_CAPTURABLE_DEVICES) + (["xla"] if xla else [])
    if any(p.device.type not in devices for p in params):
        raise AssertionError(f"If capturable=True, {what} must be on supported devices: {devices}.")


def _step_tensor():
    """The `step` counter, kept as a float32 0-d tensor as PyTorch keeps it."""
    from .._creation import tensor
    from .._dtype import float32
    return tensor(0.0, dtype=float32)


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_nonnegative(name, value, label=None):
    if not 0.0 <= value:
        raise ValueError(f"Invalid {label or name} value: {value}")


def _use_grad(step):
    """Run `step` with grad recording off (on when the optimizer is `differentiable`)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        with set_grad_enabled(self.defaults.get("differentiable", False)):
            return step(self, *args, **kwargs)
    return wrapper


def _with_step_hooks(step):
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for hook in chain(_global_step_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result}.")
        out = step(self, *args, **kwargs)
        for hook in chain(self._optimizer_step_post_hooks.values(), _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out
    wrapper.hooked = True
    return wrapper


def _closure_loss(closure):
    """Evaluate the closure with grad recording on (PyTorch does so inside step)."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


class Hyperparameters(dict):
    """A param group's hyperparameters as one step reads them: `h.lr` (or `h["lr"]`, as in the group)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


_HOOK_DICTS = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
               "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
               "_optimizer_load_state_dict_post_hooks")


class Optimizer:
    """Base class of all optimizers: holds `param_groups`, `defaults` and per-parameter `state`.

    `step` owns the skeleton every optimizer shares: the closure (under enable_grad), grad mode off (on when
    `differentiable`), and for each group the parameters that have a gradient, the group's checks, state
    initialisation, the `step` counters, the group's hyperparameters, then one of the update's forms.
    To add an optimizer, write its `__init__` (argument checks, `defaults`) and its equations:

    - `_init_state(p, group, state)`: fill a parameter's empty `state` (its first step).
    - `_update(p, grad, state, h)`: one parameter's update in Tensor ops (`grad` already negated under
      `maximize`; `h` holds the group's hyperparameters by name, `h.foreach` the resolved foreach flag).
      This form also serves `differentiable=True`, float16/bfloat16 and complex parameters.
    - optionally `_update_foreach(params, states, h)`: the whole group at once on raw arrays
      (`optim._foreach`; it reads `p.grad` and applies `maximize` itself, bumps the version counter of
      every tensor it writes as PyTorch's in-place ops would, and records nothing in the graph), in
      PyTorch's foreach rounding order. Set `_loop_is_foreach = True` where PyTorch's for-loop rounds as its
      foreach does, so the CPU default path uses it too; `_raw_ok(h)` may refuse hyperparameters it does
      not handle (a tensor beta), which then take `_update`.

    Hooks with defaults: `_check_group(group, params)` (fused refusals, before state initialisation),
    `_check_group_state(group, params)` (the capturable check, after it), `_hyperparameters(group, foreach)`,
    `_default_foreach(group, params)`. A fused GPU kernel would be a third form beside the two updates.
    LBFGS (closure-driven) and SparseAdam (refuses dense gradients) keep their own `step`.
    """

    # NOTE: keys a subclass adds to old param groups on load (PyTorch's per-class __setstate__ defaults)
    _group_defaults = {}
    # NOTE: whether this optimizer keeps `step` as a tensor (all but SGD, LBFGS and SparseAdam); the skeleton
    # counts it up before the update
    _tensor_step = True
    _counts_steps = True
    # NOTE: PyTorch's capturable refusal names what it checked; the foreach check leaves out 'xla'
    _capturable_what = "params and state_steps"
    _capturable_xla = True
    _loop_is_foreach = False

    def __init__(self, params, defaults):
        self.defaults = defaults
        for name in _HOOK_DICTS:
            setattr(self, name, OrderedDict())
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _patch_step_function(self):
        cls = self.__class__
        if not getattr(cls.step, "hooked", False):
            cls.step = _with_step_hooks(cls.step)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in _HOOK_DICTS:
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._group_defaults.items():
                group.setdefault(key, value)
            if self._tensor_step:
                self._step_to_tensor(group)

    def _step_to_tensor(self, group):
        """Old checkpoints kept `step` as a Python number; PyTorch turns it back into a float32 tensor."""
        for p in group["params"]:
            p_state = self.state.get(p)
            if p_state and "step" in p_state and not isinstance(p_state["step"], Tensor):
                step = _step_tensor()
                step.fill_(float(p_state["step"]))
                p_state["step"] = step

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- param groups --------------------------------------------------------------------------------

    def add_param_group(self, param_group):
        """Add a group of parameters (with its own hyperparameters) to `param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients and steps -------------------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's `.grad` (to None by default, as PyTorch 2.x)."""
        _zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        with set_grad_enabled(self.defaults.get("differentiable", False)):
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):
        params = self._params_with_grad(group)
        self._check_group(group, params)
        states = [self._state_of(p, group) for p in params]
        self._check_group_state(group, params)
        if not params:
            return
        if self._counts_steps:
            _foreach.increment([state["step"] for state in states])
        foreach = self._foreach_flag(group, params)
        h = self._hyperparameters(group, foreach)
        raw = (not group.get("differentiable") and not group.get("capturable") and not group.get("fused")
               and _foreach.raw_dtypes(params) and self._raw_ok(h) and not any(p.grad._sparse for p in params))
        if raw and (foreach or self._loop_is_foreach) and type(self)._update_foreach is not Optimizer._update_foreach:
            self._update_foreach(params, states, h)
            return
        for p, state in zip(params, states):
            self._update(p, _grad_of(p, h.maximize), state, h)

    def _params_with_grad(self, group):
        return [p for p in group["params"] if p.grad is not None]

    def _state_of(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            self._init_state(p, group, state)
        return state

    # -- what an optimizer declares (see the class docstring) ----------------------------------------

    def _init_state(self, p, group, state):
        """Fill a parameter's empty state on its first step."""

    def _update(self, p, grad, state, h):
        """One parameter's update, in Tensor ops."""
        raise NotImplementedError

    def _update_foreach(self, params, states, h):
        """The group's update on raw arrays (optional)."""
        raise NotImplementedError

    def _raw_ok(self, h):
        """Whether `_update_foreach` handles these hyperparameters (numbers, not tensors, say)."""
        return True

    def _check_group(self, group, params):
        """Checks before state initialisation (fused refusals)."""

    def _check_group_state(self, group, params):
        """Checks after state initialisation: PyTorch's capturable refusal."""
        xla = self._capturable_xla and not group.get("foreach")
        _check_capturable(group, params, self._capturable_what, xla=xla)

    def _foreach_flag(self, group, params):
        """foreach as PyTorch resolves it: the user's True/False, else `_default_foreach`."""
        foreach = group.get("foreach")
        if foreach is None and group.get("fused") is None:
            return self._default_foreach(group, params)
        return bool(foreach)

    def _default_foreach(self, group, params):
        """PyTorch's _default_to_fused_or_foreach: foreach when every parameter is on an accelerator with
        foreach kernels and the step is not differentiable; the for-loop on the CPU."""
        if group.get("differentiable"):
            return False
        return all(p.device.type in _FOREACH_DEVICES for p in params)

    def _hyperparameters(self, group, foreach):
        """The group's hyperparameters by name (`h.lr`, `h.eps`, ...); a 1-element tensor lr as a 0-d tensor."""
        h = Hyperparameters((k, v) for k, v in group.items() if k not in ("params", "param_names"))
        h.foreach = foreach
        if "lr" in group:
            h.lr = _to_scalar(group["lr"])
        h.maximize = group.get("maximize", False)
        return h

    # -- hooks ---------------------------------------------------------------------------------------

    def _register(self, store, hook, prepend=False):
        handle = RemovableHandle(store)
        store[handle.id] = hook
        if prepend:
            store.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), run before `step`."""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None, run after `step`."""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state_dict ----------------------------------------------------------------------------------

    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}; tensors are not copied."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            start = len(index)
            for offset, p in enumerate(group["params"]):
                index.setdefault(id(p), start + offset)
            packed["params"] = [index[id(p)] for p in group["params"]]
            packed_groups.append(packed)
        packed_state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": packed_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a `state_dict()`; the groups must match this optimizer's in number and sizes."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        flags = {}
        for g in state_dict["param_groups"]:
            for i in g["params"]:
                flags.setdefault(i, g.get("fused", False) or g.get("capturable", False))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = _cast_state(param, value, flags.get(key, False))
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _cast_state(param, value, fused_or_capturable, key=None):
    """Move loaded state to the parameter's device (and float dtype); `step` keeps its dtype."""
    if isinstance(value, Tensor):
        if key == "step":
            if fused_or_capturable:
                from .._dtype import float32
                return value.to(dtype=float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, fused_or_capturable, key=k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, fused_or_capturable) for v in value)
    return value


def _grad_of(p, maximize):
    return -p.grad if maximize else p.grad



def _as_real(*tensors):
    """Complex tensors as real (..., 2) views: PyTorch updates a complex parameter as pairs of reals."""
    from .._ops.pointwise.complex import view_as_real
    return [view_as_real(t) if t.is_complex() else t for t in tensors]
