"""Parts I and II of the built book state what is true (issue 14), with numbers from the build.

Reads the HTML that `make book` wrote (like test_book_build.py): the corrected statements and
their key numbers must be there, the false ones gone. The numbers are `glue`d by the pages'
cells, so these tests check what the code measured when the book was built, not typed prose.
"""

import html
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("RNNSCRATCH_HTML", ROOT / "_build" / "html"))
NUMBER = r"(-?[0-9][0-9,]*\.?[0-9]*(?:e[+-]?[0-9]+)?)"


class _Text(HTMLParser):
    """The visible text of a page (scripts and styles dropped, math kept as its TeX source)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


@pytest.fixture(scope="module")
def page():
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book at {HTML}: run `make book` first (make test does)")
    cache = {}

    def text(name):
        if name not in cache:
            parser = _Text()
            parser.feed((HTML / "book" / f"{name}.html").read_text())
            flat = re.sub(r"\s+", " ", html.unescape("".join(parser.parts)))
            cache[name] = flat.replace("\u2019", "'")  # Sphinx's smart apostrophes
        return cache[name]

    return text


def number_after(text, before, after=""):
    """The number printed between the phrases `before` and `after` (glued values)."""
    match = re.search(re.escape(before) + r"\s*" + NUMBER + r"\s*" + re.escape(after), text)
    assert match, f"no number after {before!r} (followed by {after!r})"
    return float(match.group(1).replace(",", ""))


# ------------------------------------------------------------------ vanishing gradients


def test_spectral_radius_is_not_the_vanishing_condition(page):
    text = page("recurrence/vanishing-gradients")
    assert "Spectral radius below 1: vanishes" not in text
    assert "Measured: spectral radius decides" not in text
    assert "A spectral radius below 1 does not make a tanh RNN vanish" in text
    rho = number_after(text, "The spectral radius of \\(W_{hh}\\) is", ", yet")
    norm = number_after(text, "the Jacobian product has norm", ":")
    sigma = number_after(text, "the largest singular value")
    assert rho < 1 < sigma and norm > 1e4


def test_gelfand_derivation_and_its_check(page):
    text = page("recurrence/vanishing-gradients")
    assert "Why a linear RNN" in text and "Gelfand" in text
    assert "S\\Lambda S^{-1}" in text or "S\\,\\Lambda^n S^{-1}" in text
    rho = number_after(text, "with \\(\\rho=\\)")
    last = number_after(text, "creeps down to")
    assert abs(last - rho) < 0.1


def test_sigmoid_misconception_is_shown(page):
    text = page("recurrence/vanishing-gradients")
    assert "with a sigmoid the problem would not occur" in text
    tanh = number_after(text, "the tanh RNN's gradient norm is", "and the sigmoid")
    sig = number_after(text, "and the sigmoid RNN's")
    assert sig < 1e-3 * tanh


def test_clipping_demo_separates_the_learning_rate(page):
    text = page("recurrence/vanishing-gradients")
    assert "Exploding gradient, or a learning rate that is too large?" in text
    small_rate = number_after(text, "but with learning rate 0.03 the loss falls to")
    assert small_rate < 0.1
    before = number_after(text, "applying that single step unclipped throws the loss from")
    after = number_after(text, f"{before:.2f} to")
    assert after > 2 * before


# ------------------------------------------------------------------ BPTT


def test_bptt_derivation_is_written_out(page):
    text = page("recurrence/bptt")
    for phrase in ("\\partial^{+}", "exchanged", "later step on the left", "\\bar a_{t,i}"):
        assert phrase in text, phrase
    assert number_after(text, "agrees with autograd to") < 1e-10


def test_chunked_truncation_is_implemented_and_compared(page):
    text = page("recurrence/bptt")
    assert "rnn_backward_chunked" in text
    window = number_after(
        text, "a window of only 4 steps already gives the gradient to a relative error of"
    )
    chunks = number_after(text, "Chunks of 4 steps are off by")
    assert chunks >= window


# ------------------------------------------------------------------ feed-forward


def test_softmax_overflow_threshold(page):
    text = page("recurrence/feed-forward")
    assert "few hundred" not in text
    assert number_after(text, "\\approx\\)") == pytest.approx(709.78, abs=0.01)


def test_softmax_jacobian_derivation_and_one_hot(page):
    text = page("recurrence/feed-forward")
    assert "remarkably simple" not in text
    assert "\\operatorname{diag}(p) - p\\,p^\\top" in text
    assert "one-hot, not one scaled number" in text
    assert number_after(text, "together with a constant column) have rank") == 2


# ------------------------------------------------------------------ notation


def test_gru_hidden_bias_does_not_fold(page):
    text = page("notation")
    assert "PyTorch keeps both; only their sum matters)" not in text
    assert number_after(text, "changes the GRU's output by up to") > 1e-3


# ------------------------------------------------------------------ LSTM


def test_lstm_cell_sign_and_latch(page):
    text = page("gates/lstm")
    assert "the cell state could only grow" not in text
    assert "copy the value" not in text
    assert "\\tanh(2x)" in text
    assert (
        number_after(text, "With a sigmoid candidate the smallest cell value over 60 steps is") >= 0
    )
    assert number_after(text, "with the tanh candidate it reaches") < 0
    assert "Cell update of the same three units" in text  # the cell update plotted on its own


def test_lstm_backward_and_state_jacobian(page):
    text = page("gates/why-gates-help")
    assert "The LSTM backward pass, step by step" in text
    assert "2H\\times 2H" in text
    assert number_after(text, "largest difference") < 1e-9
    assert number_after(text, "is off by", "% after") > 0.1


# ------------------------------------------------------------------ GRU and efficiency


def test_gru_claims(page):
    text = page("gates/gru")
    assert "strictly between 0 and 1" not in text
    assert "smaller and faster" not in text
    assert "Both formulations train equally well" not in text
    assert "The GRU backward pass, step by step" in text
    assert "not all equal" in text
    assert number_after(text, "Every gradient agrees with autograd (largest difference") < 1e-9


def test_efficiency_claims(page):
    text = page("gates/efficiency")
    assert "by about four" not in text
    assert "\\sum_t \\delta_t x_t^\\top" not in text
    assert "in one dtype" in text
    ratio = number_after(text, "the GRU needs")
    assert ratio > 0


# ------------------------------------------------------------------ variants


def test_variant_outcomes_are_counted_not_asserted(page):
    """'Each run either learns or stays at chance' is said only when the counts show it."""
    text = page("gates/lstm-variants")
    match = re.search(
        r"Each of the (\d+) runs either learns.*?: (\d+) runs\).*?: (\d+) runs\)", text
    )
    if match:
        total, learned, chance = (int(g) for g in match.groups())
        assert learned + chance == total
    else:
        match = re.search(
            r"Of the (\d+) runs, (\d+) learn .*?, (\d+) stay at chance .*? (\d+) end", text
        )
        assert match, "the variants page does not count the runs' outcomes"
        total, *parts = (int(g) for g in match.groups())
        assert sum(parts) == total and parts[2] > 0
