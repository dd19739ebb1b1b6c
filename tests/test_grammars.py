"""Toy grammars (rnnscratch.experiments.grammars) and LSTM probes (experiments.probes)."""

import re

import numpy as np
import pytest
import torch

from rnnscratch.checks import assert_close
from rnnscratch.experiments import grammars as G
from rnnscratch.experiments.probes import correlations, find_neuron, lstm_states
from rnnscratch.seed import set_seed
from rnnscratch.tolerances import REFERENCE

PATTERNS = {
    "counting": r"(a+)X(b+)\$",
    "selective": r"a[aX]*Y(b+)\$",
    "state": r"([AB])x+Y([ab])\$",
    "copy": r"([abc]{3})\|([abc]{3})\$",
}


@pytest.mark.parametrize("name", sorted(G.GRAMMARS))
def test_samples_are_valid_strings(name):
    grammar = G.GRAMMARS[name]()
    rng = np.random.default_rng(0)
    for s in grammar.batch(rng, 300):
        m = re.fullmatch(PATTERNS[name], s)
        assert m, f"{name}: {s!r} is not in the grammar"
        assert set(s) <= set(grammar.vocab) and s.count(G.END) == 1
        assert s.count(grammar.trigger) == 1
        if name == "counting":
            assert len(m[1]) == len(m[2]) and 1 <= len(m[1]) <= 10
        if name == "selective":
            n_a = s.count("a")
            assert len(m[1]) == n_a and 1 <= n_a <= 10 and s.count("X") <= 5
        if name == "state":
            assert m[1].lower() == m[2] and 1 <= s.count("x") <= 10
        if name == "copy":
            assert m[1] == m[2]


def test_samplers_reach_both_ends_of_their_ranges():
    rng = np.random.default_rng(1)
    counts = {G.counting_string(1).count("a"), G.counting_string(10).count("a")}
    assert counts == {1, 10}
    ns = {s.count("a") for s in G.counting().batch(rng, 500)}
    assert ns == set(range(1, 11))
    xs = {s.count("x") for s in G.state().batch(rng, 500)}
    assert xs == set(range(1, 11))
    assert {s[0] for s in G.state().batch(rng, 50)} == {"A", "B"}
    assert {s.count("X") for s in G.selective().batch(rng, 500)} == set(range(6))


def test_edge_cases_n1_and_n10():
    assert G.counting_string(1) == "aXb$"
    assert G.counting_string(10) == "a" * 10 + "X" + "b" * 10 + "$"
    assert G.state_string("A", 1) == "AxYa$"
    assert G.state_string("B", 10) == "B" + "x" * 10 + "Yb$"
    assert G.selective_string(1, 0, np.random.default_rng(0)) == "aYb$"
    s = G.selective_string(10, 5, np.random.default_rng(0))
    assert (
        s[0] == "a"
        and s.count("a") == 10
        and s.count("X") == 5
        and s.endswith("Y" + "b" * 10 + "$")
    )
    assert G.copy_string("abc") == "abc|abc$"
    for bad in (
        lambda: G.counting_string(0),
        lambda: G.state_string("C", 3),
        lambda: G.copy_string("abd"),
        lambda: G.state_string("A", 0),
    ):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.parametrize("name", sorted(G.GRAMMARS))
def test_encoding_round_trips(name):
    grammar = G.GRAMMARS[name]()
    strings = grammar.batch(np.random.default_rng(2), 40)
    ids = G.encode(strings, grammar.vocab)
    assert ids.shape == (max(map(len, strings)), 40)
    assert G.decode(ids, grammar.vocab) == strings
    batch = G.make_batch(grammar, strings)
    T = ids.shape[0] - 1
    assert batch.xs.shape == (T, 40, grammar.V) and batch.xs.dtype == np.float32
    assert np.all(batch.xs.sum(-1) == 1)
    # the inputs are each string without its last character, padded with END
    inputs = G.decode(np.vstack([batch.xs.argmax(-1), np.zeros((1, 40), dtype=int)]), grammar.vocab)
    assert inputs == [s[:-1] + G.END for s in strings]
    for b, s in enumerate(strings):
        n = len(s) - 1
        assert "".join(grammar.vocab[k] for k in batch.targets[:n, b]) == s[1:]
        assert batch.valid[:, b].sum() == n and batch.valid[:n, b].all()
        assert batch.determined[:, b].sum() == n - s.index(grammar.trigger)


def test_encode_rejects_unknown_characters():
    with pytest.raises(ValueError, match="not in vocab"):
        G.encode(["aXq$"], G.counting().vocab)


def test_solved_needs_every_determined_character():
    grammar = G.counting()
    batch = G.make_batch(grammar, [G.counting_string(3), G.counting_string(1)])
    perfect = batch.targets.copy()
    assert G.solved(perfect, batch).tolist() == [True, True]
    undetermined = perfect.copy()
    undetermined[0, 0] = 0  # a wrong guess while still reading the a's does not count
    assert G.solved(undetermined, batch).tolist() == [True, True]
    early_end = perfect.copy()
    early_end[5, 0] = grammar.vocab.index(G.END)  # ends after two b's of three
    assert G.solved(early_end, batch).tolist() == [False, True]


def test_running_count():
    assert G.running_count("aaXbb").tolist() == [1, 2, 2, 1, 0]
    assert G.running_count("aXaYb").tolist() == [1, 1, 2, 2, 1]


