"""torch.profiler.profiler: where torch.profiler's profile, schedule and trace handler are defined."""
from ._profile import (ProfilerAction, ProfilerActivity, kineto_available, profile, schedule, supported_activities,
                       tensorboard_trace_handler)

__all__ = ["profile", "schedule", "supported_activities", "tensorboard_trace_handler", "ProfilerAction",
           "ProfilerActivity", "kineto_available"]
