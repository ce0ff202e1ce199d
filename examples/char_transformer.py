# Beyond the seeds: a character-level Transformer language model. It reads a few of Shakespeare's
# sonnets (examples/data/sonnets.txt, public domain), learns to predict each next character with a
# causal TransformerEncoder, then samples new text from a prompt.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
import os
from pathlib import Path

import ember as torch
import ember.nn as nn
import ember.nn.functional as F

STEPS = int(os.environ.get("PROGRAM_STEPS", "600"))
CONTEXT, BATCH, D_MODEL, HEADS, LAYERS = 64, 32, 128, 4, 2

torch.manual_seed(0)
text = (Path(__file__).parent / "data" / "sonnets.txt").read_text(encoding="utf-8")
chars = sorted(set(text))
to_index = {c: i for i, c in enumerate(chars)}
data = torch.tensor([to_index[c] for c in text], dtype=torch.long)
print(f"{len(text)} characters, vocabulary of {len(chars)}")


class CharTransformer(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tokens = nn.Embedding(vocab, D_MODEL)
        self.positions = nn.Embedding(CONTEXT, D_MODEL)
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, dim_feedforward=4 * D_MODEL, dropout=0.1,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, vocab)

    def forward(self, idx):
        length = idx.shape[1]
        h = self.tokens(idx) + self.positions(torch.arange(length))
        mask = nn.Transformer.generate_square_subsequent_mask(length)  # each position sees only its past
        return self.head(self.norm(self.encoder(h, mask=mask, is_causal=True)))


def batch():
    starts = torch.randint(0, len(data) - CONTEXT - 1, (BATCH,))
    x = torch.stack([data[s:s + CONTEXT] for s in starts.tolist()])
    y = torch.stack([data[s + 1:s + CONTEXT + 1] for s in starts.tolist()])
    return x, y


model = CharTransformer(len(chars))
print(f"{sum(p.numel() for p in model.parameters())} parameters")
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

for step in range(STEPS):
    x, y = batch()
    logits = model(x)
    loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % max(1, STEPS // 6) == 0 or step == STEPS - 1:
        print(f"step {step:4d}  loss {loss.item():.4f}")


@torch.no_grad()
def sample(prompt, length=200, temperature=0.8):
    model.eval()
    idx = torch.tensor([[to_index[c] for c in prompt]])
    for _ in range(length):
        logits = model(idx[:, -CONTEXT:])[:, -1] / temperature
        next_char = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
        idx = torch.cat([idx, next_char], dim=1)
    return "".join(chars[i] for i in idx[0].tolist())


print("sample:")
print(sample("Shall I "))
