"""A character-level corpus of Python code, and the character LSTM trained on it.

The text is the Python standard library that ships with the interpreter running this code
(found through `sysconfig.get_paths()["stdlib"]`): no download. Files are chosen
deterministically (sorted names, top-level `*.py` only) and split into training and validation
BY FILE, using a hash of the file name, so no file contributes to both sides.

Characters outside printable ASCII (plus newline) are mapped to one unknown symbol, so the
vocabulary is small and the same on every machine.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import keyword
import math
import re
import string
import sysconfig
import tokenize
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "UNK",
    "stdlib_dir",
    "list_source_files",
    "split_files",
    "Corpus",
    "load_corpus",
    "Vocab",
    "random_windows",
    "sequential_windows",
    "unigram_bpc",
    "bigram_bpc",
    "CharLSTM",
    "bits_per_char",
    "sample",
    "run_states",
    "line_features",
    "best_correlations",
    "colour_html",
    "parse_line",
    "undefined_names",
    "name_report",
    "repeat_period",
    "code_windows",
    "describe_code",
    "property_verdict",
]

UNK = "\x00"
"""Stands for every character outside printable ASCII and newline."""

ALPHABET = [UNK, "\n"] + sorted(set(string.printable) - set("\n\r\x0b\x0c"))
"""The fixed vocabulary: unknown, newline, then printable ASCII (tab and space included)."""


def stdlib_dir() -> Path:
    """The directory of the running interpreter's standard-library sources."""
    return Path(sysconfig.get_paths()["stdlib"])


def list_source_files(root: Path | None = None, max_bytes: int = 200_000) -> list[Path]:
    """Top-level `*.py` files of the standard library, sorted by name.

    root: directory to list (default: `stdlib_dir()`)
    max_bytes: skip files larger than this (a few huge generated files would dominate)
    returns: list of paths, sorted by file name (deterministic); the machine-generated
             `_sysconfigdata*` files are left out
    """
    root = stdlib_dir() if root is None else Path(root)
    files = [
        p
        for p in root.glob("*.py")
        if p.is_file() and p.stat().st_size <= max_bytes and not p.name.startswith("_sysconfig")
    ]
    return sorted(files, key=lambda p: p.name)


def _bucket(name: str) -> int:
    """A stable number in [0, 100) from a file name (md5, independent of PYTHONHASHSEED)."""
    return int(hashlib.md5(name.encode()).hexdigest(), 16) % 100


def split_files(files: list[Path], val_percent: int = 10) -> tuple[list[Path], list[Path]]:
    """Split files into (train, validation) by a hash of each file's name.

    files: list of paths
    val_percent: about this percentage of files goes to validation
    returns: (train_files, val_files), disjoint, each in the order given
    """
    train = [p for p in files if _bucket(p.name) >= val_percent]
    val = [p for p in files if _bucket(p.name) < val_percent]
    return train, val


class Vocab:
    """Characters <-> integer ids over the fixed `ALPHABET`.

    encode(text: str) -> (N,) int64 ids (unknown characters -> id of UNK)
    decode(ids: (N,) ints) -> str
    """

    def __init__(self, chars: list[str] | None = None):
        self.chars = list(ALPHABET if chars is None else chars)
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.unk = self.index[UNK]
        table = np.full(128, self.unk, dtype=np.int64)
        for c, i in self.index.items():
            if ord(c) < 128:
                table[ord(c)] = i
        self._table = table

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.full(codes.shape, self.unk, dtype=np.int64)
        ascii_ = codes < 128
        ids[ascii_] = self._table[codes[ascii_]]
        return ids

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass
class Corpus:
    """Training and validation text of the character model.

    train_files, val_files: list[str]   file names on each side (disjoint)
    train_text, val_text: str           the files joined, each followed by a blank line
    vocab: Vocab
    train_ids, val_ids: (N,) int64      encoded text
    """

    train_files: list[str]
    val_files: list[str]
    train_text: str
    val_text: str
    vocab: Vocab
    train_ids: np.ndarray
    val_ids: np.ndarray


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")


