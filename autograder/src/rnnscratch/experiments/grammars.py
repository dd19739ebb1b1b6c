"""Toy grammars for looking inside a trained LSTM (after Edwin Chen's "Exploring LSTMs").

Each grammar makes strings that end in the end symbol ``$``. A model reads the string one
character at a time and predicts the next one. Part of every string is random (how many ``a``s,
where the distractors go, which letters to copy), so the next character is not always known;
from the grammar's *trigger* character onward it is fully determined, and that is where a
model is scored: a string counts as solved when every determined next character is predicted.

- ``counting``: ``a^n X b^n $``; trigger ``X``.
- ``selective``: ``n`` ``a``s with random ``X``s among them, then ``Y``, then ``b^n $``; trigger
  ``Y`` (the ``X``s must not be counted).
- ``state``: ``A`` or ``B``, then 1-10 ``x``s, then ``Y``, then ``a`` (after ``A``) or ``b``
  (after ``B``), then ``$``; trigger ``Y``.
- ``copy``: three letters over ``{a, b, c}``, the separator ``|``, the same three letters, ``$``;
  trigger ``|``.

Encoding is time-major like the rest of the course: a batch of strings becomes one-hot inputs
``xs: (T, B, V)``, next-character targets ``(T, B)`` and masks ``(T, B)``; shorter strings are
padded with ``$`` at the end, which a causal model never sees before the real characters.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from rnnscratch.experiments.train import predict, train

END = "$"


@dataclass(frozen=True)
class Grammar:
    """A toy grammar: its vocabulary, a sampler, and where its next characters are determined.

    name: str  short name ("counting", "selective", "state", "copy").
    vocab: str  the V characters, END first; index in this string is the token id.
    trigger: str  the character from which on every next character is determined.
    sample: callable(rng) -> str  one random string of the grammar, ending in END.
    """

    name: str
    vocab: str
    trigger: str
    sample: Callable[[np.random.Generator], str]

    @property
    def V(self) -> int:
        """Vocabulary size."""
        return len(self.vocab)

    def batch(self, rng: np.random.Generator, B: int) -> list[str]:
        """B random strings of the grammar."""
        return [self.sample(rng) for _ in range(B)]


# --- the four grammars --------------------------------------------------------------------------


def counting_string(n: int) -> str:
    """The counting string a^n X b^n followed by END (n >= 1)."""
    if n < 1:
        raise ValueError(f"counting_string needs n >= 1, got {n}")
    return "a" * n + "X" + "b" * n + END


def selective_string(n: int, n_distractors: int, rng: np.random.Generator) -> str:
    """n `a`s with n_distractors `X`s at random places among them, then Y, b^n, END.

    The first character is always an `a`, so a distractor never opens the string.
    """
    if n < 1 or n_distractors < 0:
        raise ValueError(
            f"selective_string needs n >= 1 and n_distractors >= 0, got {n}, {n_distractors}"
        )
    body = ["a"] * (n - 1) + ["X"] * n_distractors
    body = [body[k] for k in rng.permutation(len(body))]
    return "a" + "".join(body) + "Y" + "b" * n + END


def state_string(first: str, n_x: int) -> str:
    """`A` or `B`, n_x `x`s, `Y`, then the matching lowercase letter and END."""
    if first not in ("A", "B") or n_x < 1:
        raise ValueError(f"state_string needs first in 'AB' and n_x >= 1, got {first!r}, {n_x}")
    return first + "x" * n_x + "Y" + first.lower() + END


def copy_string(letters: str) -> str:
    """The letters, the separator `|`, the same letters again, END."""
    if not letters or set(letters) - set("abc"):
        raise ValueError(f"copy_string needs letters over 'abc', got {letters!r}")
    return letters + "|" + letters + END


def counting(n_min: int = 1, n_max: int = 10) -> Grammar:
    """a^n X b^n with n uniform in [n_min, n_max]."""
    return Grammar(
        "counting",
        END + "aXb",
        "X",
        lambda rng: counting_string(int(rng.integers(n_min, n_max + 1))),
    )


def selective(n_min: int = 1, n_max: int = 10, max_distractors: int = 5) -> Grammar:
    """n `a`s (n uniform in [n_min, n_max]) with 0..max_distractors random `X`s, Y, b^n."""

    def sample(rng: np.random.Generator) -> str:
        n = int(rng.integers(n_min, n_max + 1))
        return selective_string(n, int(rng.integers(0, max_distractors + 1)), rng)

    return Grammar("selective", END + "aXYb", "Y", sample)


def state(x_min: int = 1, x_max: int = 10) -> Grammar:
    """A or B (equally likely), x_min..x_max `x`s, Y, the matching lowercase letter."""

    def sample(rng: np.random.Generator) -> str:
        return state_string("AB"[int(rng.integers(2))], int(rng.integers(x_min, x_max + 1)))

    return Grammar("state", END + "ABxYab", "Y", sample)


def copy(length: int = 3) -> Grammar:
    """Copy `length` random letters over {a, b, c} after the separator `|`."""

    def sample(rng: np.random.Generator) -> str:
        return copy_string("".join("abc"[k] for k in rng.integers(0, 3, size=length)))

    return Grammar("copy", END + "abc|", "|", sample)


GRAMMARS: dict[str, Callable[[], Grammar]] = {
    "counting": counting,
    "selective": selective,
    "state": state,
    "copy": copy,
}


# --- encoding ----------------------------------------------------------------------------------


def encode(strings: Sequence[str], vocab: str) -> np.ndarray:
    """Token ids of a batch of strings, padded with END at the end.

    strings: B strings over `vocab`.
    returns: (T, B) int64 ids, T the longest string's length.
    """
    T = max(len(s) for s in strings)
    ids = np.zeros((T, len(strings)), dtype=np.int64)  # END has id 0
    for b, s in enumerate(strings):
        try:
            ids[: len(s), b] = [vocab.index(ch) for ch in s]
        except ValueError:
            bad = sorted(set(s) - set(vocab))
            raise ValueError(f"string {s!r} has characters {bad} not in vocab {vocab!r}") from None
    return ids


def decode(ids: np.ndarray, vocab: str) -> list[str]:
    """Inverse of `encode` for each column, cut after the first END.

    ids: (T, B) int ids.
    returns: B strings.
    """
    out = []
    for column in np.asarray(ids).T:
        s = "".join(vocab[int(k)] for k in column)
        out.append(s[: s.index(END) + 1] if END in s else s)
    return out


def one_hot(ids: np.ndarray, V: int, dtype=np.float32) -> np.ndarray:
    """One-hot vectors of token ids: (T, B) ints -> (T, B, V)."""
    return np.eye(V, dtype=dtype)[np.asarray(ids)]


@dataclass(frozen=True)
class Batch:
    """A batch ready for next-character prediction (time-major).

    strings: the B strings.
    xs: (T, B, V) one-hot inputs, characters 0..T-1 of each string.
    targets: (T, B) int ids of characters 1..T (the next character).
    valid: (T, B) bool, True where the input is a real character of the string (not padding).
    determined: (T, B) bool, True where the next character is fixed by the grammar
        (input at or after the trigger, within the string).
    """

    strings: list[str]
    xs: np.ndarray
    targets: np.ndarray
    valid: np.ndarray
    determined: np.ndarray


def make_batch(grammar: Grammar, strings: Sequence[str], dtype=np.float32) -> Batch:
    """Encode strings of `grammar` into inputs, next-character targets and masks."""
    ids = encode(strings, grammar.vocab)
    T = ids.shape[0] - 1
    valid = np.zeros((T, len(strings)), dtype=bool)
    determined = np.zeros_like(valid)
    for b, s in enumerate(strings):
        valid[: len(s) - 1, b] = True
        determined[s.index(grammar.trigger) : len(s) - 1, b] = True
    return Batch(list(strings), one_hot(ids[:-1], grammar.V, dtype), ids[1:], valid, determined)


def solved(predicted: np.ndarray, batch: Batch) -> np.ndarray:
    """Which strings have every determined next character right.

    predicted: (T, B) int predicted next-character ids (argmax of the model's logits).
    returns: (B,) bool.
    """
    wrong = (np.asarray(predicted) != batch.targets) & batch.determined
    return ~wrong.any(axis=0)


def running_count(s: str, up: str = "a", down: str = "b") -> np.ndarray:
    """Count of `up` minus count of `down` after each character of `s`: (len(s),) ints."""
    steps = np.array([(ch == up) - (ch == down) for ch in s], dtype=np.int64)
    return np.cumsum(steps)


# --- a small model and its training ----------------------------------------------------------


class GrammarLSTM(nn.Module):
    """A one-layer nn.LSTM with a linear read-out: (T, B, V) one-hot -> (T, B, V) logits.

    V: int  vocabulary size (input and output);  H: int  hidden units.
    The LSTM is `self.lstm` (an nn.LSTM(V, H)), the read-out `self.readout` (nn.Linear(H, V)).
    """

    def __init__(self, V: int, H: int):
        super().__init__()
        self.lstm = nn.LSTM(V, H)
        self.readout = nn.Linear(H, V)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        hs, _ = self.lstm(xs)  # (T, B, H)
        return self.readout(hs)  # (T, B, V) next-character logits


class GrammarGRU(nn.Module):
    """A one-layer nn.GRU with a linear read-out, the GRU twin of `GrammarLSTM`.

    V: int  vocabulary size;  H: int  hidden units.  forward: (T, B, V) -> (T, B, V) logits.
    The GRU is `self.gru` (an nn.GRU(V, H)), the read-out `self.readout` (nn.Linear(H, V)).
    """

    def __init__(self, V: int, H: int):
        super().__init__()
        self.gru = nn.GRU(V, H)
        self.readout = nn.Linear(H, V)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        hs, _ = self.gru(xs)  # (T, B, H)
        return self.readout(hs)  # (T, B, V) next-character logits


MODELS = {"lstm": GrammarLSTM, "gru": GrammarGRU}
"""The cells `train_grammar` can train, by name."""


def predict_next(model, batch: Batch) -> np.ndarray:
    """Argmax next-character ids of `model` on `batch`: (T, B) ints."""
    dtype = next(model.parameters()).dtype
    return predict(model, torch.as_tensor(batch.xs, dtype=dtype), out_dim=1).argmax(-1).numpy()


def accuracy(model, batch: Batch) -> float:
    """Fraction of the batch's strings solved by `model` (every determined character right)."""
    return float(solved(predict_next(model, batch), batch).mean())


def generate(model, grammar: Grammar, prefix: str, max_len: int = 60) -> str:
    """Let `model` continue `prefix` greedily (argmax) until it writes END or max_len characters.

    returns: the prefix followed by what the model wrote (ending in END unless cut at max_len).
    """
    s = prefix
    while not s.endswith(END) and len(s) < max_len:
        batch = make_batch(grammar, [s + END])  # the END is a placeholder target, never read
        s += grammar.vocab[int(predict_next(model, batch)[len(s) - 1, 0])]
    return s


def next_char_loss(model, batch: Batch):
    """Mean cross-entropy of every real next character of `batch` (padding masked out)."""
    logits = model(torch.from_numpy(batch.xs))  # (T, B, V)
    losses = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        torch.from_numpy(batch.targets).reshape(-1),
        reduction="none",
    )
    return losses[torch.from_numpy(batch.valid).reshape(-1)].mean()


