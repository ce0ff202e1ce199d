"""torch.func: composable function transforms (grad, vjp, jacrev, hessian, functional_call, ...).

Reverse-mode transforms are in _reverse.py, functional_call and stack_module_state in _functional_call.py.
"""
from ._functional_call import functional_call, stack_module_state
from ._reverse import grad, grad_and_value, hessian, jacrev, vjp

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacrev", "stack_module_state", "vjp"]
