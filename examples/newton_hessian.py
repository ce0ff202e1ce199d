# Beyond the seeds: Newton's method with the Hessian. Logistic regression on two features has a convex
# loss; Newton's step w <- w - H^-1 g reaches the minimum in a handful of iterations where gradient
# descent needs hundreds. torch.autograd.functional gives the Hessian of a function of a flat parameter.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
import ember as torch
from ember.autograd.functional import hessian

torch.manual_seed(0)
n = 200
X = torch.randn(n, 2, dtype=torch.float64)
true_w = torch.tensor([2.0, -3.0], dtype=torch.float64)
y = (torch.sigmoid(X @ true_w + 0.5) > torch.rand(n, dtype=torch.float64)).double()
features = torch.cat([X, torch.ones(n, 1, dtype=torch.float64)], dim=1)  # a bias column


def loss(w):
    """Mean logistic loss plus a little L2 (keeps the Hessian invertible)."""
    logits = features @ w
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, y) + 1e-3 * w.pow(2).sum()


w = torch.zeros(3, dtype=torch.float64)
for step in range(8):
    w_ = w.detach().requires_grad_()
    value = loss(w_)
    (g,) = torch.autograd.grad(value, w_)
    H = hessian(loss, w)
    w = w - torch.linalg.solve(H, g)
    print(f"step {step}  loss {value.item():.6f}  |gradient| {g.norm().item():.2e}")

print("weights:", [round(v, 3) for v in w.tolist()])
