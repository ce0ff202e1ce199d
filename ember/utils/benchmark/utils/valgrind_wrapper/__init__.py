"""torch.utils.benchmark.utils.valgrind_wrapper: Callgrind results (ember cannot collect them)."""
