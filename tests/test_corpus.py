"""The Python-code corpus: split by file, vocabulary, batching, baselines, features."""

import math

import numpy as np
import pytest
import torch

from rnnscratch.experiments.corpus import (
    UNK,
    CharLSTM,
    Vocab,
    best_correlations,
    bigram_bpc,
    bits_per_char,
    colour_html,
    line_features,
    list_source_files,
    load_corpus,
    random_windows,
    run_states,
    sample,
    sequential_windows,
    split_files,
    stdlib_dir,
    unigram_bpc,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def small_corpus():
    return load_corpus(max_train_chars=100_000, max_val_chars=20_000)


def test_stdlib_files_are_found_and_sorted():
    files = list_source_files()
    assert len(files) > 50
    assert all(p.suffix == ".py" and p.parent == stdlib_dir() for p in files)
    assert [p.name for p in files] == sorted(p.name for p in files)


def test_split_is_by_file_and_disjoint():
    files = list_source_files()
    train, val = split_files(files, val_percent=10)
    assert set(train).isdisjoint(val)
    assert set(train) | set(val) == set(files)
    assert 0.03 < len(val) / len(files) < 0.25
    # deterministic: the same name always lands on the same side
    assert split_files(list(reversed(files)))[1] == list(reversed(val))


def test_corpus_sides_share_no_file(small_corpus):
    c = small_corpus
    assert c.train_files and c.val_files
    assert set(c.train_files).isdisjoint(c.val_files)
    assert len(c.train_ids) == len(c.train_text)
    # every validation file's text appears in the validation text
    first = (stdlib_dir() / c.val_files[0]).read_text(encoding="utf-8", errors="replace")
    assert first[:200] in c.val_text


def test_vocab_round_trip_and_unknowns():
    v = Vocab()
    text = "def f(x):\n\treturn x  # ok ~\n"
    assert v.decode(v.encode(text)) == text
    ids = v.encode("a\u00e9b")
    assert ids[1] == v.unk
    assert v.decode(ids) == "a" + UNK + "b"
    assert len(v) == 98


def test_random_windows_shift_by_one():
    ids = np.arange(1000)
    x, y = random_windows(ids, T=10, B=4, rng=np.random.default_rng(0))
    assert x.shape == y.shape == (10, 4)
    assert torch.equal(y, x + 1)


def test_sequential_windows_cover_the_text_once():
    ids = np.arange(101)
    batches = sequential_windows(ids, T=10, B=3)
    xs = torch.cat([x.T.reshape(-1) for x, _ in batches])
    assert torch.equal(xs, torch.arange(100))


def test_baselines_on_a_known_text():
    V = 3
    train = np.array([0, 1] * 500)
    val = np.array([0, 1] * 50)
    assert unigram_bpc(train, val, V, alpha=1e-9) == pytest.approx(1.0)
    # alternating text: the bigram model is nearly certain
    assert bigram_bpc(train, val, V, alpha=1e-9) < 1e-3


def test_baselines_on_python_code_are_ordered(small_corpus):
    c = small_corpus
    V = len(c.vocab)
    uni = unigram_bpc(c.train_ids, c.val_ids, V)
    bi = bigram_bpc(c.train_ids, c.val_ids, V)
    assert bi < uni < math.log2(V)


def test_char_lstm_shapes_loss_and_sampling():
    torch.manual_seed(0)
    V = 98
    model = CharLSTM(V, E=8, H=16)
    x = torch.randint(0, V, (7, 3))
    logits, state = model(x)
    assert logits.shape == (7, 3, V)
    assert len(state) == 2
    # an untrained model is close to uniform: about log2(V) bits
    loss = float(bits_per_char(model, (x, x)).detach())
    assert abs(loss - math.log2(V)) < 0.5
    text = sample(model, Vocab(), "def ", 20, generator=torch.Generator().manual_seed(0))
    assert len(text) == 20


def test_run_states_rebuilds_the_cell_state():
    torch.manual_seed(0)
    model = CharLSTM(98, E=8, H=16)
    ids = np.array([5, 6, 7, 8, 9])
    st = run_states(model, ids)
    assert st["c0"].shape == st["h1"].shape == (5, 16)
    # h_t = o_t * tanh(c_t): recompute o from the layer and compare with torch's h
    lstm = model.layers[1]
    _, (h_last, c_last) = lstm(torch.from_numpy(st["h0"])[:, None])
    np.testing.assert_allclose(st["c1"][-1], c_last[0, 0].detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st["h1"][-1], h_last[0, 0].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_line_features_mark_indent_strings_and_columns():
    text = 'def f():\n    s = "ab"\n    return (s)\n'
    f = line_features(text)
    i = text.index('"ab"')
    assert f["in_string"][i : i + 4].tolist() == [1, 1, 1, 1]
    assert f["in_string"][: text.index("s =")].sum() == 0
    assert f["indent"][text.index("return")] == 1.0
    assert f["indent"][0] == 0.0
    assert f["column"][text.index("return")] == 4
    assert f["bracket_depth"][text.index("(s)") + 1] == 1


def test_best_correlations_finds_the_planted_unit():
    rng = np.random.default_rng(0)
    feat = rng.random(500)
    states = {"c0": rng.normal(size=(500, 8))}
    states["c0"][:, 5] = -3 * feat + 0.01 * rng.normal(size=500)
    (res,) = best_correlations(states, {"f": feat})
    assert res["state"] == "c0" and res["unit"] == 5
    assert res["r"] < -0.99


def test_colour_html_escapes_and_colours():
    html = colour_html("a<b\n", np.array([1.0, 0.0, -1.0, 0.0]))
    assert "&lt;" in html
    assert "rgb(255,0,0)" in html and "rgb(0,0,255)" in html
    assert "<script" not in html
