"""Walk a DataPipe graph and apply settings to its pipes (torch.utils.data.graph_settings's job):
sharding, shuffle toggling and seeding."""
from .datapipe import IterDataPipe, MapDataPipe

__all__ = ["apply_random_seed", "apply_sharding", "apply_shuffle_settings", "get_all_graph_pipes"]


def _children(obj, seen):
    """The DataPipes directly reachable from obj's attributes (through lists, tuples, dicts, containers)."""
    found = []
    attrs = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
    # NOTE: a wrapper's source data (a list of a million samples) is not walked element by element
    for name in getattr(type(obj), "_ember_data_attrs", ()):
        value = attrs.pop(name, None)
        if isinstance(value, (IterDataPipe, MapDataPipe)):
            found.append(value)
    stack = list(attrs.values())
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, (IterDataPipe, MapDataPipe)):
            found.append(value)
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif type(value).__name__ == "_SplitContainer":
            stack.extend(vars(value).values())
    return found


def get_all_graph_pipes(datapipe):
    """Every DataPipe in the graph ending at datapipe, the sink first, each once."""
    order, seen_pipes, queue = [], set(), [datapipe]
    while queue:
        pipe = queue.pop(0)
        if id(pipe) in seen_pipes:
            continue
        seen_pipes.add(id(pipe))
        order.append(pipe)
        queue.extend(_children(pipe, set()))
    return order


def apply_sharding(datapipe, num_of_instances, instance_id, sharding_group=None):
    """apply_sharding on the shardable pipes of the graph (one per branch, as torch requires)."""
    from .iter.sharding import SHARDING_PRIORITIES
    group = SHARDING_PRIORITIES.DEFAULT if sharding_group is None else sharding_group

    def visit(pipe, applied, seen):
        if id(pipe) in seen:
            return
        seen = seen | {id(pipe)}
        if hasattr(pipe, "apply_sharding") and callable(pipe.apply_sharding) and (
                not hasattr(pipe, "is_shardable") or pipe.is_shardable()):
            if applied is not None:
                raise RuntimeError("Sharding twice on a single pipeline is likely unintended and will cause "
                                   f"data loss. Sharding already applied to {applied} while trying to apply "
                                   f"to {pipe}")
            pipe.apply_sharding(num_of_instances, instance_id, sharding_group=group)
            applied = pipe
        for child in _children(pipe, set()):
            visit(child, applied, seen)
    visit(datapipe, None, frozenset())
    return datapipe


def apply_shuffle_settings(datapipe, shuffle=None):
    """set_shuffle(shuffle) on every shuffling pipe; with none and shuffle=True, warn as torch does."""
    if shuffle is None:
        return datapipe
    shufflers = [p for p in get_all_graph_pipes(datapipe)
                 if hasattr(p, "set_shuffle") and hasattr(p, "set_seed")]
    if not shufflers and shuffle:
        import warnings
        warnings.warn("`shuffle=True` was set, but the datapipe does not contain a `Shuffler`. Adding one at the "
                      "end. Be aware that the default buffer size might not be suitable for your task.")
        datapipe = datapipe.shuffle()
        shufflers = [datapipe]
    for s in shufflers:
        s.set_shuffle(shuffle)
    return datapipe


def apply_random_seed(datapipe, rng):
    """set_seed with a seed drawn from the ember Generator rng on each random pipe (each once)."""
    import ember
    for pipe in get_all_graph_pipes(datapipe):
        if hasattr(pipe, "set_seed") and callable(pipe.set_seed):
            pipe.set_seed(int(ember.empty((), dtype=ember.int64).random_(generator=rng).item()))
    return datapipe
