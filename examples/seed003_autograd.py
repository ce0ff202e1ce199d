# Seed 003, part 3 ("PyTorch: Tensor和autograd"): the same network, gradients from autograd.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
import os

import ember as torch

ITERATIONS = int(os.environ.get("PROGRAM_ITERATIONS", "500"))  # the seed runs 500

N, D_in, H, D_out = 64, 1000, 100, 10

# 随机创建一些训练数据
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)

w1 = torch.randn(D_in, H, requires_grad=True)
w2 = torch.randn(H, D_out, requires_grad=True)

learning_rate = 1e-6
for it in range(ITERATIONS):
    # Forward pass
    y_pred = x.mm(w1).clamp(min=0).mm(w2)

    # compute loss
    loss = (y_pred - y).pow(2).sum() # computation graph
    print(it, loss.item())

    # Backward pass
    loss.backward()

    # update weights of w1 and w2
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
