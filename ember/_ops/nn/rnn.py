"""The recurrence of one direction of one RNN / LSTM / GRU layer, as one primitive.

NOTE: a whole-layer primitive earns its place by speed: the input projection of every time step is
one matmul outside it (ember's linear, differentiable as usual); inside, each step is one matmul for
all gates plus the pointwise gate math on arrays, and backward is a hand-written BPTT on arrays whose
weight gradient is again one matmul over all steps. (A GRU built from per-step Tensor ops ran 7.7x
slower than PyTorch.) Its backward is first-order only: a double backward through it raises, where
PyTorch's CPU RNNs are differentiable twice (rarely needed).

Variable lengths (PackedSequence) arrive as `batch_sizes`: at time t only the first batch_sizes[t]
rows step; the others keep their state, so the final state of each row is the state at its last step.
Output rows past batch_sizes[t] are unspecified (the layers read only the packed rows back).
"""
from ..._tensor import _wrap
from ... import _state
from ...autograd.function import Primitive, _DelayedError, once_differentiable
from .rnn_lstm import lstm_backward, lstm_forward

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _first_order(backward):
    """once_differentiable, and under create_graph every gradient it returns refuses a second backward.

    NOTE: once_differentiable marks its results only when the incoming gradients require grad; here the
    gradients also depend on the weights and states, so a double backward that ignored this node would
    silently miss those terms (the input projection's matmul would still carry part of the graph)."""
    inner = once_differentiable(backward)

    def wrapper(ctx, *grads):
        out = inner(ctx, *grads)
        if _state.local.grad_enabled:
            for o in out:
                if o is not None and o._grad_fn is None:
                    node = _DelayedError._node_cls()
                    node.next_functions = ()
                    node._in_meta = ()
                    node._out_meta = ((o._data.shape, o._dtype, o._device),)
                    o._grad_fn, o._output_nr, o._requires_grad = node, 0, True
        return out
    return wrapper


def _sigmoid(xp, x, out=None):
    # NOTE: 0.5 * (1 + tanh(x / 2)) is sigmoid without exp's overflow, and one transcendental call.
    out = xp.multiply(x, 0.5, out=out)
    xp.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


class RNNLayer(Primitive):
    """(output, h_n[, c_n]) of one recurrent layer direction, from the input projection `gi`
    (T, B, G*H: x @ W_ih.T + b_ih for every step), h0, c0 (LSTM), W_hh, b_hh and W_hr (LSTM proj)."""
    inputs = 6
    upcast = True  # NOTE: float16/bfloat16 layers run in float32 and round each output once, as PyTorch's opmath
    node_name = "RNNLayerBackward0"

    @staticmethod
    def forward(ctx, gi, h0, c0=None, w_hh=None, b_hh=None, w_hr=None, mode="LSTM", batch_sizes=None,
                reverse=False):
        xp = ctx.xp
        steps, batch = gi.shape[0], gi.shape[1]
        order = list(range(steps - 1, -1, -1) if reverse else range(steps))
        sizes = [batch] * steps if batch_sizes is None else list(batch_sizes)
        ctx.options = (mode, sizes, order)
        ctx.save_for_backward(w_hh, w_hr)
        if mode == "LSTM":
            out, h, c, ctx.saved_arrays = lstm_forward(xp, gi, h0, c0, w_hh, b_hh, w_hr, order, sizes,
                                                               ctx.device.backend.cheap_reads)
            return out, h, c
        if b_hh is not None and mode != "GRU":
            gi = gi + b_hh  # NOTE: both biases enter every step unchanged: add b_hh once
        w_t = w_hh.T  # NOTE: BLAS reads the transpose in place; a contiguous copy costs more than it saves
        out_size = h0.shape[-1]
        out = xp.zeros((steps, batch, out_size), dtype=gi.dtype)
        prev = xp.empty((steps, batch, out_size), dtype=gi.dtype)  # the state each time step starts from
        h = h0.copy()
        saved = _Saved(xp, mode, steps, batch, gi, w_hh, c0)
        for t in order:
            prev[t] = h
            n = sizes[t]
            if n:
                hh = h[:n] @ w_t
                if mode == "GRU":
                    h_new = _gru_step(xp, gi[t, :n], hh, b_hh, h[:n], saved, t, n)
                else:
                    h_new = hh
                    h_new += gi[t, :n]
                    if mode == "RNN_TANH":
                        xp.tanh(h_new, out=h_new)
                    else:
                        xp.maximum(h_new, 0, out=h_new)
                h[:n] = h_new
                out[t, :n] = h_new
        ctx.saved_arrays = saved
        saved.prev = prev
        saved.out = out
        return out, h

    @staticmethod
    @_first_order
    def backward(ctx, g_out, g_h, g_c=None):
        w_hh, w_hr = ctx.saved_tensors
        mode, sizes, order = ctx.options
        s = ctx.saved_arrays
        xp = ctx.xp
        cdt = s.prev.dtype  # the compute dtype: float32 for half layers (upcast)
        w = w_hh._data.astype(cdt, copy=False)
        wr = None if w_hr is None else w_hr._data.astype(cdt, copy=False)
        dout = g_out._data.astype(cdt, copy=False)
        dh = g_h._data.astype(cdt, copy=True)
        needs = ctx.needs_input_grad
        dev, dt = g_out._device, g_out._dtype
        wrap = lambda a: None if a is None else _wrap(a.astype(dt.np, copy=False), dev, dt)  # noqa: E731
        if mode == "LSTM":
            dc = g_c._data.astype(cdt, copy=True)
            grads = lstm_backward(xp, s, dout, dh, dc, w, wr, order, sizes, needs[3:5], needs[1])
            return tuple(wrap(g) if need else None for g, need in zip(grads, needs))
        if mode == "GRU" and ctx.last_use_of_saved:
            # NOTE: each step's gate gradients overwrite its activations once read (peak memory); rows a
            # packed step skips are zero in both
            d_gi = s.acts
        else:
            d_gi = xp.zeros(s.gates_shape, dtype=dout.dtype)  # gradient of each step's pre-activations
        # NOTE: the recurrent product's gradient equals d_gi but in a GRU's candidate gate (r * (W_hn h + b_hn)):
        # only that third is kept, d_hn (T, B, H), not a second (T, B, 3H) buffer
        d_hn = xp.zeros(s.hn.shape, dtype=dout.dtype) if mode == "GRU" else None
        for k in range(len(order) - 1, -1, -1):
            t = order[k]
            n = sizes[t]
            if not n:
                continue
            dh[:n] += dout[t, :n]
            if mode == "GRU":
                carry = dh[:n] * s.z[t, :n]
                _gru_back(xp, s, t, n, dh[:n], d_gi, d_hn)
                dh[:n] = _gru_hh_grad(xp, d_gi[t, :n], d_hn[t, :n]) @ w
                dh[:n] += carry
            else:
                h_t = s.out[t, :n]
                if mode == "RNN_TANH":
                    d_gi[t, :n] = dh[:n] * (1 - h_t * h_t)
                else:
                    d_gi[t, :n] = dh[:n] * (h_t > 0)
                dh[:n] = d_gi[t, :n] @ w
        g_w = g_b = None
        if needs[3] or needs[4]:
            flat = d_gi.reshape(-1, d_gi.shape[-1])
            prev = s.prev.reshape(-1, s.prev.shape[-1])
            if mode == "GRU":
                rz, hn = flat[:, :2 * s.hidden], d_hn.reshape(-1, s.hidden)
                if needs[3]:
                    g_w = xp.concatenate([rz.T @ prev, hn.T @ prev])
                if needs[4]:
                    g_b = xp.concatenate([rz.sum(axis=0), hn.sum(axis=0)])
            else:
                if needs[3]:
                    g_w = flat.T @ prev
                if needs[4]:
                    g_b = flat.sum(axis=0)
        return wrap(d_gi) if needs[0] else None, wrap(dh) if needs[1] else None, None, wrap(g_w), wrap(g_b), None


