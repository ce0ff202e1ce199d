"""torch.func: composable function transforms (grad, vjp, jacrev, jvp, jacfwd, hessian, functional_call, vmap, ...).

Reverse-mode transforms are in _reverse.py, forward-mode ones (jvp, jacfwd) in _forward.py, functional_call
and stack_module_state in _functional_call.py, vmap in _vmap.py (its batching rules in _batching/).
"""
from ._forward import jacfwd, jvp
from ._functional_call import functional_call, stack_module_state
from ._reverse import grad, grad_and_value, hessian, jacrev, vjp
from ._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "stack_module_state",
           "vjp", "vmap"]
