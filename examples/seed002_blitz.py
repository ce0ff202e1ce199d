# Seed 002: the PyTorch blitz (zhuanlan.zhihu.com/p/25572330): tensors, the numpy bridge, autograd.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
# In the notebook the bare expressions (`x`, `x.size()`, `x + y`, ...) echo their values; a script
# does not echo, so each such line is kept as written and followed by a print of the same thing.
from __future__ import print_function
import ember as torch
x = torch.Tensor(5, 3)  # 构造一个未初始化的5*3的矩阵
x = torch.rand(5, 3)  # 构造一个随机初始化的矩阵
x  # 此处在notebook中输出x的值来查看具体的x内容
print(x)
x.size()
print(x.size())
#NOTE: torch.Size 事实上是一个tuple, 所以其支持相关的操作*
y = torch.rand(5, 3)
#此处 将两个同形矩阵相加有两种语法结构
x + y  # 语法一
print(x + y)
torch.add(x, y)  # 语法二
print(torch.add(x, y))
# 另外输出tensor也有两种写法
result = torch.Tensor(5, 3)  # 语法一
torch.add(x, y, out=result)  # 语法二
print(result)
y.add_(x)  # 将y与x相加
print(y)
# 特别注明:任何可以改变tensor内容的操作都会在方法名后加一个下划线'_'
# 例如:x.copy_(y), x.t_(), 这俩都会改变x的值。
#另外python中的切片操作也是类似的
x[:,1]  #将输出x矩阵的第2列所有的值
print(x[:,1])

# Numpy桥
# 此处演示tensor和numpy数据结构的相互转换
a = torch.ones(5)
b = a.numpy()
# 此处演示当修改numpy数组之后,与之相关联的tensor也会相应的被修改
a.add_(1)
print(a)
print(b)
# 将numpy的Array转换为torch的Tensor
import numpy as np
a = np.ones(5)
b = torch.from_numpy(a)
np.add(a, 1, out=a)
print(a)
print(b)
# 另外除了CharTensor之外,所有的tensor都可以在CPU运算和GPU预算之间相互转换
# 使用CUDA函数来将Tensor移动到GPU上
# 当CUDA可用时会进行GPU的运算
if torch.cuda.is_available():
    x = x.cuda()
    y = y.cuda()
    x + y

# Pytorch中的神经网络: autograd
from ember.autograd import Variable
x = Variable(torch.ones(2, 2), requires_grad = True)
y = x + 2
# NOTE: the seed has `y.creator` here. PyTorch removed `.creator` (renamed `.grad_fn`) in 0.2;
# PyTorch 2.13 raises AttributeError on it, so the line is dropped as PyTorch runs the program.
# y.creator
# y 是作为一个操作的结果创建的因此y有一个creator
z = y * y * 3
out = z.mean()
# 现在我们来使用反向传播
out.backward()
# out.backward()和操作out.backward(torch.Tensor([1.0]))是等价的
# 在此处输出 d(out)/dx
x.grad
print(x.grad)