@pytest.mark.parametrize("H", [1, 6])
def test_lstm_states_match_nn_lstm_in_float64(H):
    set_seed(3)
    D, T, B = 5, 9, 4
    lstm = torch.nn.LSTM(D, H).double()
    xs = torch.randn(T, B, D, dtype=torch.float64)
    h0 = torch.randn(1, B, H, dtype=torch.float64)
    c0 = torch.randn(1, B, H, dtype=torch.float64)
    states = lstm_states(lstm, xs, h0[0].numpy(), c0[0].numpy())
    with torch.no_grad():
        hs, _ = lstm(xs, (h0, c0))
        # nn.LSTM only returns the last cell state: step it one character at a time for all c_t
        h, c, cs = h0, c0, []
        for t in range(T):
            _, (h, c) = lstm(xs[t : t + 1], (h, c))
            cs.append(c[0])
    assert_close("h_t", states["h"], hs.numpy(), **REFERENCE)
    assert_close("c_t", states["c"], torch.stack(cs).numpy(), **REFERENCE)
    # the gates rebuild the states: c_t = f c_{t-1} + i g and h_t = o tanh(c_t)
    c_prev = np.concatenate([c0.numpy(), states["c"][:-1]])
    i, f, g, o = (states[k] for k in "ifgo")
    assert_close("c from gates", f * c_prev + i * g, states["c"], **REFERENCE)
    assert_close("h from gates", o * np.tanh(states["c"]), states["h"], **REFERENCE)
    assert np.all((0 < i) & (i < 1) & (0 < f) & (f < 1) & (0 < o) & (o < 1))


def test_lstm_states_gate_order_is_torchs():
    """A unit whose forget-gate bias is huge keeps its cell state; swapping f with i would not."""
    lstm = torch.nn.LSTM(2, 3).double()
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
        lstm.bias_ih_l0[3:6] = 50.0  # rows 3H..: the forget gate in torch's order i, f, g, o
    states = lstm_states(lstm, np.ones((4, 1, 2)))
    assert np.allclose(states["f"], 1.0) and np.allclose(states["i"], 0.5)


def test_lstm_states_defaults_to_zero_state_like_nn_lstm():
    set_seed(4)
    lstm = torch.nn.LSTM(3, 4)  # float32 module: the inspection still runs in float64
    xs = torch.randn(6, 2, 3)
    states = lstm_states(lstm, xs)
    assert states["h"].dtype == np.float64
    with torch.no_grad():
        hs, _ = lstm.double()(xs.double())
    assert_close("h_t", states["h"], hs.numpy(), **REFERENCE)


def test_lstm_states_rejects_stacked_lstm():
    with pytest.raises(ValueError):
        lstm_states(torch.nn.LSTM(2, 3, num_layers=2), np.zeros((2, 1, 2)))


def test_correlations_and_find_neuron():
    rng = np.random.default_rng(5)
    quantity = rng.normal(size=(7, 3))
    values = rng.normal(size=(7, 3, 4))
    values[..., 2] = -2.0 * quantity + 1.0  # perfectly anti-correlated unit
    values[..., 1] = quantity + 0.5 * rng.normal(size=(7, 3))  # noisy positive unit
    values[..., 3] = 1.0  # a constant unit has no correlation
    r = correlations(values, quantity)
    assert r[2] == pytest.approx(-1.0) and r[3] == 0.0
    assert r[1] == pytest.approx(np.corrcoef(values[..., 1].ravel(), quantity.ravel())[0, 1])
    assert find_neuron(values, quantity) == (2, pytest.approx(-1.0))
    assert find_neuron(values, quantity, sign=+1)[0] == 1
    assert find_neuron(values, quantity, exclude=[2])[0] == 1
    mask = np.zeros((7, 3), dtype=bool)
    mask[:, 0] = True
    expected = np.corrcoef(values[:, 0, 1], quantity[:, 0])[0, 1]
    assert correlations(values, quantity, mask)[1] == pytest.approx(expected)


def test_training_learns_counting_quickly():
    """A 10-unit LSTM solves a^n X b^n for n = 1..10 after a short float32 training run."""
    rng = set_seed(0)
    grammar = G.counting()
    model, hist = G.train_grammar(grammar, 10, rng, steps=400, log_every=None)
    batch = G.make_batch(grammar, [G.counting_string(n) for n in range(1, 11)])
    assert G.accuracy(model, batch) == 1.0
    assert hist.losses[-1] < hist.losses[0]
    assert G.generate(model, grammar, "aaaX") == "aaaXbbb$"


@pytest.mark.usefixtures("one_thread")
def test_train_grammar_can_train_a_gru():
    grammar = G.state(1, 3)
    test = G.make_batch(grammar, grammar.batch(np.random.default_rng(1), 64))
    torch.manual_seed(0)
    model, _ = G.train_grammar(
        grammar, 10, np.random.default_rng(0), steps=150, log_every=None, cell="gru"
    )
    assert isinstance(model, G.GrammarGRU) and isinstance(model.gru, torch.nn.GRU)
    assert model(torch.from_numpy(test.xs)).shape == test.xs.shape  # (T, B, V) logits
    assert G.accuracy(model, test) > 0.9
    with pytest.raises(ValueError, match="cell must be"):
        G.train_grammar(grammar, 4, np.random.default_rng(0), steps=1, cell="rnn")
