# Beyond the seeds: per-sample gradients with torch.func. For differential privacy, influence estimates or
# gradient-noise studies one needs each example's own gradient, not the batch average. torch.func makes that
# one call: a loss for ONE example, `grad` of it w.r.t. the parameters, and `vmap` over the batch.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.func import functional_call, grad, vmap
from sklearn.datasets import load_digits

torch.manual_seed(0)
digits = load_digits()
X = torch.tensor(digits.data[:256] / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target[:256])

model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
params = {name: p.detach() for name, p in model.named_parameters()}


def loss_of_one(params, x, target):
    """The loss of a single example: the model sees a batch of one."""
    logits = functional_call(model, params, (x.unsqueeze(0),))
    return F.cross_entropy(logits, target.unsqueeze(0))


# vmap over the examples (dim 0 of x and y), the same parameters for all (None)
per_sample = vmap(grad(loss_of_one), in_dims=(None, 0, 0))
per_sample(params, X[:2], y[:2])  # NOTE: a first call, so that the timing below is of the work alone
start = time.perf_counter()
grads = per_sample(params, X, y)
vmapped = time.perf_counter() - start
print({name: tuple(g.shape) for name, g in grads.items()})

# the same gradients one example at a time, through ordinary backward
start = time.perf_counter()
largest = 0.0
for i in range(len(X)):
    model.zero_grad()
    F.cross_entropy(model(X[i:i + 1]), y[i:i + 1]).backward()
    for name, p in model.named_parameters():
        largest = max(largest, (p.grad - grads[name][i]).abs().max().item())
looped = time.perf_counter() - start
print(f"largest difference to the loop: {largest:.1e}")
assert largest < 1e-5

# the mean of the per-sample gradients is the batch gradient
model.zero_grad()
F.cross_entropy(model(X), y).backward()
print("mean of per-sample gradients equals the batch gradient:",
      all(torch.allclose(grads[name].mean(0), p.grad, atol=1e-6) for name, p in model.named_parameters()))
print(f"{len(X)} per-sample gradients: vmap {vmapped * 1e3:.1f} ms, loop {looped * 1e3:.1f} ms")
