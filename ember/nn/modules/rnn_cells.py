"""torch.nn.modules.rnn's cells: RNNCell, LSTMCell, GRUCell (one step of the layers in rnn.py)."""
import math

from ... import _creation
from ..._ops.nn.rnn import RNNLayer
from .. import functional as F, init
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

# The recurrence primitive's mode for each of RNN's nonlinearities.
RNN_MODES = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


class RNNCellBase(Module):
    """Base class of the cells: weight_ih (G*H, input_size), weight_hh (G*H, H), bias_ih, bias_hh."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_creation.empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(_creation.empty((num_chunks * hidden_size, hidden_size), device=device,
                                                   dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(_creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, mode, input, h, c=None):
        """One step through the layers' recurrence primitive: (h', c')."""
        gi = F.linear(input, self.weight_ih, self.bias_ih).unsqueeze(0)
        out = RNNLayer.apply(gi, h, c, self.weight_hh, self.bias_hh, None, mode, None, False)
        return out[1:]

    def _batch(self, name, input, hx, pair=False):
        """input and hx with a batch dim (hx None: zeros), and whether input had one; pair: hx is (h, c)."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        states = () if hx is None else tuple(hx) if pair else (hx,)
        for idx, value in enumerate(states):
            if value.dim() not in (1, 2):
                what = f"hx[{idx}]" if pair else "hidden"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {value.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = _creation.zeros((input.size(0), self.hidden_size), dtype=input.dtype, device=input.device)
            states = (zeros, zeros) if pair else (zeros,)
        elif not batched:
            states = tuple(state.unsqueeze(0) for state in states)
        return input, states if pair else states[0], batched

    def _check(self, input, hx, hidden_label="0"):
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{hidden_label} batch size "
                               f"{hx.size(0)}")
        if hx.size(1) != self.hidden_size:
            raise RuntimeError(f"hidden{hidden_label} has inconsistent hidden_size: got {hx.size(1)}, expected "
                               f"{self.hidden_size}")


class RNNCell(RNNCellBase):
    """h' = tanh or relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, hx, batched = self._batch("RNNCell", input, hx)
        mode = RNN_MODES.get(self.nonlinearity)
        if mode is None:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check(input, hx)
        (h,) = self._step(mode, input, hx)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from input and (h, c); gates i, f, g, o."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hx, batched = self._batch("LSTMCell", input, hx, pair=True)
        self._check(input, hx[0], "0")
        self._check(input, hx[1], "1")
        h, c = self._step("LSTM", input, hx[0], hx[1])
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: r, z, n gates, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hx, batched = self._batch("GRUCell", input, hx)
        self._check(input, hx)
        (h,) = self._step("GRU", input, hx)
        return h if batched else h.squeeze(0)


# --- torch.lstm_cell, torch.gru_cell, torch.rnn_tanh_cell, torch.rnn_relu_cell ------------------------------
def _cell_step(mode, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
    gi = F.linear(input, w_ih, b_ih).unsqueeze(0)
    return RNNLayer.apply(gi, hx, cx, w_hh, b_hh, None, mode, None, False)[1:]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.lstm_cell: one LSTM step on 2-D input; hx is (h, c); returns (h', c')."""
    return tuple(_cell_step("LSTM", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh))


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.gru_cell: one GRU step on 2-D input."""
    return _cell_step("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.rnn_tanh_cell: one tanh RNN step on 2-D input."""
    return _cell_step("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.rnn_relu_cell: one relu RNN step on 2-D input."""
    return _cell_step("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def _register_torch_cells():
    from ..._ops._registry import bind
    for fn in (lstm_cell, gru_cell, rnn_tanh_cell, rnn_relu_cell):
        bind(fn.__name__, fn)


_register_torch_cells()
