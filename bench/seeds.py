"""The seed tutorials' training runs, PyTorch vs ember, in the same process.

    python bench/seeds.py [--repeats 3] [--iterations 500] [--epochs 1000]

Seed 003's two-layer network five ways (tensors by hand, autograd, nn, optim, a custom Module),
500 iterations each, and seed 004's 5-8-4-1 classifier (BCELoss, SGD lr 0.1), 1000 epochs. Each
workload is written once as a function of the library. Prints a markdown table (median seconds
per whole run); `--output FILE` writes it too. Reported, never asserted.
"""
import argparse
import datetime
import os
from pathlib import Path

import numpy as np

from _harness import LIBS, from_numpy, machine, table, time_pair

N, D_IN, H, D_OUT = 64, 1000, 100, 10


def _data(lib):
    rng = np.random.default_rng(0)
    x = from_numpy(lib, rng.standard_normal((N, D_IN)).astype(np.float32))
    y = from_numpy(lib, rng.standard_normal((N, D_OUT)).astype(np.float32))
    w1 = rng.standard_normal((D_IN, H)).astype(np.float32)
    w2 = rng.standard_normal((H, D_OUT)).astype(np.float32)
    return x, y, w1, w2


def seed003_tensors(lib, iterations):
    x, y, w1_np, w2_np = _data(lib)

    def run():
        w1, w2 = from_numpy(lib, w1_np.copy()), from_numpy(lib, w2_np.copy())
        lr = 1e-6
        for _ in range(iterations):
            h = x.mm(w1)
            h_relu = h.clamp(min=0)
            y_pred = h_relu.mm(w2)
            (y_pred - y).pow(2).sum().item()
            grad_y_pred = 2.0 * (y_pred - y)
            grad_w2 = h_relu.t().mm(grad_y_pred)
            grad_h = grad_y_pred.mm(w2.t()).clone()
            grad_h[h < 0] = 0
            grad_w1 = x.t().mm(grad_h)
            w1 -= lr * grad_w1
            w2 -= lr * grad_w2
    return run


def seed003_autograd(lib, iterations):
    x, y, w1_np, w2_np = _data(lib)

    def run():
        w1 = from_numpy(lib, w1_np.copy()).requires_grad_()
        w2 = from_numpy(lib, w2_np.copy()).requires_grad_()
        for _ in range(iterations):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.item()
            loss.backward()
            with lib.no_grad():
                w1 -= 1e-6 * w1.grad
                w2 -= 1e-6 * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
    return run


def _sequential(lib, w1_np, w2_np):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(D_IN, H, bias=False), nn.ReLU(), nn.Linear(H, D_OUT, bias=False))
    with lib.no_grad():
        model[0].weight.copy_(from_numpy(lib, w1_np.T.copy()))
        model[2].weight.copy_(from_numpy(lib, w2_np.T.copy()))
    return model


def seed003_nn(lib, iterations):
    x, y, w1_np, w2_np = _data(lib)

    def run():
        model = _sequential(lib, w1_np, w2_np)
        loss_fn = lib.nn.MSELoss(reduction="sum")
        for _ in range(iterations):
            loss = loss_fn(model(x), y)
            loss.item()
            loss.backward()
            with lib.no_grad():
                for param in model.parameters():
                    param -= 1e-6 * param.grad
            model.zero_grad()
    return run


def seed003_optim(lib, iterations):
    x, y, w1_np, w2_np = _data(lib)

    def run():
        model = _sequential(lib, w1_np, w2_np)
        loss_fn = lib.nn.MSELoss(reduction="sum")
        optimizer = lib.optim.SGD(model.parameters(), lr=1e-6)
        for _ in range(iterations):
            loss = loss_fn(model(x), y)
            loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return run


def seed003_module(lib, iterations):
    x, y, _, _ = _data(lib)
    nn = lib.nn

    class TwoLayerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(D_IN, H, bias=False)
            self.linear2 = nn.Linear(H, D_OUT, bias=False)

        def forward(self, x):
            return self.linear2(self.linear1(x).clamp(min=0))

    def run():
        lib.manual_seed(0)
        model = TwoLayerNet()
        loss_fn = nn.MSELoss(reduction="sum")
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-4)
        for _ in range(iterations):
            loss = loss_fn(model(x), y)
            loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return run


def seed004_classifier(lib, epochs):
    rng = np.random.default_rng(0)
    X_np = rng.standard_normal((500, 5)).astype(np.float32)
    y_np = (X_np[:, 0] * X_np[:, 1] + X_np[:, 2] > 0).astype(np.float32)  # no straight line separates it
    X, y = from_numpy(lib, X_np), from_numpy(lib, y_np)
    nn = lib.nn

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden1 = nn.Linear(5, 8)
            self.hidden2 = nn.Linear(8, 4)
            self.relu = nn.ReLU()
            self.output = nn.Linear(4, 1)
            self.sigmoid = nn.Sigmoid()

        def forward(self, x):
            x = self.relu(self.hidden1(x))
            x = self.relu(self.hidden2(x))
            return self.sigmoid(self.output(x))

    def run():
        lib.manual_seed(0)
        model = Network()
        criterion = nn.BCELoss()
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(epochs):
            optimizer.zero_grad()
            output = model.forward(X)
            loss = criterion(output.view(output.shape[0]), y)
            loss.backward()
            optimizer.step()
    return run


def workloads(iterations, epochs):
    return [
        (f"seed 003, tensors by hand ({iterations} it)", lambda lib: seed003_tensors(lib, iterations)),
        (f"seed 003, autograd ({iterations} it)", lambda lib: seed003_autograd(lib, iterations)),
        (f"seed 003, nn ({iterations} it)", lambda lib: seed003_nn(lib, iterations)),
        (f"seed 003, optim.SGD ({iterations} it)", lambda lib: seed003_optim(lib, iterations)),
        (f"seed 003, custom Module + Adam ({iterations} it)", lambda lib: seed003_module(lib, iterations)),
        (f"seed 004, classifier ({epochs} epochs)", lambda lib: seed004_classifier(lib, epochs)),
    ]


def rows(iterations, epochs, repeats):
    for title, make in workloads(iterations, epochs):
        t_torch, t_ember = time_pair([make(lib) for lib in LIBS], calls=1, repeats=repeats, warmup=1)
        yield [title, f"{t_torch:.3f} s", f"{t_ember:.3f} s", f"{t_ember / t_torch:.1f}x"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--output", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    header = ["workload", "PyTorch", "ember", "ratio ember/PyTorch"]
    done = []
    for row in rows(args.iterations, args.epochs, args.repeats):
        done.append(row)
        print(table(header, done).splitlines()[-1] if len(done) > 1 else table(header, done), flush=True)
    text = "\n".join([
        "# seeds: the tutorials' training runs, PyTorch vs ember",
        "",
        f"`python bench/seeds.py` ({datetime.date.today().isoformat()}): median of {args.repeats} whole runs "
        "after one warm-up run; the libraries take turns run by run.",
        "",
        table(header, done),
        "",
        f"Machine: {machine()}.",
        "",
    ])
    print(f"\nMachine: {machine()}.")
    if args.output:
        Path(args.output).write_text(text)
        print(f"(written to {os.path.relpath(args.output)})")


if __name__ == "__main__":
    main()
