"""Pointwise ops: one-, two- and three-input elementwise math (arithmetic, comparisons, bitwise, rounding,
exp/log, trigonometric and special functions, complex parts), with their shared checks."""


def set_batch_rules(primitive):
    """vmap: every primitive declared in this family is elementwise, so one batching rule serves them all
    (ember/func/_batching/rules.py); a class that declares its own `batch_rule` keeps it. Called once every
    module of the family is imported."""
    todo = list(primitive.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(__name__ + ".") and not any(
                "batch_rule" in c.__dict__ for c in cls.__mro__ if c is not primitive):
            cls.batch_rule = ("pointwise",)