def train_grammar(
    grammar: Grammar,
    H: int,
    rng: np.random.Generator,
    *,
    steps: int = 1000,
    B: int = 32,
    lr: float = 1e-2,
    test: Batch | None = None,
    log_every: int | None = 250,
    print_fn=print,
    cell: str = "lstm",
):
    """Train a GrammarLSTM (float32, Adam, clip-norm 1) on fresh random strings of `grammar`.

    cell: "lstm" (GrammarLSTM, the default) or "gru" (GrammarGRU, the same model with a GRU)

    The loss is the cross-entropy of every real next character, so the model also learns the
    random parts as well as it can. Seed torch first (rnnscratch.seed.set_seed) for reproducible
    weights; `rng` draws the training strings. Uses the course's generic loop
    (`experiments.train.train`); progress lines show the fraction of `test` solved as "val".
    returns: (model in eval mode, History)
    """
    if cell not in MODELS:
        raise ValueError(f"cell must be one of {sorted(MODELS)}, got {cell!r}")
    model = MODELS[cell](grammar.V, H)
    hist = train(
        model,
        next_char_loss,
        lambda step: make_batch(grammar, grammar.batch(rng, B)),
        steps=steps,
        lr=lr,
        clip=1.0,
        log_every=log_every,
        eval_fn=None if test is None else (lambda m: accuracy(m, test)),
        eval_every=log_every if test is not None else None,
        name=grammar.name,
        print_fn=print_fn,
    )
    return model, hist
