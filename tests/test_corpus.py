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


# --- names used but never defined, and the other measurements of samples ----------------------


def test_undefined_names_counts_reads_without_a_binding():
    from rnnscratch.experiments.corpus import undefined_names

    src = (
        "import os\n"
        "from a.b import c as d\n"
        "def f(x, *args, key=None, **kw):\n"
        "    y = g(x) + len(args) + d + os.sep\n"
        "    for i in range(3):\n"
        "        y += i\n"
        "    try:\n"
        "        pass\n"
        "    except ValueError as err:\n"
        "        print(err, self.z)\n"
        "    return [w for w in y if w > limit], f, kw, key\n"
    )
    used, undefined = undefined_names(src)
    # builtins (len, range, print, ValueError) are neither used-names here nor undefined
    assert set(used) == {
        "os",
        "d",
        "x",
        "args",
        "y",
        "g",
        "i",
        "err",
        "self",
        "w",
        "limit",
        "f",
        "kw",
        "key",
    }
    assert undefined == ["g", "limit", "self"]  # attributes (.sep, .z) are not names


def test_parse_line_reads_single_lines_and_block_headers():
    from rnnscratch.experiments.corpus import parse_line

    assert parse_line("        x = f(y)") is not None  # indentation is stripped
    assert parse_line("def f(x):") is not None  # a header gets a `pass` body
    assert parse_line("    elif a > b:") is not None  # ...and the `if` it continues
    assert parse_line("except ValueError as err:") is not None
    assert parse_line("if self.x = 1") is None  # invalid Python
    assert parse_line("   # a comment") is None and parse_line("   ") is None


def test_undefined_names_falls_back_to_lines_for_broken_code():
    from rnnscratch.experiments.corpus import undefined_names

    used, undefined = undefined_names("def f(a):\n        return a + b\n  x = (\n")
    assert used == ["a", "b"] and undefined == ["b"]


def test_name_report_measures_every_text_line_by_line():
    from rnnscratch.experiments.corpus import name_report

    r = name_report(["x = 1\nprint(x, y)\n", "def f(a):\n    return a + b +\n  z"])
    assert r["n_texts"] == 2
    # text 1 reads x and y (y undefined); text 2 parses "def f(a):" and "z": reads z (undefined)
    assert (r["used"], r["undefined"]) == (3, 2)
    assert r["per_text"][1] == (["z"], ["z"])
    assert r["share_undefined"] == pytest.approx(2 / 3)
    assert r["parsed_lines"] == pytest.approx(4 / 5)  # "return a + b +" does not parse


def test_repeat_period_finds_the_loop_at_the_end():
    from rnnscratch.experiments.corpus import repeat_period

    assert repeat_period("abc" + "xy" * 300) == 2
    assert repeat_period("q" + "    self.x = 1\n" * 40) == len("    self.x = 1\n")
    assert repeat_period("".join(chr(65 + k % 26) + str(k) for k in range(300))) is None
    assert repeat_period("short", tail=200) is None


def test_code_windows_start_at_top_level_defs():
    from rnnscratch.experiments.corpus import code_windows

    text = "".join(f"def f{k}():\n    return {k}\n\n" for k in range(10))
    windows = code_windows(text, 4, 20)
    assert len(windows) == 4
    assert all(w.startswith("def f") and len(w) == 20 for w in windows)
    assert windows[0] != windows[1]
    assert code_windows("x = 1\n", 3, 5) == []


def test_describe_code_counts_what_is_there():
    from rnnscratch.experiments.corpus import describe_code

    d = describe_code("def f(self):\n    # hi\n    return self.x, 'a'\n\n    (")
    assert d["lines"] == 5 and d["indented"] == 3 and d["blank"] == 1
    assert d["def"] == 1 and d["self"] == 1 and d["quotes"] == 2 and d["comments"] == 1
    assert d["max_line"] == len("    return self.x, 'a'")
    assert d["open_brackets"] == 1


def test_property_verdict_needs_strength_and_a_gap_to_the_control():
    from rnnscratch.experiments.corpus import property_verdict

    assert property_verdict(0.85, 0.3) == "clearly found"
    assert property_verdict(-0.85, 0.3) == "clearly found"  # the sign does not matter
    assert property_verdict(0.5, 0.3) == "weak"  # gap 0.2 but not strong
    assert property_verdict(0.7, 0.62) == "not found"  # strong, but so is the control


def test_argmax_sampling_is_deterministic_and_picks_the_top_character():
    torch.manual_seed(0)
    vocab = Vocab()
    model = CharLSTM(len(vocab), E=8, H=16)
    a = sample(model, vocab, "def ", 15, temperature=0)
    b = sample(model, vocab, "def ", 15, temperature=0, generator=torch.Generator().manual_seed(5))
    assert a == b and len(a) == 15
    # the first character is the argmax of the model's distribution after the prompt
    model.eval()
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(vocab.encode("def "))[:, None])
    assert a[0] == vocab.chars[int(logits[-1, 0].argmax())]
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocab, "def ", 3, temperature=-1.0)
