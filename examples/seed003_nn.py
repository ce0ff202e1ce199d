# Seed 003, parts 4-6 ("PyTorch: nn", "PyTorch: optim", "自定义 nn Modules"): the two-layer
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
# network built from torch.nn, trained by hand, with optim.SGD, and as a custom Module with Adam.
import os

import ember as torch
import ember.nn as nn

ITERATIONS = int(os.environ.get("PROGRAM_ITERATIONS", "500"))  # the seed runs 500

N, D_in, H, D_out = 64, 1000, 100, 10

# 随机创建一些训练数据
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)


def run(PART):
    print("==", PART)
    if PART in ("nn", "optim"):
        model = torch.nn.Sequential(
            torch.nn.Linear(D_in, H, bias=False),  # w_1 * x + b_1
            torch.nn.ReLU(),
            torch.nn.Linear(H, D_out, bias=False),
        )
        torch.nn.init.normal_(model[0].weight)
        torch.nn.init.normal_(model[2].weight)
    else:
        class TwoLayerNet(torch.nn.Module):
            def __init__(self, D_in, H, D_out):
                super(TwoLayerNet, self).__init__()
                # define the model architecture
                self.linear1 = torch.nn.Linear(D_in, H, bias=False)
                self.linear2 = torch.nn.Linear(H, D_out, bias=False)

            def forward(self, x):
                y_pred = self.linear2(self.linear1(x).clamp(min=0))
                return y_pred

        model = TwoLayerNet(D_in, H, D_out)

    loss_fn = nn.MSELoss(reduction='sum')

    if PART == "nn":
        learning_rate = 1e-6
        for it in range(ITERATIONS):
            y_pred = model(x)  # model.forward()
            loss = loss_fn(y_pred, y)  # computation graph
            print(it, loss.item())
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():  # param (tensor, grad)
                    param -= learning_rate * param.grad
            model.zero_grad()
    else:
        if PART == "optim":
            learning_rate = 1e-6
            optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
        else:
            learning_rate = 1e-4
            optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        for it in range(ITERATIONS):
            y_pred = model(x)  # model.forward()
            loss = loss_fn(y_pred, y)  # computation graph
            print(it, loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


for part in ("nn", "optim", "module"):
    run(part)