def load_corpus(
    max_train_chars: int = 2_000_000,
    max_val_chars: int = 200_000,
    val_percent: int = 10,
    root: Path | None = None,
) -> Corpus:
    """Read the standard library, split it by file, and encode it.

    max_train_chars / max_val_chars: stop adding files (in name order) once a side is this long
    val_percent: share of files (by name hash) that go to validation
    root: directory to read (default: the running interpreter's stdlib)
    returns: Corpus
    """
    train_paths, val_paths = split_files(list_source_files(root), val_percent)

    def gather(paths: list[Path], limit: int) -> tuple[list[str], str]:
        names, parts, total = [], [], 0
        for p in paths:
            if total >= limit:
                break
            text = _read(p) + "\n\n"
            names.append(p.name)
            parts.append(text)
            total += len(text)
        return names, "".join(parts)

    train_files, train_text = gather(train_paths, max_train_chars)
    val_files, val_text = gather(val_paths, max_val_chars)
    vocab = Vocab()
    return Corpus(
        train_files,
        val_files,
        train_text,
        val_text,
        vocab,
        vocab.encode(train_text),
        vocab.encode(val_text),
    )


def random_windows(
    ids: np.ndarray, T: int, B: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """B random windows of T + 1 characters: inputs and next-character targets.

    ids: (N,) int64 encoded text;  T: window length;  B: batch;  rng: numpy Generator
    returns: x: (T, B) int64 characters t, y: (T, B) int64 characters t + 1 (time-major)
    """
    starts = rng.integers(0, len(ids) - T - 1, size=B)
    idx = starts[None, :] + np.arange(T + 1)[:, None]  # (T + 1, B)
    chunk = torch.from_numpy(ids[idx])
    return chunk[:-1], chunk[1:]


def sequential_windows(ids: np.ndarray, T: int, B: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Cut `ids` into non-overlapping windows of T + 1 characters, batched B at a time.

    Every character except the last of each window is predicted once; a final partial batch is
    dropped. Used to evaluate bits per character on validation text.
    returns: list of (x (T, b), y (T, b)) with b <= B
    """
    n = (len(ids) - 1) // T
    batches = []
    for lo in range(0, n, B):
        starts = np.arange(lo, min(lo + B, n)) * T
        idx = starts[None, :] + np.arange(T + 1)[:, None]
        chunk = torch.from_numpy(ids[idx])
        batches.append((chunk[:-1], chunk[1:]))
    return batches


def unigram_bpc(train_ids: np.ndarray, val_ids: np.ndarray, V: int, alpha: float = 1.0) -> float:
    """Bits per character of a unigram model (add-`alpha` smoothing) fitted on training text.

    train_ids, val_ids: (N,) int ids;  V: vocabulary size
    returns: float  -mean log2 p(c) over the validation characters
    """
    counts = np.bincount(train_ids, minlength=V).astype(float) + alpha
    logp = np.log2(counts / counts.sum())
    return float(-logp[val_ids].mean())


def bigram_bpc(train_ids: np.ndarray, val_ids: np.ndarray, V: int, alpha: float = 0.1) -> float:
    """Bits per character of a bigram model p(c_t | c_{t-1}) (add-`alpha`) fitted on training text.

    returns: float  -mean log2 p(c_t | c_{t-1}) over validation characters 1..N-1
    """
    counts = np.zeros((V, V))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)
    counts += alpha
    logp = np.log2(counts / counts.sum(axis=1, keepdims=True))
    return float(-logp[val_ids[:-1], val_ids[1:]].mean())


class CharLSTM(torch.nn.Module):
    """Embedding -> stacked LSTM layers with dropout between -> logits over the vocabulary.

    V: vocabulary;  E: embedding size;  H: hidden size;  num_layers: LSTM layers;
    dropout: applied to the embedding output, between layers and before the readout

    forward(x: (T, B) int64, state=None) -> logits (T, B, V), state
        state: list of (h (1, B, H), c (1, B, H)) per layer, to carry text across calls
    """

    def __init__(self, V: int, E: int = 32, H: int = 128, num_layers: int = 2, dropout=0.1):
        super().__init__()
        self.embed = torch.nn.Embedding(V, E)
        self.layers = torch.nn.ModuleList(
            torch.nn.LSTM(E if layer == 0 else H, H) for layer in range(num_layers)
        )
        self.drop = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(H, V)

    def forward(self, x: torch.Tensor, state=None):
        z = self.drop(self.embed(x))  # (T, B, E)
        new_state = []
        for k, lstm in enumerate(self.layers):
            z, s = lstm(z, None if state is None else state[k])  # (T, B, H)
            new_state.append(s)
            z = self.drop(z)
        return self.head(z), new_state  # (T, B, V)


def bits_per_char(model: CharLSTM, batch) -> torch.Tensor:
    """Mean cross-entropy of next-character predictions, in bits (a loss for `train`).

    batch: (x (T, B), y (T, B))
    returns: scalar tensor  mean over T and B of -log2 p(y_t | x_<=t)
    """
    x, y = batch
    logits, _ = model(x)
    nats = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return nats / math.log(2.0)


@torch.no_grad()
def sample(
    model: CharLSTM,
    vocab: Vocab,
    prompt: str,
    n: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> str:
    """Generate `n` characters after `prompt`, drawing from softmax(logits / temperature).

    Low temperature sharpens the distribution (safe, repetitive); high flattens it (diverse,
    more mistakes). temperature=0 means argmax (greedy) decoding: always the most likely
    character, no randomness. returns: the generated text (without the prompt)
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    was_training = model.training
    model.eval()
    x = torch.from_numpy(vocab.encode(prompt))[:, None]  # (T, 1)
    logits, state = model(x)
    out = []
    for _ in range(n):
        if temperature == 0:
            c = logits[-1, 0].argmax().view(1)  # greedy: the most likely character
        else:
            p = torch.softmax(logits[-1, 0] / temperature, dim=-1)
            c = torch.multinomial(p, 1, generator=generator)
        out.append(int(c))
        logits, state = model(c.view(1, 1), state)
    model.train(was_training)
    return vocab.decode(out)


@torch.no_grad()
def run_states(model: CharLSTM, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Cell and hidden states of every layer along a text, one batch row.

    The torch layer returns only h_t; c_t is rebuilt exactly from the gates
    (i, f, g, o = split of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh; c_t = f c_{t-1} + i g).
    ids: (T,) int64 characters
    returns: dict "h0", "c0", "h1", "c1", ... each (T, H) float32, for layer 0, 1, ...
    """
    was_training = model.training
    model.eval()
    z = model.embed(torch.from_numpy(np.asarray(ids))[:, None])  # (T, 1, E)
    out = {}
    for k, lstm in enumerate(model.layers):
        hs, _ = lstm(z)  # (T, 1, H)
        H = hs.shape[-1]
        h_prev = torch.cat([torch.zeros(1, 1, H), hs[:-1]])
        pre = z @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h_prev @ lstm.weight_hh_l0.T
        pre = pre + lstm.bias_hh_l0  # (T, 1, 4H), gate order i, f, g, o
        i, f, g, _ = pre[:, 0].split(H, dim=-1)
        i, f, g = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g)
        c = torch.zeros(H)
        cs = []
        for t in range(len(ids)):
            c = f[t] * c + i[t] * g[t]  # cell update, eq-lstm-c
            cs.append(c)
        out[f"h{k}"] = hs[:, 0].numpy()
        out[f"c{k}"] = torch.stack(cs).numpy()
        z = hs
    model.train(was_training)
    return out


def line_features(text: str) -> dict[str, np.ndarray]:
    """Per-character features of Python source that a neuron might track.

    text: Python source (tokenizable); one value per character of `text`
    returns: dict of (N,) float arrays:
      "indent": indentation depth of the current line, in levels of 4 spaces
      "in_string": 1 inside a string literal (quotes included), else 0
      "column": position in the line (0 at the first character)
      "bracket_depth": number of open (, [, { (outside strings)
    """
    n = len(text)
    indent = np.zeros(n)
    column = np.zeros(n)
    pos = 0
    line_starts = []
    for line in text.split("\n"):
        line_starts.append(pos)
        depth = (len(line) - len(line.lstrip(" "))) / 4.0
        indent[pos : pos + len(line) + 1] = depth
        column[pos : pos + len(line) + 1] = np.arange(len(line) + 1)
        pos += len(line) + 1

    in_string = np.zeros(n)
    bracket = np.zeros(n)
    depth = 0
    last = 0
    string_types = {tokenize.STRING}
    starts = {getattr(tokenize, "FSTRING_START", -1)}
    ends = {getattr(tokenize, "FSTRING_END", -1)}
    open_fstring = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            (r0, c0), (r1, c1) = tok.start, tok.end
            a = line_starts[r0 - 1] + c0 if r0 - 1 < len(line_starts) else n
            b = line_starts[r1 - 1] + c1 if r1 - 1 < len(line_starts) else n
            bracket[last:a] = depth
            last = a
            if tok.type in string_types:
                in_string[a:b] = 1.0
            elif tok.type in starts:
                open_fstring.append(a)
            elif tok.type in ends and open_fstring:
                in_string[open_fstring.pop() : b] = 1.0
            elif tok.type == tokenize.OP and tok.string in "([{" and not open_fstring:
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}" and not open_fstring:
                depth = max(depth - 1, 0)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    bracket[last:] = depth
    return {"indent": indent, "in_string": in_string, "column": column, "bracket_depth": bracket}


def best_correlations(states: dict[str, np.ndarray], features: dict[str, np.ndarray]) -> list[dict]:
    """For each feature, the unit (over all layers and state kinds) most correlated with it.

    states: dict name -> (N, H) activations (from `run_states`)
    features: dict name -> (N,) values (from `line_features`)
    returns: list of dict feature, state, unit, r (Pearson correlation, signed), sorted as
             `features`; |r| is the strength, the sign says whether the unit rises or falls
    """
    results = []
    for fname, f in features.items():
        fz = (f - f.mean()) / (f.std() + 1e-12)
        best = {"feature": fname, "state": None, "unit": -1, "r": 0.0}
        for sname, s in states.items():
            sz = (s - s.mean(axis=0)) / (s.std(axis=0) + 1e-12)
            r = (sz * fz[:, None]).mean(axis=0)  # (H,) Pearson r per unit
            j = int(np.argmax(np.abs(r)))
            if abs(r[j]) > abs(best["r"]):
                best = {"feature": fname, "state": sname, "unit": j, "r": float(r[j])}
        results.append(best)
    return results


def colour_html(text: str, values: np.ndarray, title: str = "") -> str:
    """Text with each character's background coloured by an activation in [-1, 1].

    Blue for negative, red for positive (white at 0); inline styles only, no scripts.
    text: N characters;  values: (N,) activations (clipped to [-1, 1])
    returns: an HTML string (a <pre> block) for IPython.display.HTML
    """
    v = np.clip(np.asarray(values, dtype=float), -1.0, 1.0)
    parts = []
    for ch, a in zip(text, v, strict=True):
        strength = int(round(255 * (1 - abs(a))))
        colour = f"255,{strength},{strength}" if a > 0 else f"{strength},{strength},255"
        shown = {"<": "&lt;", ">": "&gt;", "&": "&amp;", UNK: "?"}.get(ch, ch)
        if ch == "\n":
            parts.append(f'<span style="background:rgb({colour})"> </span>\n')
        else:
            parts.append(f'<span style="background:rgb({colour})">{shown}</span>')
    head = f"<div><b>{title}</b></div>" if title else ""
    style = "font-family:monospace;font-size:12px;line-height:1.35;color:#000;"
    return f'{head}<pre style="{style}">' + "".join(parts) + "</pre>"


# --- is generated code real code? names used but never defined -------------------------------

BUILTIN_NAMES = frozenset(dir(builtins))
"""Names Python defines without any code: builtins (`len`, `print`, `ValueError`, ...)."""


_HEADER_CONTEXT = {"elif": "if 0: pass\n", "else": "if 0: pass\n", "except": "try: pass\n"}
_HEADER_CONTEXT["finally"] = _HEADER_CONTEXT["except"]


def parse_line(line: str) -> ast.Module | None:
    """Parse one line of code on its own, or None if Python cannot parse it.

    Indentation is stripped; a block header ("def f(x):", "elif a:", "except E:") gets a `pass`
    body and, where Python needs one, the statement it continues ("if 0: pass" before "elif").
    Lines inside multi-line statements or docstrings usually do not parse and are skipped.
    """
    s = line.strip()
    if not s or s.startswith("#"):
        return None
    tries = [s]
    if s.endswith(":"):
        first = s.split()[0].rstrip(":")
        tries.append(_HEADER_CONTEXT.get(first, "") + s + " pass")
    for attempt in tries:
        try:
            return ast.parse(attempt)
        except (SyntaxError, ValueError):  # ValueError: null bytes
            continue
    return None


def _names(trees) -> tuple[set[str], set[str]]:
    """(names read, names bound) over ast trees; builtins and keywords are not counted as read."""
    used, bound = set(), set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.alias):
                bound.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                bound.update(node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                bound.add(node.name)
    used -= BUILTIN_NAMES | set(keyword.kwlist) | {"__name__", "__file__", "__doc__"}
    return used, bound


def undefined_names(source: str) -> tuple[list[str], list[str]]:
    """Names that `source` reads but never defines anywhere in it (and that are not builtins).

    source: Python source. If `ast.parse` accepts it whole, that tree is used; otherwise every
            line is parsed on its own (`parse_line`) and the lines that parse are used, so broken
            generated code is measured as far as it can be
    returns: (used, undefined): every distinct name read (ast.Name in Load context), sorted, and
             the subset that no parsed statement of `source` binds (assignment, for/with/except
             target, def/class, parameter, import, global, comprehension), sorted. Scope is
             ignored: a name bound anywhere counts as defined, so the count of undefined names is
             a lower bound.
    """
    try:
        trees = [ast.parse(source)]
    except (SyntaxError, ValueError):
        trees = [t for t in map(parse_line, source.split("\n")) if t is not None]
    used, bound = _names(trees)
    return sorted(used), sorted(used - bound)


def name_report(texts: list[str]) -> dict:
    """Count, line by line, the names each text reads and never defines.

    Every text is measured the same way, parsed one line at a time (`parse_line`), so samples
    that break Python's syntax and windows of real code cut mid-statement are comparable.
    texts: Python-like source strings (samples, or windows of real code)
    returns: dict n_texts, parsed_lines (fraction of non-blank lines that parse on their own),
             used (distinct names read, summed over texts), undefined (likewise, never defined in
             the same text), share_undefined (undefined / used), per_text (list of (used,
             undefined) sorted name lists)
    """
    per_text, n_lines, n_parsed = [], 0, 0
    for text in texts:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        trees = [t for t in map(parse_line, lines) if t is not None]
        n_lines += len(lines)
        n_parsed += len(trees)
        used, bound = _names(trees)
        per_text.append((sorted(used), sorted(used - bound)))
    used = sum(len(u) for u, _ in per_text)
    undefined = sum(len(d) for _, d in per_text)
    return {
        "n_texts": len(texts),
        "parsed_lines": n_parsed / max(n_lines, 1),
        "used": used,
        "undefined": undefined,
        "share_undefined": undefined / max(used, 1),
        "per_text": per_text,
    }


def repeat_period(text: str, tail: int = 200) -> int | None:
    """Length of the shortest loop that the end of `text` repeats, or None if there is none.

    returns: the smallest p <= tail with text[-tail:] == text[-tail - p : -p], i.e. the last
             `tail` characters repeat with period p; None if no such p (or text is too short)
    """
    end = text[-tail:]
    for p in range(1, tail + 1):
        if len(text) < tail + p:
            return None
        if text[-tail - p : -p] == end:
            return p
    return None


def code_windows(text: str, n: int, length: int, start: str = "def ") -> list[str]:
    """Up to `n` windows of `length` characters of `text`, each beginning at a top-level `start`.

    Real code cut the way samples are made (a sample starts from the prompt "def " and runs for a
    fixed number of characters): the control for `name_report`. Windows are taken at evenly
    spaced matches, in order, so the result is deterministic.
    returns: list of strings (fewer than n if `text` has fewer matches)
    """
    starts = [m.start() + 1 for m in re.finditer("\n" + re.escape(start), text)]
    starts = [s for s in starts if s + length <= len(text)]
    if not starts:
        return []
    pick = np.unique(np.linspace(0, len(starts) - 1, min(n, len(starts))).round().astype(int))
    return [text[starts[k] : starts[k] + length] for k in pick]


def describe_code(text: str) -> dict:
    """Countable features of a piece of code, to describe a sample by what it contains.

    returns: dict lines, indented (lines starting with a space), blank, def (lines starting with
             `def ` after indentation), self (occurrences of `self.`), quotes (' and " characters),
             comments (lines whose first non-blank is #), max_line (longest line), open_brackets
             (opened minus closed ([{ over the text)
    """
    lines = text.rstrip("\n").split("\n")  # a final newline does not start another line
    stripped = [ln.lstrip(" ") for ln in lines]
    return {
        "lines": len(lines),
        "indented": sum(1 for ln in lines if ln.startswith(" ") and ln.strip()),
        "blank": sum(1 for ln in lines if not ln.strip()),
        "def": sum(1 for ln in stripped if ln.startswith("def ")),
        "self": text.count("self."),
        "quotes": text.count("'") + text.count('"'),
        "comments": sum(1 for ln in stripped if ln.startswith("#")),
        "max_line": max(len(ln) for ln in lines),
        "open_brackets": sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}"),
    }


def property_verdict(r: float, r_control: float, strong: float = 0.6, gap: float = 0.2) -> str:
    """Verdict on a unit found by `best_correlations`, judged against the untrained control.

    r, r_control: the best correlation in the trained network and in the untrained one
    returns: "clearly found" if |r| >= strong and |r| - |r_control| >= gap; "weak" if the gap is
             at least gap / 2; otherwise "not found"
    """
    lift = abs(r) - abs(r_control)
    if abs(r) >= strong and lift >= gap:
        return "clearly found"
    if lift >= gap / 2:
        return "weak"
    return "not found"
