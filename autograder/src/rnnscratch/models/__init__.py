"""The reference maths in numpy: what every exercise is checked against and the book shows.

``rnn`` (activations, RNN cell and sequence, BPTT, clipping), ``lstm`` (gate by gate, cell,
sequence, fused and backward), ``gru`` (PyTorch's and Cho et al.'s), ``variants`` (peephole,
coupled gates), ``params`` (per-gate dicts <-> torch's packed ``nn.LSTM``/``nn.GRU`` layout).

May import: numpy and each other (torch only lazily, in ``params``' converters). Nothing else
from the course: everything else stands on these.
"""
