"""`make demo`: seed 004's classifier learning, on ember, a two-class data set no straight line separates.

The network is the seed's (5 -> 8 -> 4 -> 1, ReLU, Sigmoid, BCELoss, SGD with lr 0.1), written as a
PyTorch user writes it (`import ember as torch`). The data are generated here: class 1 is a disc in
the first two features, class 0 the ring around it; three more features are noise. Training shows a
progress bar (tqdm), prints the model, the loss every 100 epochs and the accuracies, and draws three
figures with matplotlib into the output folder.

    python -m ember.demo [--epochs 1000] [--lr 0.1] [--seed 0] [--out out] [--device cpu]
"""
import argparse
import os
import time

import numpy as np

import ember as torch
import ember.nn as nn
from ember import optim

N_TRAIN, N_TEST, N_TRACKED = 800, 200, 10


def make_data(n, seed):
    """n points: x0, x1 uniform in [-2, 2]^2 (label 1 inside the disc of radius 1.6), x2..x4 noise."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-2, 2, size=(n, 2))
    label = (np.hypot(xy[:, 0], xy[:, 1]) < 1.6).astype(np.float32)
    noise = rng.normal(0, 0.3, size=(n, 3))
    X = np.concatenate([xy, noise], axis=1).astype(np.float32)
    return X, label


class Network(nn.Module):
    """Seed 004's classifier: two ReLU hidden layers and a sigmoid output."""

    def __init__(self, n_input=5, n_hidden1=8, n_hidden2=4, n_output=1):
        super().__init__()
        self.hidden1 = nn.Linear(n_input, n_hidden1)
        self.hidden2 = nn.Linear(n_hidden1, n_hidden2)
        self.relu = nn.ReLU()
        self.output = nn.Linear(n_hidden2, n_output)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.relu(self.hidden1(x))
        x = self.relu(self.hidden2(x))
        return self.sigmoid(self.output(x))


def _progress(epochs, quiet):
    try:
        from tqdm import tqdm
    except ImportError:  # the demo extra brings tqdm; without it, plain prints still report the loss
        return None, range(epochs)
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=quiet, leave=True)
    return bar, bar


def accuracy(model, X, y):
    with torch.no_grad():
        return ((model(X).view(-1) > 0.5).float() == y).float().mean().item()


def train(epochs=1000, lr=0.1, seed=0, device="cpu", quiet=False, log=print):
    """Train the classifier; returns (model, history) with the losses and tracked probabilities."""
    torch.manual_seed(seed)
    X_np, y_np = make_data(N_TRAIN + N_TEST, seed)
    X = torch.from_numpy(X_np).to(device)
    y = torch.from_numpy(y_np).to(device)
    X_train, y_train, X_test, y_test = X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]
    model = Network().to(device)
    log(model)
    criterion = nn.BCELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    tracked = torch.cat([torch.nonzero(y_train == c).view(-1)[:N_TRACKED // 2] for c in (0, 1)])
    history = {"loss": [], "test_loss": [], "epochs": [], "probabilities": [], "tracked_labels": y_train[tracked]}
    bar, epochs_iter = _progress(epochs, quiet)
    for epoch in epochs_iter:
        optimizer.zero_grad()  # the five steps of seed 004
        output = model(X_train)
        loss = criterion(output.view(-1), y_train)
        loss.backward()
        optimizer.step()
        history["loss"].append(loss.item())
        with torch.no_grad():
            history["test_loss"].append(criterion(model(X_test).view(-1), y_test).item())
        if epoch % 10 == 0 or epoch == epochs - 1:
            history["epochs"].append(epoch)
            history["probabilities"].append(output[tracked].detach().view(-1).cpu().numpy())
        if bar is not None:
            bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)  # NOTE: tqdm redraws on its own clock
        if (epoch + 1) % 100 == 0:
            message = f"Epoch - {epoch + 1}, Loss - {round(loss.item(), 3)}"
            bar.write(message) if bar is not None else log(message)
    if bar is not None:
        bar.close()
    history["train_accuracy"] = accuracy(model, X_train, y_train)
    history["test_accuracy"] = accuracy(model, X_test, y_test)
    history["data"] = (X_np, y_np)
    return model, history


def draw_figures(model, history, out):
    """Write the three PNGs; returns [(path, description)]."""
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(out, exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history["loss"], label="train")
    ax.plot(history["test_loss"], label="held-out")
    ax.set(xlabel="epoch", ylabel="BCE loss", title="Loss curve", yscale="log")
    ax.legend()
    written.append(_save(fig, out, "loss.png", "the training and held-out loss over the epochs"))

    fig, ax = plt.subplots(figsize=(6, 4))
    probs = np.stack(history["probabilities"])
    labels = history["tracked_labels"].cpu().numpy()
    for i in range(probs.shape[1]):
        ax.plot(history["epochs"], probs[:, i], color="tab:orange" if labels[i] else "tab:blue", alpha=0.8)
    ax.set(xlabel="epoch", ylabel="output probability", ylim=(0, 1),
           title="Probabilities of 10 samples (orange: class 1, blue: class 0)")
    written.append(_save(fig, out, "probabilities.png",
                         "the output probabilities of 10 fixed samples separating as training goes on"))

    fig, ax = plt.subplots(figsize=(5, 5))
    grid = np.linspace(-2.2, 2.2, 200)
    gx, gy = np.meshgrid(grid, grid)
    points = np.zeros((gx.size, 5), dtype=np.float32)
    points[:, 0], points[:, 1] = gx.ravel(), gy.ravel()
    device = next(model.parameters()).device
    with torch.no_grad():
        p = model(torch.from_numpy(points).to(device)).view(gx.shape).cpu().numpy()
    ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, p, levels=[0.5], colors="k")
    X_np, y_np = history["data"]
    ax.scatter(X_np[:, 0], X_np[:, 1], c=y_np, cmap="RdBu_r", s=6, edgecolors="none")
    ax.set(xlabel="feature 0", ylabel="feature 1", title="Decision boundary (p = 0.5)", aspect="equal")
    written.append(_save(fig, out, "decision_boundary.png",
                         "the learned decision boundary (p = 0.5) over the data, in the first two features"))
    plt.close("all")
    return written


def _save(fig, out, name, description):
    path = os.path.join(out, name)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path, description


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000, help="training epochs (default 1000)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the data and the weights (default 0)")
    parser.add_argument("--out", default="out", help="folder for the PNG figures (default out/)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    print("ember demo: seed 004's classifier (5 -> 8 -> 4 -> 1, ReLU, Sigmoid, BCELoss, SGD) on a disc-in-a-ring "
          "data set that no straight line separates\n")
    start = time.perf_counter()
    model, history = train(args.epochs, args.lr, args.seed, args.device, args.quiet)
    seconds = time.perf_counter() - start
    print(f"\ntrained {args.epochs} epochs in {seconds:.1f}s: loss {history['loss'][0]:.4f} -> "
          f"{history['loss'][-1]:.4f}")
    print(f"train accuracy {history['train_accuracy']:.3f}, held-out accuracy {history['test_accuracy']:.3f}")
    figures = draw_figures(model, history, args.out)
    if figures:
        print("\nfigures:")
        for path, description in figures:
            print(f"  {path}: {description}")
    else:
        print("\n(matplotlib is not installed: no figures; `make demo` installs it)")


if __name__ == "__main__":
    main()
