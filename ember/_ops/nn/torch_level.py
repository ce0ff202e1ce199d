"""The nn functions PyTorch also exposes as torch.* with ATen's low-level signatures (reduction as an int,
positional flags, several outputs): each delegates to ember's nn implementation (nn.functional, the RNN
modules' layer loop), so values and gradients are the same code's."""
import math

from ..._tensor import Tensor
from .._registry import OpSpec, public, spec

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}
# NOTE: PyTorch 2.13's torch.<loss>(...) called without `reduction` does not reduce (its Python binding passes 0):
# the defaults below are 0, unlike nn.functional's "mean" (tests/ops/test_torch_level_losses.py checks each)


def _F():
    from ...nn import functional
    return functional


def _tensors(name, **named):
    """PyTorch's TypeError for an argument that must be a Tensor (None allowed where marked optional_)."""
    from ..._arguments import type_name
    for position, (arg, value) in enumerate(named.items(), 1):
        optional = arg.startswith("optional_")
        arg = arg[len("optional_"):] if optional else arg
        if not isinstance(value, Tensor) and not (optional and value is None):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type_name(value)}")


def _reduction(reduction):
    """NOTE: as ATen's apply_loss_reduction: 1 is the mean, 2 the sum, any other value leaves the loss unreduced."""
    return _REDUCTIONS.get(reduction, "none")


# --- losses and layers --------------------------------------------------------------------------------------
@public
def bilinear(input1, input2, weight, bias=None):
    """input1^T weight input2 + bias over the last dims (nn.functional.bilinear)."""
    _tensors("bilinear", input1=input1, input2=input2, weight=weight, optional_bias=bias)
    return _F().bilinear(input1, input2, weight, bias)


@public
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """nn.functional.binary_cross_entropy_with_logits with reduction 0 (none), 1 (mean) or 2 (sum)."""
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                                 pos_weight=pos_weight)


@public
def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """nn.functional.cosine_embedding_loss with an int reduction."""
    _tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    return _F().cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


@public
def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """nn.functional.hinge_embedding_loss with an int reduction."""
    return _F().hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


@public
def kl_div(input, target, reduction=0, *, log_target=False):
    """nn.functional.kl_div with an int reduction; 1 is the mean over elements, without F's warning."""
    loss = _F().kl_div(input, target, reduction="none", log_target=log_target)
    how = _reduction(reduction)
    return loss if how == "none" else loss.mean() if how == "mean" else loss.sum()


@public
def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """nn.functional.margin_ranking_loss with an int reduction."""
    _tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    return _F().margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


@public
def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """nn.functional.poisson_nll_loss, every argument given (ATen's signature)."""
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


@public
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0):
    """nn.functional.triplet_margin_loss with an int reduction."""
    _tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_reduction(reduction))


@public
def constant_pad_nd(input, pad, value=0):
    """Pad (or crop, with negative amounts) the last dims with `value`: nn.functional.pad's constant mode."""
    return _F().pad(input, list(pad), "constant", value)


# --- dropout forms ------------------------------------------------------------------------------------------
def _dropout(input, p, train, inplace, alpha=False, feature=False):
    from ...nn.functional import _dropout as dropout
    return dropout(input, p, train, inplace, alpha=alpha, feature=feature)


@public
def alpha_dropout_(input, p, train):
    """alpha_dropout in place."""
    return _dropout(input, p, train, True, alpha=True)


@public
def feature_alpha_dropout_(input, p, train):
    """feature_alpha_dropout in place."""
    return _dropout(input, p, train, True, alpha=True, feature=True)


@public
def feature_dropout(input, p, train):
    """Dropout of whole channels (dim 1) of an input of 2 or more dims."""
    return _dropout(input, p, train, False, feature=True)


@public
def feature_dropout_(input, p, train):
    """feature_dropout in place."""
    return _dropout(input, p, train, True, feature=True)


