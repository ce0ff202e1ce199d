"""The primitive behind torch.nn.functional.ctc_loss: the CTC forward (alpha) recursion in log space,
vectorised over the batch and the extended label positions (a loop over time steps only).

NOTE: a primitive for speed and for PyTorch's gradient: its backward runs the beta recursion on
arrays and returns PyTorch's formula, exp(log_probs) - exp(log(alpha * beta) + nll - log_probs),
which is the gradient with respect to the logits behind a log_softmax (it differs from the plain
derivative with respect to log_probs by exp(log_probs); PyTorch's CTC backward gives this one).
"""
from ... import _dtype
from ..._tensor import _wrap
from ...autograd.function import Primitive, once_differentiable
from .._registry import bind
from ..reduction.reduce import _quiet

NEG_INF = float("-inf")


FLOOR = -1e30  # NOTE: a finite stand-in for a -inf maximum: -inf - FLOOR stays -inf, and log(0) + FLOOR is -inf


def _logsumexp3(xp, a, b, c, out):
    """out = log(exp(a) + exp(b) + exp(c)) (-inf where all three are), with few temporaries."""
    top = xp.maximum(a, b)
    xp.maximum(top, c, out=top)
    xp.maximum(top, FLOOR, out=top)
    xp.exp(xp.subtract(a, top, out=out), out=out)
    out += xp.exp(b - top)
    out += xp.exp(c - top)
    xp.log(out, out=out)
    out += top
    return out


class CtcLoss(Primitive):
    """Per-sample CTC negative log-likelihood of log_probs (T, N, C) for extended labels ext (N, 2S + 1)
    (blank, l1, blank, l2, ..., blank), input_lengths and target_lengths (N,) int64."""
    inputs = 4
    upcast = True
    node_name = "CtcLossBackward0"

    @staticmethod
    def forward(ctx, log_probs, ext, input_lengths, target_lengths, blank=0, zero_infinity=False):
        xp = ctx.xp
        T, N, _ = log_probs.shape
        W = ext.shape[1]
        rows = xp.arange(N)
        with _quiet(xp):
            lp_ext = log_probs[:, rows[:, None], ext]  # (T, N, W): each position's label log-probability
            skip = xp.zeros(ext.shape, dtype=bool)  # where position s - 2 may go straight to s
            skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
            # NOTE: alpha sits in a buffer with two -inf columns in front, so the steps from s - 1 and
            # s - 2 are views; skip_bias (0 or -inf) forbids s - 2 where the labels repeat or s is a blank.
            padded = xp.full((T, N, W + 2), NEG_INF, dtype=log_probs.dtype)
            alpha = padded[:, :, 2:]
            skip_bias = xp.where(skip, 0, NEG_INF).astype(log_probs.dtype)
            if T:
                alpha[0, :, 0] = lp_ext[0, :, 0]
                if W > 1:
                    alpha[0, :, 1] = xp.where(target_lengths > 0, lp_ext[0, :, 1], NEG_INF)
            for t in range(1, T):
                prev = padded[t - 1]
                step = _logsumexp3(xp, prev[:, 2:], prev[:, 1:-1], prev[:, :-2] + skip_bias, alpha[t])
                step += lp_ext[t]
            last = xp.maximum(input_lengths - 1, 0)
            end = alpha[last, rows] if T else xp.full((N, W), NEG_INF, dtype=log_probs.dtype)
            final = end[rows, 2 * target_lengths]
            before = xp.where(target_lengths > 0, end[rows, xp.maximum(2 * target_lengths - 1, 0)], NEG_INF)
            top = xp.maximum(final, before)
            top = xp.where(top == NEG_INF, 0, top)
            nll = -(xp.log(xp.exp(final - top) + xp.exp(before - top)) + top)
            # an empty input emits only the empty target (probability 1); anything else is impossible
            empty = xp.where(target_lengths == 0, 0.0, float("inf")).astype(nll.dtype)
            nll = xp.where(input_lengths == 0, empty, nll)
        ctx.set_materialize_grads(False)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(log_probs)
            ctx.state = (ext, input_lengths, target_lengths, alpha, lp_ext, skip, nll, zero_infinity)
        if zero_infinity:
            nll = xp.where(nll == float("inf"), 0, nll)
        return nll.astype(log_probs.dtype, copy=False)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (log_probs,) = ctx.saved_tensors
        lp = log_probs._data.astype(ctx.state[3].dtype, copy=False)
        grad = _ctc_grad(ctx.xp, lp, g._data, ctx.state)
        return _wrap(grad.astype(lp.dtype, copy=False), g._device, log_probs._dtype), None, None, None


