"""torch.nn.functional: the layers' computations as functions (linear, activations, losses, ...)."""
from .. import _ops  # noqa: F401  (every op registered before the functions below use them)



def linear(input, weight, bias=None):
    """y = input @ weight.T + bias."""
    out = input.matmul(weight.t())
    return out if bias is None else out + bias


def bilinear(input1, input2, weight, bias=None):
    """y_k = input1 @ weight[k] @ input2 + bias_k over the last dims."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} "
                           f"and {list(input2.shape[:-1])}")
    left = input1.unsqueeze(-2).unsqueeze(-3).matmul(weight)  # (..., K, 1, J)
    out = (left.squeeze(-2) * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias



