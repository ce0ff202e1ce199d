"""How a job ends: `raise` (an uncaught exception on the last rank while the others wait), `exit-early`
(the last rank exits with status 3 while the others wait), `exit-late` (the last rank exits with status 7
after the work)."""
import sys

import ember as torch
import ember.distributed as dist

dist.init_process_group("gloo")
R, N = dist.get_rank(), dist.get_world_size()
mode = sys.argv[1]
t = torch.ones(2)
dist.all_reduce(t)
if R == N - 1 and mode == "raise":
    raise ValueError("this rank fails")
if R == N - 1 and mode == "exit-early":
    sys.exit(3)
dist.all_reduce(t)
print(f"rank {R}: finished", flush=True)
if R == N - 1 and mode == "exit-late":
    sys.exit(7)