@public
def native_dropout(input, p, train):
    """(output, mask): dropout and the bool mask of kept elements (all True when not training)."""
    from ... import _creation
    if not train or p == 0:
        return input.clone(), _creation.ones(input.shape, dtype=_bool(), device=input.device)
    keep = _creation.empty(input.shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
    return input * keep * (1.0 / (1 - p)) if p < 1 else input * keep, keep.bool()


def _bool():
    from ... import _dtype
    return _dtype.bool


# --- normalisation with its statistics ------------------------------------------------------------------------
def _optional_weight(fn):
    """NOTE: ATen's native norms take `weight` as Tensor? with no default; the generic guard (_guards.py) would
    read a parameter named weight without a None default as a required Tensor, so these skip it."""
    fn._checked = True
    return fn


def _mean_rstd(x, dims, eps, detach=True):
    """NOTE: batch and layer norm's statistics carry no gradient in PyTorch; group norm's do."""
    x = x.detach() if detach else x
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    return mean, (var + eps).rsqrt()


@public
@_optional_weight
def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(output, save_mean, save_invstd): batch_norm and, when training, the batch's mean and 1/std (empty
    tensors otherwise). Running statistics are updated in place as batch_norm does."""
    _tensors("native_batch_norm", input=input, optional_weight=weight, optional_bias=bias,
             optional_running_mean=running_mean, optional_running_var=running_var)
    out = _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = input.new_empty((0,))
        return out, empty, empty.clone()
    dims = (0,) + tuple(range(2, input.dim()))
    mean, rstd = _mean_rstd(input, dims, eps)
    return out, mean.reshape(-1), rstd.reshape(-1)


@public
@_optional_weight
def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(output, mean, rstd): layer_norm and the statistics, shaped input's leading dims + 1s."""
    _tensors("native_layer_norm", input=input, optional_weight=weight, optional_bias=bias)
    out = _F().layer_norm(input, list(normalized_shape), weight, bias, eps)
    k = len(normalized_shape)
    mean, rstd = _mean_rstd(input, tuple(range(input.dim() - k, input.dim())), eps)
    return out, mean, rstd


@public
@_optional_weight
def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(output, mean, rstd): group_norm and the (N, group) statistics (contiguous input only, as PyTorch's
    CPU kernel)."""
    _tensors("native_group_norm", input=input, optional_weight=weight, optional_bias=bias)
    if not input.is_contiguous():
        raise RuntimeError("Expected X.is_contiguous(memory_format) to be true, but got false.  (Could this error "
                           "message be improved?  If so, please report an enhancement request to PyTorch.)")
    # NOTE: computed here, not through F.group_norm, which refuses one value per group as nn.GroupNorm does
    grouped = input.reshape(N, group, -1)
    mean, rstd = _mean_rstd(grouped, (2,), eps, detach=False)
    out = ((grouped - mean) * rstd).reshape(input.shape)
    affine = (1, C) + (1,) * (input.dim() - 2)
    if weight is not None:
        out = out * weight.reshape(affine)
    if bias is not None:
        out = out + bias.reshape(affine)
    return out, mean.reshape(N, group), rstd.reshape(N, group)


# --- embedding_bag ------------------------------------------------------------------------------------------
_BAG_MODES = {0: "sum", 1: "mean", 2: "max"}


@public
def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """(output, offset2bag, bag_size, max_indices) as ATen's CPU kernel returns them; output is
    nn.functional.embedding_bag's (mode 0 sum, 1 mean, 2 max)."""
    from ... import _creation, _dtype
    out = _F().embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                             mode=_BAG_MODES[mode], sparse=sparse, per_sample_weights=per_sample_weights,
                             include_last_offset=include_last_offset, padding_idx=padding_idx)
    starts = [int(v) for v in offsets.tolist()]
    n = indices.numel()
    bounds = starts if include_last_offset else starts + [n]
    bags = len(bounds) - 1
    ids = [int(v) for v in indices.reshape(-1).tolist()]

    def longs(values, shape=None):
        t = _creation.tensor(values, dtype=_dtype.int64, device=weight.device)
        return t if shape is None else t.reshape(shape)
    if mode == 0:  # NOTE: the CPU sum kernel fills neither offset2bag nor the sizes (one per offset)
        return out, longs([]), longs([0] * len(starts)), longs([0] * len(starts))
    offset2bag = [0] * n
    for b in range(bags):
        for i in range(bounds[b], min(bounds[b + 1], n)):
            offset2bag[i] = b
    sizes = [max(0, min(bounds[b + 1], n) - bounds[b]) for b in range(bags)]
    if mode == 1:
        return out, longs(offset2bag), longs(sizes), longs(sizes)
    dim = weight.shape[1]
    table = weight.detach().tolist()
    best = []
    for b in range(bags):
        members = ids[bounds[b]:min(bounds[b + 1], n)]
        row = []
        for j in range(dim):
            pick = -1
            for i in members:
                if pick < 0 or table[i][j] > table[pick][j]:
                    pick = i
            row.append(pick)
        best.append(row)
    return out, longs(offset2bag), longs(sizes), longs(best, (bags, dim))


