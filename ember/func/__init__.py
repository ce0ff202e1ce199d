"""torch.func: composable function transforms."""
from ._forward import jacfwd, jvp
