# Beyond the seeds: a physics-informed network. It learns u(x) on [0, pi] from the differential equation
# u'' + u = 0 with u(0) = 0 and u'(0) = 1 alone (no data points); the exact solution is sin(x). The
# derivatives of the network's output w.r.t. its input come from autograd with create_graph=True, so the
# loss on the second derivative can itself be differentiated for training.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
import math
import os

import ember as torch
import ember.nn as nn

STEPS = int(os.environ.get("PROGRAM_STEPS", "2000"))

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
x = torch.linspace(0, math.pi, 64).unsqueeze(1).requires_grad_()
x0 = torch.zeros(1, 1, requires_grad=True)


def derivative(u, x):
    """du/dx for each point (the points are independent, so the gradient of the sum is each derivative)."""
    return torch.autograd.grad(u.sum(), x, create_graph=True)[0]


for step in range(STEPS + 1):
    optimizer.zero_grad()
    u = model(x)
    u_xx = derivative(derivative(u, x), x)
    residual = (u_xx + u).pow(2).mean()
    u0 = model(x0)
    boundary = u0.pow(2).sum() + (derivative(u0, x0) - 1).pow(2).sum()
    loss = residual + boundary
    loss.backward()
    optimizer.step()
    if step % max(1, STEPS // 5) == 0:
        print(f"step {step:5d}  residual {residual.item():.2e}  boundary {boundary.item():.2e}")

with torch.no_grad():
    grid = torch.linspace(0, math.pi, 101).unsqueeze(1)
    error = (model(grid) - torch.sin(grid)).abs().max().item()
print(f"largest distance to sin(x) on [0, pi]: {error:.3f}")
