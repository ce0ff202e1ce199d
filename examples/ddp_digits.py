# The digits MLP of examples/digits_mlp.py trained data-parallel: one process per replica, each reading its
# share of every epoch through DistributedSampler, gradients averaged by DistributedDataParallel.
# Written as a PyTorch DDP program; the one change from it is `import ember as torch`.
#
#   python -m ember.distributed.run --nproc-per-node 2 examples/ddp_digits.py
#   mpiexec -n 2 python examples/ddp_digits.py
#
# (--epochs N and --max-steps N shorten a run.)

import argparse

import ember as torch
import ember.distributed as dist
import ember.nn as nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, TensorDataset
from ember.utils.data.distributed import DistributedSampler
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
parser.add_argument("--batch-size", type=int, default=32, help="per process")
args = parser.parse_args()

dist.init_process_group("gloo")  # rank and world size from the launcher's environment or from mpiexec
rank, world_size = dist.get_rank(), dist.get_world_size()

torch.manual_seed(0)
digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(digits.data / 16.0, digits.target, test_size=0.25,
                                                    random_state=0, stratify=digits.target)
train_set = TensorDataset(torch.tensor(X_train, dtype=torch.float32), torch.tensor(y_train))
X_test = torch.tensor(X_test, dtype=torch.float32)
y_test = torch.tensor(y_test)

model = nn.Sequential(
    nn.Linear(64, 128),
    nn.ReLU(),
    nn.Linear(128, 64),
    nn.ReLU(),
    nn.Linear(64, 10),
)
model = DDP(model)  # rank 0's initial weights go to every rank
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
sampler = DistributedSampler(train_set, shuffle=True, seed=0)
loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
if rank == 0:
    print(f"{world_size} processes, {len(sampler)} of {len(train_set)} training digits each per epoch")


def evaluate(X, y):
    model.eval()
    with torch.no_grad():
        predicted = model(X).argmax(dim=1)
    model.train()
    return (predicted == y).float().mean().item()


steps = 0
for epoch in range(args.epochs):
    sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
    total = torch.zeros(2)  # this rank's summed loss and sample count
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()  # gradients averaged across the ranks here
        optimizer.step()
        total += torch.tensor([loss.item() * len(targets), len(targets)])
        steps += 1
        if args.max_steps is not None and steps >= args.max_steps:
            break
    dist.all_reduce(total)  # every rank's losses, for the report
    if rank == 0 and ((epoch + 1) % 5 == 0 or epoch + 1 == args.epochs or steps == args.max_steps):
        print(f"epoch {epoch + 1:3d}  loss {(total[0] / total[1]).item():.4f}  "
              f"test accuracy {evaluate(X_test, y_test):.4f}")
    if args.max_steps is not None and steps >= args.max_steps:
        break

# the replicas stayed identical: every rank holds rank 0's weights
weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
mine = weights.clone()
dist.broadcast(weights, src=0)
assert torch.equal(mine, weights), f"rank {rank}'s weights differ from rank 0's"
if rank == 0:
    print(f"final test accuracy {evaluate(X_test, y_test):.4f} after {steps} steps on {world_size} processes")
dist.destroy_process_group()
