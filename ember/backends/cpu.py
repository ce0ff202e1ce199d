"""torch.backends.cpu: the CPU's vector capability."""


def get_cpu_capability():
    """ember does not dispatch on the CPU's vector width; NumPy does its own: 'DEFAULT'."""
    return "DEFAULT"
