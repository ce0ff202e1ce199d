"""torch.func: composable function transforms (grad, vjp, jacrev, jvp, jacfwd, hessian, functional_call, vmap, ...).

Reverse-mode transforms are in _reverse.py, forward-mode ones (jvp, jacfwd) in _forward.py, functional_call
and stack_module_state in _functional_call.py, functionalize/linearize/debug_unwrap in _extras.py, vmap in _vmap.py (its batching rules in _batching/).
"""
from ._extras import debug_unwrap, functionalize, linearize, replace_all_batch_norm_modules_
from ._forward import jacfwd, jvp
from ._functional_call import functional_call, stack_module_state
from ._reverse import grad, grad_and_value, hessian, jacrev, vjp
from ._vmap import vmap

__all__ = ["debug_unwrap", "functional_call", "functionalize", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev",
           "jvp", "linearize", "replace_all_batch_norm_modules_", "stack_module_state", "vjp", "vmap"]