class _Saved:
    """What backward reads of forward's steps, indexed by time step."""

    def __init__(self, xp, mode, steps, batch, gi, w_hh, c0):
        self.mode = mode
        self.gates_shape = (steps, batch, w_hh.shape[0])
        hidden = w_hh.shape[0] // _GATES[mode]
        if mode == "GRU":
            self.acts = xp.zeros(self.gates_shape, dtype=gi.dtype)  # r, z, n
            self.hn = xp.zeros((steps, batch, hidden), dtype=gi.dtype)  # W_hn h + b_hn
            self.z = self.acts[:, :, hidden:2 * hidden]
        self.hidden = hidden


def _gru_step(xp, gi_t, hh, b_hh, h, s, t, n):
    H = s.hidden
    if b_hh is not None:
        hh += b_hh
    acts = s.acts[t, :n]
    s.hn[t, :n] = hh[:, 2 * H:]
    rz = hh[:, :2 * H]
    rz += gi_t[:, :2 * H]
    _sigmoid(xp, rz, out=acts[:, :2 * H])
    r, z = acts[:, :H], acts[:, H:2 * H]
    nn = acts[:, 2 * H:]
    xp.multiply(r, hh[:, 2 * H:], out=nn)
    nn += gi_t[:, 2 * H:]
    xp.tanh(nn, out=nn)
    h_new = h - nn  # h' = n + z * (h - n)
    h_new *= z
    h_new += nn
    return h_new


def _gru_hh_grad(xp, d_gi_t, d_hn_t):
    """The gradient of one step's recurrent product h @ W_hh.T (+ b_hh): the r and z thirds of d_gi, then d_hn."""
    return xp.concatenate([d_gi_t[:, :d_gi_t.shape[1] - d_hn_t.shape[1]], d_hn_t], axis=1)


def _gru_back(xp, s, t, n, dh, d_gi, d_hn):
    H = s.hidden
    acts = s.acts[t, :n]
    r, z, nn = acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:]
    h_prev = s.prev[t, :n]
    d_n = dh * (1 - z) * (1 - nn * nn)
    dz = dh * (h_prev - nn) * z * (1 - z)
    hn = s.hn[t, :n]
    dr = d_n * hn * r * (1 - r)
    xp.multiply(d_n, r, out=d_hn[t, :n])
    d = d_gi[t, :n]  # NOTE: may be acts[t, :n] itself: every read of r, z, n is above this line
    d[:, :H] = dr
    d[:, H:2 * H] = dz
    d[:, 2 * H:] = d_n
