"""DDP's comm hooks, gradient_as_bucket_view, join() and the futures on CUDA tensors over the NCCL engine, one
rank on the CuPy stand-in (run with tests/_standin first on sys.path): the same grads as on the CPU."""
import numpy as np

import ember as torch
import ember.distributed as dist
from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
from ember.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("nccl")


def net(device):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).to(device)


x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
reference = net("cpu")
reference(torch.tensor(x)).square().sum().backward()
for hook in (None, default_hooks.allreduce_hook, default_hooks.fp16_compress_hook, default_hooks.bf16_compress_hook):
    for as_view in (False, True):
        model = DDP(net("cuda"), device_ids=[0], gradient_as_bucket_view=as_view, bucket_cap_mb=0.00005)
        if hook is not None:
            model.register_comm_hook(None, hook)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with model.join():
            for _ in range(2):
                opt.zero_grad()
                model(torch.tensor(x)).square().sum().backward()
        assert model.module[0].weight.grad.device.type == "cuda"
        for p, q in zip(model.module.parameters(), reference.parameters()):
            got, want = p.grad.cpu().numpy(), q.grad.numpy()
            if hook in (None, default_hooks.allreduce_hook):
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-2, atol=1e-2)
        opt.step()
        if as_view:
            assert len({p.grad.untyped_storage().data_ptr() for p in model.module.parameters()}) == len(
                model.reducer.buckets)
fut = dist.all_reduce(torch.ones(2, device="cuda"), async_op=True).get_future()
assert fut.then(lambda f: f.value()[0] * 2).wait().cpu().tolist() == [2.0, 2.0]
dist.destroy_process_group()
print("ddp nccl stand-in OK", flush=True)
