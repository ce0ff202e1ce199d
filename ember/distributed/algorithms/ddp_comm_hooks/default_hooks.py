"""torch.distributed.algorithms.ddp_comm_hooks.default_hooks: DDP communication hooks that average the bucket
(allreduce_hook), or average it in float16/bfloat16 to halve the bytes sent (fp16/bf16_compress_hook)."""
__all__ = ["allreduce_hook", "bf16_compress_hook", "bf16_compress_wrapper", "fp16_compress_hook",
           "fp16_compress_wrapper"]


def _dist():
    from .... import distributed
    return distributed


def _group(process_group):
    return process_group if process_group is not None else _dist().group.WORLD


def _allreduce_fut(process_group, tensor):
    """Average `tensor` over the group; a future of the averaged tensor."""
    group = _group(process_group)
    tensor.div_(_dist().get_world_size(group))
    work = _dist().all_reduce(tensor, group=group, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])


def allreduce_hook(process_group, bucket):
    """Average the bucket's gradients over `process_group` (None: the default group): DDP's own reduction."""
    return _allreduce_fut(process_group, bucket.buffer())


def _compress_hook(dtype, process_group, bucket):
    group = _group(process_group)
    buffer = bucket[0] if isinstance(bucket, tuple) else bucket.buffer()
    compressed = buffer.to(dtype).div_(_dist().get_world_size(group))

    def decompress(fut):
        value = fut if hasattr(fut, "shape") else fut.value()[0]
        buffer.copy_(value)
        return buffer

    work = _dist().all_reduce(compressed, group=group, async_op=True)
    return work.get_future().then(decompress)


def fp16_compress_hook(process_group, bucket):
    """Average the bucket in float16: cast, divide by the group's size, all_reduce, cast back into the bucket.

    NOTE: ember's all_reduce sums float16 in float32 and rounds once (gloo sums in float16 pairwise), so with
    more than 2 ranks the last bit can differ from PyTorch's."""
    from .... import float16
    return _compress_hook(float16, process_group, bucket)


def bf16_compress_hook(process_group, bucket):
    """Average the bucket in bfloat16 (as fp16_compress_hook; PyTorch allows it with NCCL only, ember on every
    backend)."""
    from .... import bfloat16
    return _compress_hook(bfloat16, process_group, bucket)


def _wrapper(dtype, hook, name):
    def wrapper_hook(hook_state, bucket):
        bucket.set_buffer(bucket.buffer().to(dtype))
        fut = hook(hook_state, bucket)

        def decompress(fut):
            decompressed = bucket.buffer()
            decompressed.copy_(fut.value())
            return decompressed
        return fut.then(decompress)
    wrapper_hook.__name__ = wrapper_hook.__qualname__ = name
    return wrapper_hook


def fp16_compress_wrapper(hook):
    """A hook that casts the bucket to float16, runs `hook` on it, and hands back its result."""
    from .... import float16
    return _wrapper(float16, hook, "fp16_compress_wrapper_hook")


def bf16_compress_wrapper(hook):
    """A hook that casts the bucket to bfloat16, runs `hook` on it, and hands back its result."""
    from .... import bfloat16
    return _wrapper(bfloat16, hook, "bf16_compress_wrapper_hook")
