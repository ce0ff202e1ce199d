"""The LSTM recurrence on arrays, forward and BPTT backward (used by rnn.RNNLayer).

NOTE: for speed the sigmoid gates' (i, f, o) pre-activations are halved (through W_hh's rows and the
input projection, once per call), so that one tanh over all four gates followed by 0.5 * t + 0.5 on
i, f and o gives sigmoid(i, f, o) and tanh(g): each step is one matmul and a few pointwise ops.
Backward reads the gate derivatives from one whole-sequence expression before its loop."""


class LSTMSaved:
    """What backward reads of forward's steps, indexed by time step."""


def lstm_forward(xp, gi, h0, c0, w_hh, b_hh, w_hr, order, sizes, cheap_reads=True):
    """(out, h_n, c_n, saved) of one LSTM layer direction; gi holds x @ W_ih.T + b_ih for every step.

    Rows past sizes[t] do not step at time t: their state is carried in out[t] and the cell history."""
    steps, batch, G = gi.shape
    H = G // 4
    dt = gi.dtype
    scale = xp.full(G, 0.5, dtype=dt)
    scale[2 * H:3 * H] = 1
    shift = scale - scale * (scale == 1)  # 0.5 for i, f, o; 0 for g: tanh -> sigmoid is 0.5 * t + 0.5
    gi_s = gi * scale
    if b_hh is not None:
        gi_s += b_hh * scale
    w_s = xp.ascontiguousarray((w_hh * scale[:, None]).T)
    w_r = None if w_hr is None else xp.ascontiguousarray(w_hr.T)
    P = h0.shape[-1]
    s = LSTMSaved()
    s.acts = acts = xp.zeros((steps, batch, G), dtype=dt)  # sigmoid(i, f), tanh(g), sigmoid(o)
    cells = xp.zeros((steps, batch, H), dtype=dt)  # c after each step
    s.tanh_c = tanh_c = xp.zeros((steps, batch, H), dtype=dt)
    s.h_pre = h_pre = None if w_hr is None else xp.zeros((steps, batch, H), dtype=dt)
    out = xp.zeros((steps, batch, P), dtype=dt)
    h, c = h0, c0
    zero_start = cheap_reads and not bool(h0.any())  # NOTE: the usual zero initial state: skip its matmul
    for t in order:
        n = sizes[t]
        a = acts[t, :n]
        if zero_start:
            a[...] = gi_s[t, :n]
            zero_start = False
        else:
            xp.matmul(h[:n], w_s, out=a)
            a += gi_s[t, :n]
        xp.tanh(a, out=a)
        a *= scale
        a += shift
        c_new = cells[t]
        xp.multiply(a[:, H:2 * H], c[:n], out=c_new[:n])
        c_new[:n] += a[:, :H] * a[:, 2 * H:3 * H]
        tc = tanh_c[t, :n]
        xp.tanh(c_new[:n], out=tc)
        h_new = out[t]
        if w_r is None:
            xp.multiply(a[:, 3 * H:], tc, out=h_new[:n])
        else:
            hp = h_pre[t, :n]
            xp.multiply(a[:, 3 * H:], tc, out=hp)
            xp.matmul(hp, w_r, out=h_new[:n])
        if n < batch:
            c_new[n:] = c[n:]
            h_new[n:] = h[n:]
        h, c = h_new, c_new
    # NOTE: the state each step started from is the previous step's (in processing order), or h0 / c0.
    if order and order[0] == 0:
        s.prev = xp.concatenate([h0[None], out[:-1]])
        s.c_prev = xp.concatenate([c0[None], cells[:-1]])
    else:
        s.prev = xp.concatenate([out[1:], h0[None]])
        s.c_prev = xp.concatenate([cells[1:], c0[None]])
    return out, h.copy(), c.copy(), s


def lstm_backward(xp, s, dout, dh, dc, w_hh, w_hr, order, sizes, need_w, need_h0=True):
    """(d_gi, dh0, dc0, d_w_hh, d_b_hh, d_w_hr) by backpropagation through time (dh0 is not computed
    unless need_h0)."""
    acts = s.acts
    steps, batch, G = acts.shape
    H = G // 4
    deriv = acts * (1 - acts)  # sigmoid' for i, f, o
    g_act = acts[:, :, 2 * H:3 * H]
    deriv[:, :, 2 * H:3 * H] = 1 - g_act * g_act  # tanh' for g
    tanh_c = s.tanh_c
    d_tanh_c = 1 - tanh_c * tanh_c
    d_pre = xp.zeros(acts.shape, dtype=acts.dtype)
    d_wr = None if w_hr is None else xp.zeros(w_hr.shape, dtype=acts.dtype)
    for k in range(len(order) - 1, -1, -1):
        t = order[k]
        n = sizes[t]
        if not n:
            continue
        dhn = dh[:n]
        dhn += dout[t, :n]
        if w_hr is not None:
            d_wr += dhn.T @ s.h_pre[t, :n]
            dhc = dhn @ w_hr
        else:
            dhc = dhn
        a = acts[t, :n]
        d = d_pre[t, :n]
        xp.multiply(dhc, tanh_c[t, :n], out=d[:, 3 * H:])
        tmp = dhc * a[:, 3 * H:]
        tmp *= d_tanh_c[t, :n]
        dcn = dc[:n]
        dcn += tmp
        xp.multiply(dcn, a[:, 2 * H:3 * H], out=d[:, :H])
        xp.multiply(dcn, s.c_prev[t, :n], out=d[:, H:2 * H])
        xp.multiply(dcn, a[:, :H], out=d[:, 2 * H:3 * H])
        d *= deriv[t, :n]
        dcn *= a[:, H:2 * H]
        if k or need_h0:
            xp.matmul(d, w_hh, out=dhn)
    flat = d_pre.reshape(-1, G)
    d_w = flat.T @ s.prev.reshape(-1, s.prev.shape[-1]) if need_w[0] else None
    d_b = flat.sum(axis=0) if need_w[1] else None
    return d_pre, dh, dc, d_w, d_b, d_wr