# --- recurrent layers ---------------------------------------------------------------------------------------
class _Layers:
    """What RNNBase's layer loop reads of a module, from the low-level call's arguments."""

    def __init__(self, mode, params, has_biases, num_layers, dropout, train, bidirectional, batch_first, proj):
        self.mode, self.bias, self.num_layers, self.dropout = mode, has_biases, num_layers, dropout
        self.training, self.bidirectional, self.batch_first = train, bidirectional, batch_first
        self.proj_size = 1 if proj else 0
        per = 2 + 2 * bool(has_biases) + bool(proj)
        groups = num_layers * (2 if bidirectional else 1)
        if len(params) != per * groups:
            raise RuntimeError(f"{mode.lower()}: expected {per * groups} parameters, got {len(params)}")
        self.all_weights = [list(params[i * per:(i + 1) * per]) for i in range(groups)]


def _run(mode, input, batch_sizes, hx, cx, params, has_biases, num_layers, dropout, train, bidirectional,
         batch_first, proj=False):
    from ...nn.modules.rnn import RNNBase
    layers = _Layers(mode, params, has_biases, num_layers, dropout, train, bidirectional,
                     batch_first and batch_sizes is None, proj)
    return RNNBase._run(layers, input, hx, cx, batch_sizes)


def _single_state(mode, args):
    _tensors(mode.lower(), input=args[0] if args else None)
    # NOTE: two ATen overloads: (input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
    # batch_first) and, for packed data, (data, batch_sizes, hx, params, ..., bidirectional)
    if isinstance(args[2], Tensor):
        data, batch_sizes, hx, params, *flags = args
        output, h_n, _ = _run(mode, data, batch_sizes, hx, None, params, *flags, False)
    else:
        input, hx, params, *flags = args
        output, h_n, _ = _run(mode, input, None, hx, None, params, *flags)
    return output, h_n


@public
def rnn_tanh(*args):
    """ATen's rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    (or with packed data and batch_sizes first): (output, h_n)."""
    return _single_state("RNN_TANH", args)


@public
def rnn_relu(*args):
    """ATen's rnn_relu, as rnn_tanh with ReLU."""
    return _single_state("RNN_RELU", args)


@public
def gru(*args):
    """ATen's gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    (or with packed data and batch_sizes first): (output, h_n)."""
    return _single_state("GRU", args)


@public
def lstm(*args):
    """ATen's lstm(input, (h0, c0), params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    (or with packed data and batch_sizes first): (output, h_n, c_n); a projection when h0 is narrower than c0."""
    _tensors("lstm", input=args[0] if args else None)
    if isinstance(args[1], Tensor):
        data, batch_sizes, hx, params, *flags = args
        flags.append(False)
    else:
        data, hx, params, *flags = args
        batch_sizes = None
    h0, c0 = hx
    proj = h0.shape[-1] != c0.shape[-1]
    return _run("LSTM", data, batch_sizes, h0, c0, params, *flags, proj=proj)


# --- specs -------------------------------------------------------------------------------------------------
def _pair_sample(g):
    shape = g.shape(1, 2, 1, 4)
    return (g.values(shape), g.values(shape)), {}


def _sign_target(g, shape):
    t = g.values(shape, domain=(-1, 1))
    t[...] = (t > 0) * 2 - 1
    return t


def _bce_sample(g):
    shape = g.shape(1, 2, 1, 4)
    pos_weight = g.values(shape[-1:], domain=(0.5, 2)) if g.boolean() else None
    return (g.values(shape), g.values(shape, domain=(0, 1)), None, pos_weight), {"reduction": g.choice([0, 1, 2])}


def _cosine_sample(g):
    n, d = g.integers(1, 4), g.integers(1, 4)
    return (g.values((n, d)), g.values((n, d)), _sign_target(g, (n,))), {"margin": 0.2, "reduction": g.choice([0, 1, 2])}


def _hinge_sample(g):
    shape = g.shape(1, 2, 1, 4)
    return (g.values(shape), _sign_target(g, shape)), {"reduction": g.choice([0, 1, 2])}


def _kl_sample(g):
    shape = g.shape(1, 2, 1, 4)
    return (g.values(shape), g.values(shape, domain=(0.1, 1))), {"reduction": g.choice([0, 1, 2])}


def _ranking_sample(g):
    n = g.integers(1, 5)
    return (g.values((n,)), g.values((n,)), _sign_target(g, (n,))), {"margin": 0.1,
                                                                      "reduction": g.choice([0, 1, 2])}


def _poisson_sample(g):
    shape = g.shape(1, 2, 1, 4)
    log_input = g.boolean()
    x = g.values(shape, domain=(-1, 1) if log_input else (0.1, 2))
    return (x, g.values(shape, domain=(0, 3)), log_input, g.boolean(), 1e-8, g.choice([0, 1, 2])), {}


def _triplet_sample(g):
    n, d = g.integers(1, 3), g.integers(1, 4)
    return (g.values((n, d)), g.values((n, d)), g.values((n, d))), {"swap": g.boolean(),
                                                                   "reduction": g.choice([0, 1, 2])}


