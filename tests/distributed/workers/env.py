"""Prints what a rank sees: the launcher's environment and the process group's view; exits with argv[1]."""
import os
import sys

import ember as torch
import ember.distributed as dist

dist.init_process_group("gloo")
t = torch.tensor([float(dist.get_rank())])
dist.all_reduce(t)
keys = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
rank = dist.get_rank()
fields = ["ENV", rank, dist.get_world_size(), *(os.environ.get(k, "-") for k in keys), float(t),
          torch.distributed is dist, dist.is_torchelastic_launched(), *sys.argv[2:]]
sys.stdout.flush()
# NOTE: one write of the whole line: the ranks share mpiexec's stdout, and print's separate writes interleaved
os.write(1, (" ".join(str(f) for f in fields) + "\n").encode())
dist.destroy_process_group()
if rank == 0:
    sys.exit(int(sys.argv[1]))
