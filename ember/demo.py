"""`make demo`: the seed-003 two-layer network trained with autograd, written as a PyTorch user writes it.

Run `python -m ember.demo --help` for options.
"""
import argparse
import time


def train(iterations=500, lr=1e-6, seed=0, every=50, torch=None):
    """Fit a random two-layer ReLU network with plain autograd; returns the losses."""
    if torch is None:
        import ember as torch
    torch.manual_seed(seed)
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    w1 = torch.randn(D_in, H, requires_grad=True)
    w2 = torch.randn(H, D_out, requires_grad=True)
    losses = []
    for it in range(iterations):
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        if every and (it % every == 0 or it == iterations - 1):
            print(f"{it:4d}  loss {loss.item():.2f}")
        loss.backward()
        with torch.no_grad():
            w1 -= lr * w1.grad
            w2 -= lr * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return losses


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("ember demo: a two-layer ReLU network (64 x 1000 -> 100 -> 10) trained with autograd (seed 003)")
    start = time.perf_counter()
    losses = train(args.iterations, args.lr, args.seed)
    print(f"loss {losses[0]:.1f} -> {losses[-1]:.4f} in {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