def _ctc_grad(xp, lp, g, state):
    ext, input_lengths, target_lengths, alpha, lp_ext, skip, nll, zero_infinity = state
    T, N, C = lp.shape
    W = ext.shape[1]
    rows = xp.arange(N)
    last = (input_lengths - 1)[:, None]
    ends = xp.full((N, W), False)
    ends[rows, 2 * target_lengths] = True
    ends[rows, xp.maximum(2 * target_lengths - 1, 0)] |= target_lengths > 0
    skip_back = xp.zeros(skip.shape, dtype=bool)  # where s + 2 may be reached straight from s
    skip_back[:, :-2] = skip[:, 2:]
    with _quiet(xp):
        # NOTE: beta sits in a buffer with two -inf columns behind (steps from s + 1 and s + 2 as views)
        padded = xp.full((T + 1, N, W + 2), NEG_INF, dtype=lp.dtype)
        beta = padded[:T, :, :W]
        skip_bias = xp.where(skip_back, 0, NEG_INF).astype(lp.dtype)
        for t in range(T - 1, -1, -1):
            # NOTE: rows past their last step stay -inf by themselves (they only see -inf after them);
            # at a row's last step the recursion gives -inf too, and the end positions start it.
            nxt = padded[t + 1]
            step = _logsumexp3(xp, nxt[:, :W], nxt[:, 1:W + 1], nxt[:, 2:] + skip_bias, beta[t])
            step += lp_ext[t]
            xp.copyto(step, lp_ext[t], where=ends & (t == last))
        # log(sum over the positions s labelled c of alpha * beta), per (t, n, c): one batched matmul
        ab = alpha + beta
        top = ab.max(axis=-1, keepdims=True)
        top = xp.where(top == NEG_INF, 0, top)
        onehot = (ext[:, :, None] == xp.arange(C)).astype(lp.dtype)  # (N, W, C)
        sums = xp.matmul(xp.exp(ab - top).transpose(1, 0, 2), onehot).transpose(1, 0, 2)
        lcab = xp.log(sums) + top
        grad = xp.exp(lp) - xp.exp(lcab + nll[None, :, None] - lp)
    live = xp.arange(T)[:, None] < input_lengths[None, :]  # (T, N)
    grad = xp.where(live[:, :, None], grad, 0)
    if zero_infinity:
        grad = xp.where((nll == float("inf"))[None, :, None], 0, grad)
    return grad * g[None, :, None]


# === torch.nn.functional.ctc_loss: PyTorch's argument handling and reductions ========================
def _lengths(value, name, batch, xp):
    """input_lengths / target_lengths (a Tensor or a sequence of ints) as an int64 array."""
    from ..._tensor import Tensor
    if isinstance(value, Tensor):
        if value.dtype.is_floating_point or value.dtype.is_complex:
            raise RuntimeError(f"{name} must be integral")
        arr = value._data.reshape(-1).astype("int64")
    elif not isinstance(value, (list, tuple)):
        raise TypeError(f"ctc_loss() received an invalid combination of arguments: '{name}' must be a Tensor or a "
                        f"tuple of ints, not {type(value).__name__}")
    else:
        items = value
        for v in items:
            if isinstance(v, float):
                raise TypeError(f"ctc_loss(): argument '{name}' failed to unpack the object at pos 2 with error "
                                "\"type must be tuple of ints,but got float\"")
        arr = xp.asarray([int(v) for v in items], dtype="int64")
    if arr.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return arr


def _padded_targets(targets, target_lengths, xp):
    """(N, S) int64 targets from padded (N, S) or concatenated 1-d targets."""
    data = targets._data
    if data.dtype.kind not in "iu":
        data = data.astype("int64")
    longest = int(target_lengths.max()) if target_lengths.size else 0
    if targets.dim() == 1:  # NOTE: concatenated targets (a batched call's 1-d targets)
        starts = xp.cumsum(target_lengths) - target_lengths
        total = int(target_lengths.sum())
        if total > data.shape[0]:
            raise RuntimeError(f"Expected tensor to have size at least {total} at dimension 0, but got size "
                               f"{data.shape[0]} for argument #2 'targets' (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
        idx = starts[:, None] + xp.arange(longest)[None, :]
        idx = xp.minimum(idx, max(data.shape[0] - 1, 0))
        return data[idx] if data.shape[0] else xp.zeros((len(target_lengths), longest), dtype="int64")
    data = data.reshape(len(target_lengths), -1)
    if longest > data.shape[1]:
        raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                           f"{data.shape[1]} for argument #2 'targets' (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    return data


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist Temporal Classification loss of log_probs (T, N, C) (or (T, C)) against targets
    (padded (N, S) or concatenated); reduction 'mean' divides each loss by its target length first."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    xp = log_probs.device.backend.xp
    batched = log_probs.dim() == 3
    if not batched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0)
        if log_probs.dim() != 3:
            raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.dim()}-dimensional tensor for "
                               "argument #1 'log_probs' (while checking arguments for ctc_loss_allocate_outputs)")
    T, N, C = log_probs.shape
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    in_len = _lengths(input_lengths, "input_lengths", N, xp)
    tgt_len = _lengths(target_lengths, "target_lengths", N, xp)
    if blank < 0 or blank >= C:
        raise RuntimeError("blank must be in label range")
    for name, arr, top in (("input_lengths", in_len, T),):
        if arr.size and int(arr.max()) > top:
            raise RuntimeError(f"Expected {name} to have value at most {top}, but got value {int(arr.max())} "
                               "(while checking arguments for ctc_loss_allocate_outputs)")
        if arr.size and int(arr.min()) < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {int(arr.min())} "
                               "(while checking arguments for ctc_loss_allocate_outputs)")
    padded = _padded_targets(targets, tgt_len, xp)
    S = padded.shape[1]
    ext = xp.full((N, 2 * S + 1), blank, dtype="int64")
    ext[:, 1::2] = xp.clip(padded, 0, C - 1)
    dev = log_probs.device
    loss = CtcLoss.apply(log_probs, _wrap(ext, dev, _dtype.int64), _wrap(in_len, dev, _dtype.int64),
                         _wrap(tgt_len, dev, _dtype.int64), blank, zero_infinity)
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        divisor = _wrap(xp.maximum(tgt_len, 1).astype(loss._data.dtype), dev, loss.dtype)
        return (loss / divisor).mean()
    return loss if batched else loss.squeeze(0)


def _torch_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    """torch.ctc_loss: reduction as ATen's enum (0 none, 1 mean, 2 sum); without it, per-sample losses."""
    names = {0: "none", 1: "mean", 2: "sum"}
    return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, names.get(reduction, reduction),
                    zero_infinity)


_torch_ctc_loss.__name__ = "ctc_loss"
bind("ctc_loss", _torch_ctc_loss)
