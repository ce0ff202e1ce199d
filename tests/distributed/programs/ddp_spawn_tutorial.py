"""PyTorch's DDP tutorial (docs "Getting Started with Distributed Data Parallel") as its readers write it:
torch.multiprocessing.spawn starts the ranks, each calls init_process_group("gloo", rank, world_size) with
MASTER_ADDR/MASTER_PORT set, wraps a toy model in DDP, saves a checkpoint on rank 0 and loads it on every
rank, then trains a few steps. The weights and data are built without random numbers, so the run under
ember and the run under PyTorch must print the same final parameters. Usage: ddp_spawn_tutorial.py PORT"""
import os
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.optim as optim
from torch.nn.parallel import DistributedDataParallel as DDP


def setup(rank, world_size, port):
    os.environ["MASTER_ADDR"] = "localhost"
    os.environ["MASTER_PORT"] = port
    dist.init_process_group("gloo", rank=rank, world_size=world_size)


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(10, 5)
        with torch.no_grad():
            for i, p in enumerate(self.parameters()):
                p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i).reshape(p.shape) * 0.3)

    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


def demo(rank, world_size, port, path):
    setup(rank, world_size, port)
    ddp_model = DDP(ToyModel())
    if rank == 0:
        torch.save(ddp_model.state_dict(), path)
    dist.barrier()
    ddp_model.load_state_dict(torch.load(path, map_location={"cuda:0": f"cuda:{rank}"}, weights_only=True))
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(ddp_model.parameters(), lr=0.05, momentum=0.9)
    for step in range(8):
        x = torch.cos(torch.arange(200, dtype=torch.float32) * (0.1 + rank) + step).reshape(20, 10)
        y = torch.sin(torch.arange(100, dtype=torch.float32) * (0.3 + rank) - step).reshape(20, 5)
        optimizer.zero_grad()
        loss = loss_fn(ddp_model(x), y)
        loss.backward()
        optimizer.step()
    sums = [p.detach().sum().item() for p in ddp_model.parameters()]
    gathered = [None] * world_size
    dist.all_gather_object(gathered, sums)
    if rank == 0:
        assert all(g == gathered[0] for g in gathered), gathered  # DDP keeps every replica identical
        print("FINAL " + " ".join(f"{v:.6f}" for v in sums), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(demo, args=(2, sys.argv[1], os.path.join(tmp, "model.checkpoint")), nprocs=2, join=True)
