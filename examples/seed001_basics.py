# Seed 001 (PyTorch basics tour): tensor creation, operations, devices, autograd, and the
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
# SimpleNN training loop with MSELoss and Adam, written as the tutorial writes it.
import os

import numpy as np
import ember as torch
import ember.nn as nn
import ember.optim as optim

EPOCHS = int(os.environ.get("PROGRAM_EPOCHS", "100"))  # the seed trains for 100 epochs

a = torch.zeros(2, 3)
print(a)
b = torch.ones(2, 3)
print(b)
c = torch.randn(2, 3)
print(c)
numpy_array = np.array([[1, 2], [3, 4]])
tensor_from_numpy = torch.from_numpy(numpy_array)
print(tensor_from_numpy)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
d = torch.randn(2, 3, device=device)
print(d)

e = torch.randn(2, 3)
f = torch.randn(2, 3)
print(e + f)
print(e * f)
g = torch.randn(3, 2)
print(g.t())
print(g.shape)

tensor_requires_grad = torch.tensor([1.0], requires_grad=True)
tensor_result = tensor_requires_grad * 2
tensor_result.backward()
print(tensor_requires_grad.grad)

x = torch.randn(2, 2, requires_grad=True)
y = x + 2
z = y * y * 3
out = z.mean()
out.backward()
print(x.grad.shape)
with torch.no_grad():
    y = x * 2
print(y.requires_grad)


class SimpleNN(nn.Module):
    def __init__(self):
        super(SimpleNN, self).__init__()
        self.fc1 = nn.Linear(2, 2)  # 输入层到隐藏层
        self.fc2 = nn.Linear(2, 1)  # 隐藏层到输出层

    def forward(self, x):
        x = torch.relu(self.fc1(x))  # ReLU 激活函数
        x = self.fc2(x)
        return x


model = SimpleNN()
print(model)
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)

X = torch.randn(10, 2)
Y = torch.randn(10, 1)
for epoch in range(EPOCHS):
    optimizer.zero_grad()
    output = model(X)
    loss = criterion(output, Y)
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 10 == 0:
        print(f'Epoch [{epoch+1}/{EPOCHS}], Loss: {loss.item():.4f}')

model.to(device)
X = X.to(device)
Y = Y.to(device)
print(criterion(model(X), Y).item() >= 0)
