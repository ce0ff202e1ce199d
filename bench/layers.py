"""The layers real models are made of, one training step each, written once as functions of the library:
a LeNet-5 step, a ResNet-style conv-BN-ReLU block stack, an LSTM and a GRU step, and a 2-layer
character Transformer step. `peak_memory(workload, lib)` measures a step's peak memory in a fresh process.

    python bench/layers.py --memory NAME LIB    print the peak resident memory a step adds, in bytes
    python bench/layers.py --growth NAME LIB N  print how much resident memory N more steps leave behind

NAME is a workload here or in bench/training.py (mlp_step).
"""
import argparse
import gc
import os
import subprocess
import sys

import numpy as np

from _harness import from_numpy


def _data(lib, rng, shape, classes=None):
    if classes is not None:
        return from_numpy(lib, rng.integers(0, classes, shape))
    return from_numpy(lib, rng.standard_normal(shape).astype(np.float32))


def _trainer(loss_fn, optimizer):
    def step():
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        loss.item()
    return step


def lenet_step(lib, batch=64):
    """LeNet-5 on 28x28 images: conv5-pool-conv5-pool-120-84-10, ReLU, cross-entropy, SGD momentum."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    rng = np.random.default_rng(0)
    x, y = _data(lib, rng, (batch, 1, 28, 28)), _data(lib, rng, (batch,), classes=10)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _trainer(lambda: nn.functional.cross_entropy(model(x), y), optimizer)


def _basic_block(nn, channels):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)

        def forward(self, x):
            out = self.bn1(self.conv1(x)).relu()
            return (self.bn2(self.conv2(out)) + x).relu()
    return Block()


def resnet_step(lib, batch=32, channels=32, blocks=2):
    """A ResNet-style stack on 32x32 RGB: stem conv-BN-ReLU, two residual blocks, global average pool."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
                          *[_basic_block(nn, channels) for _ in range(blocks)],
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10))
    rng = np.random.default_rng(0)
    x, y = _data(lib, rng, (batch, 3, 32, 32)), _data(lib, rng, (batch,), classes=10)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _trainer(lambda: nn.functional.cross_entropy(model(x), y), optimizer)


def _recurrent_step(lib, layer, batch=32, seq=50, inputs=32, hidden=128):
    nn = lib.nn
    lib.manual_seed(0)
    rnn = getattr(nn, layer)(inputs, hidden, batch_first=True)
    head = nn.Linear(hidden, 1)
    rng = np.random.default_rng(0)
    x, y = _data(lib, rng, (batch, seq, inputs)), _data(lib, rng, (batch, seq, 1))
    optimizer = lib.optim.Adam([*rnn.parameters(), *head.parameters()], lr=1e-3)
    return _trainer(lambda: nn.functional.mse_loss(head(rnn(x)[0]), y), optimizer)


def lstm_step(lib):
    """nn.LSTM(32, 128), sequence 50, batch 32, a linear head and MSE loss, Adam."""
    return _recurrent_step(lib, "LSTM")


def gru_step(lib):
    """nn.GRU(32, 128), sequence 50, batch 32, a linear head and MSE loss, Adam."""
    return _recurrent_step(lib, "GRU")


def char_transformer(lib, vocab, d_model=128, nhead=4, layers=2, context=64, dropout=0.1):
    """A decoder-only character model: token + position embeddings, causal TransformerEncoder, linear head."""
    nn = lib.nn

    class CharTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.context = context
            self.tokens = nn.Embedding(vocab, d_model)
            self.positions = nn.Embedding(context, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers)
            self.head = nn.Linear(d_model, vocab)

        def forward(self, idx):
            t = idx.shape[1]
            h = self.tokens(idx) + self.positions(lib.arange(t))
            mask = nn.Transformer.generate_square_subsequent_mask(t)
            return self.head(self.encoder(h, mask=mask, is_causal=True))
    return CharTransformer()


def transformer_step(lib, batch=32, seq=64, vocab=65):
    """A 2-layer character Transformer (d_model 128, 4 heads), sequence 64, batch 32, AdamW."""
    lib.manual_seed(0)
    model = char_transformer(lib, vocab, context=seq)
    rng = np.random.default_rng(0)
    x, y = _data(lib, rng, (batch, seq), classes=vocab), _data(lib, rng, (batch, seq), classes=vocab)
    optimizer = lib.optim.AdamW(model.parameters(), lr=3e-4)
    loss_fn = lambda: lib.nn.functional.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))  # noqa: E731
    return _trainer(loss_fn, optimizer)


WORKLOADS = [
    ("LeNet-5 training step, batch 64, 28x28", "lenet_step"),
    ("ResNet-style conv-BN-ReLU stack, 32 ch, 32x32, batch 32", "resnet_step"),
    ("LSTM step (input 32, hidden 128, seq 50, batch 32)", "lstm_step"),
    ("GRU step (input 32, hidden 128, seq 50, batch 32)", "gru_step"),
    ("2-layer char Transformer step (d 128, 4 heads, seq 64, batch 32)", "transformer_step"),
]


def _status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def _step(name, lib_name):
    if lib_name == "torch":
        import torch as lib
    else:
        import ember as lib
    import training
    return (globals().get(name) or getattr(training, name))(lib)


def _measure_memory(name, lib_name, steps=3):
    step = _step(name, lib_name)
    step()  # NOTE: the first step loads kernels and creates the optimizer state; the steps after it are measured
    gc.collect()
    before = _status_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # NOTE: Linux resets the peak resident size (VmHWM) to the current one
    for _ in range(steps):
        step()
    return _status_bytes("VmHWM") - before


def _measure_growth(name, lib_name, steps):
    step = _step(name, lib_name)
    for _ in range(100):  # NOTE: allocator pools and optimizer state settle in the first steps
        step()
    gc.collect()
    before = _status_bytes("VmRSS")
    for _ in range(steps):
        step()
    gc.collect()
    return _status_bytes("VmRSS") - before


_ALLOCATOR = dict(MALLOC_MMAP_THRESHOLD_="4096", MALLOC_TRIM_THRESHOLD_="4096")


def memory_growth(name, lib_name, steps):
    """Resident memory left behind by `steps` training steps after 100 warm-up steps, in bytes (a loop whose
    memory is flat gives about 0), measured in a fresh process as peak_memory is."""
    out = subprocess.run([sys.executable, __file__, "--growth", name, lib_name, str(steps)], capture_output=True,
                         text=True, check=True, env=dict(os.environ, **_ALLOCATOR))
    return int(out.stdout.split()[-1])


def peak_memory(name, lib_name):
    """Peak resident memory a training step adds over the state after one warm-up step (model, data,
    gradients and optimizer state), in bytes: Linux's VmHWM, reset after the warm-up, in a fresh
    process (so neither library's other allocations count)."""
    # NOTE: a fixed mmap threshold makes glibc return each large freed block at once (its dynamic threshold
    # would keep them in the heap), so the resident peak follows the live arrays in both libraries alike
    env = dict(os.environ, **_ALLOCATOR)
    out = subprocess.run([sys.executable, __file__, "--memory", name, lib_name], capture_output=True, text=True,
                         check=True, env=env)
    return int(out.stdout.split()[-1])


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", nargs=2, metavar=("NAME", "LIB"))
    parser.add_argument("--growth", nargs=3, metavar=("NAME", "LIB", "STEPS"))
    args = parser.parse_args()
    if args.growth:
        print(_measure_growth(args.growth[0], args.growth[1], int(args.growth[2])))
    else:
        print(_measure_memory(*args.memory))
