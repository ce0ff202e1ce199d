# Beyond the seeds: training that survives being killed. Each epoch ends with a checkpoint (model,
# optimizer, scheduler, epoch, RNG states) saved with torch.save; started again, the program resumes
# from the last checkpoint and finishes with exactly the loss of a run that was never interrupted.
# torch.save writes a temporary file and renames it over the checkpoint, so a kill during the save
# leaves the previous one. Runs on ember as written; the one change from PyTorch is `import ember as torch`.
#
#   python checkpoint_resume.py [--checkpoint PATH] [--epochs N] [--kill-after-epoch K]
import argparse
import os
import signal

import ember as torch
import ember.nn as nn
from ember.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--checkpoint", default="checkpoint.pt")
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--kill-after-epoch", type=int, default=None,
                    help="SIGKILL this process right after saving that epoch's checkpoint (a crash)")
args = parser.parse_args()

torch.manual_seed(0)
x = torch.randn(512, 10)
y = (x[:, :3].sum(dim=1, keepdim=True) > 0).float()
shuffle = torch.Generator().manual_seed(1)
loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=shuffle)

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
criterion = nn.BCEWithLogitsLoss()
start = 0

if os.path.exists(args.checkpoint):
    checkpoint = torch.load(args.checkpoint)  # weights_only=True: tensors, containers and numbers only
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    torch.set_rng_state(checkpoint["rng"])  # dropout's random numbers
    shuffle.set_state(checkpoint["shuffle"])  # the loader's order
    start = checkpoint["epoch"] + 1
    print(f"resumed after epoch {checkpoint['epoch']} (loss {checkpoint['loss']:.6f})")

for epoch in range(start, args.epochs):
    total = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(inputs)
    scheduler.step()
    epoch_loss = total / len(x)
    print(f"epoch {epoch}  loss {epoch_loss:.6f}  lr {scheduler.get_last_lr()[0]:.5f}")
    torch.save({"epoch": epoch, "loss": epoch_loss, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state(), "shuffle": shuffle.get_state()},
               args.checkpoint)
    if epoch == args.kill_after_epoch:
        os.kill(os.getpid(), signal.SIGKILL)

with torch.no_grad():
    print(f"final loss {criterion(model(x), y).item()!r}")
