# Beyond the seeds: an LSTM that learns to continue a sine wave. It trains on windows of a noisy
# sine, predicting each next value, then runs on its own predictions (autoregressively) past the end
# of what it has seen, and reports how far the continuation drifts from the true wave.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
import math
import os

import ember as torch
import ember.nn as nn

STEPS = int(os.environ.get("PROGRAM_STEPS", "300"))
WINDOW, BATCH, HIDDEN, FUTURE = 40, 32, 32, 60
PERIOD = 20.0  # samples per cycle

torch.manual_seed(0)


def wave(start, length):
    t = torch.arange(length, dtype=torch.float32).unsqueeze(0) + start.unsqueeze(1)
    return torch.sin(2 * math.pi * t / PERIOD)


class SineLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=HIDDEN, num_layers=2, batch_first=True)
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)  # out: (batch, time, hidden)
        return self.head(out), state


model = SineLSTM()
print(model)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, STEPS // 3), gamma=0.3)

for step in range(STEPS):
    series = wave(torch.rand(BATCH) * PERIOD, WINDOW + 1)
    series = series + 0.02 * torch.randn_like(series)
    inputs, targets = series[:, :-1].unsqueeze(-1), series[:, 1:].unsqueeze(-1)
    optimizer.zero_grad()
    prediction, _ = model(inputs)
    loss = nn.functional.mse_loss(prediction, targets)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    if step % max(1, STEPS // 6) == 0 or step == STEPS - 1:
        print(f"step {step:4d}  loss {loss.item():.5f}")

# Continue one wave: warm the state up on WINDOW true values, then feed back each prediction.
model.eval()
with torch.no_grad():
    start = torch.tensor([3.0])
    truth = wave(start, WINDOW + FUTURE)[0]
    prediction, state = model(truth[:WINDOW].reshape(1, WINDOW, 1))
    value = prediction[:, -1:]
    continuation = []
    for _ in range(FUTURE):
        continuation.append(value.item())
        value, state = model(value, state)
    error = (torch.tensor(continuation) - truth[WINDOW:]).abs()
print("continuation", " ".join(f"{v:+.2f}" for v in continuation[:10]), "...")
print(f"mean abs error over the next {FUTURE} steps {error.mean().item():.4f}")