def _bilinear_sample(g):
    n, a, b, o = (g.integers(1, 3) for _ in range(4))
    return (g.values((n, a)), g.values((n, b)), g.values((o, a, b)), g.values((o,))), {}


def _pad_sample(g):
    x = g.values(g.shape(1, 3, 1, 4))
    pad = [g.integers(0, 2) for _ in range(2 * g.integers(1, x.ndim))]
    return (x, pad), {"value": g.choice([0, 1.5])}


def _layer_norm_sample(g):
    x = g.values(g.shape(2, 3, 1, 4))
    k = g.integers(1, x.ndim - 1)
    if math.prod(x.shape[x.ndim - k:]) < 3:
        # NOTE: over one or two values the input's gradient is cancellation (exactly 0 in ember, float32
        # rounding noise in PyTorch), as nn.functional.layer_norm's spec avoids it
        x = g.values(x.shape + (3,))
        k += 1
    shape = list(x.shape[x.ndim - k:])
    return (x, shape, g.values(shape), g.values(shape), 1e-5), {}


def _group_norm_sample(g):
    # NOTE: at least 3 values per group, as for layer norm
    n, groups, per, hw = g.integers(1, 3), g.integers(1, 2), g.integers(1, 2), g.integers(3, 4)
    c = groups * per
    return (g.values((n * c * hw,)).reshape(n, c, hw), g.values((c,)), g.values((c,)), n, c, hw, groups, 1e-5), {}


def _batch_norm_sample(g):
    x = g.values((g.integers(2, 3), g.integers(1, 3), g.integers(1, 3)))
    c = x.shape[1]
    return (x, g.values((c,)), g.values((c,)), None, None, True, 0.1, 1e-5), {}


def _rnn_sample(mode):
    def sample(g):
        steps, batch, feat, hidden = g.integers(1, 3), g.integers(1, 2), g.integers(1, 3), g.integers(1, 3)
        gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
        layers, bidir, bias = g.integers(1, 2), g.boolean(), g.boolean()
        dirs = 2 if bidir else 1
        params = []
        for layer in range(layers):
            width = feat if layer == 0 else hidden * dirs
            for _ in range(dirs):
                params += [g.values((gates * hidden, width)), g.values((gates * hidden, hidden))]
                if bias:
                    params += [g.values((gates * hidden,)), g.values((gates * hidden,))]
        h0 = g.values((layers * dirs, batch, hidden))
        hx = [h0, g.values((layers * dirs, batch, hidden))] if mode == "LSTM" else h0
        return (g.values((steps, batch, feat)), hx, params, bias, layers, 0.0, False, bidir, False), {}
    return sample


# NOTE: the tolerance of nn.functional's norm specs (normalization.py): float32 reductions in another order
# (also for the recurrent layers, whose gradients sum over time steps)
_NORM_TOL = {"rtol": {"float32": 1e-4}, "atol": {"float32": 1e-4}}
spec(OpSpec("bilinear", sample=_bilinear_sample, atol=1e-5),
     OpSpec("binary_cross_entropy_with_logits", sample=_bce_sample),
     OpSpec("cosine_embedding_loss", sample=_cosine_sample, atol=1e-5),
     OpSpec("hinge_embedding_loss", sample=_hinge_sample),
     OpSpec("kl_div", sample=_kl_sample),
     OpSpec("margin_ranking_loss", sample=_ranking_sample),
     OpSpec("poisson_nll_loss", sample=_poisson_sample),
     OpSpec("triplet_margin_loss", sample=_triplet_sample, atol=1e-5),
     OpSpec("constant_pad_nd", sample=_pad_sample),
     # NOTE: large=False: among thousands of rows some hold three near-equal values, where PyTorch's float32
     # gradient is itself off by ~1e-3 (cancellation); nn.functional.layer_norm's spec covers the same code large
     OpSpec("native_layer_norm", sample=_layer_norm_sample, large=False, **_NORM_TOL),
     OpSpec("native_group_norm", sample=_group_norm_sample, **_NORM_TOL),
     OpSpec("native_batch_norm", sample=_batch_norm_sample, **_NORM_TOL),
     OpSpec("rnn_tanh", sample=_rnn_sample("RNN_TANH"), large=False, **_NORM_TOL),
     OpSpec("rnn_relu", sample=_rnn_sample("RNN_RELU"), large=False, **_NORM_TOL),
     OpSpec("gru", sample=_rnn_sample("GRU"), large=False, **_NORM_TOL),
     OpSpec("lstm", sample=_rnn_sample("LSTM"), large=False, **_NORM_TOL))
