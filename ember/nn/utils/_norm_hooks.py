"""Finding the forward pre-hooks that weight_norm and spectral_norm register on a parameter."""


def refuse_second_hook(module, hook_type, name, what):
    """PyTorch's RuntimeError where `module` already has a `hook_type` hook on parameter `name`."""
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, hook_type) and hook.name == name:
            raise RuntimeError(f"Cannot register two {what} hooks on the same parameter {name}")


def remove_hook(module, hook_type, name, what):
    """Undo the `hook_type` hook on parameter `name` and unregister it (PyTorch's ValueError if none)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_type) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")
