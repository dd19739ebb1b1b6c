"""rnnscratch.experiments.timing returns what the efficiency page reads (structure only)."""

from rnnscratch.experiments.timing import gru_lstm_step_times, lstm_speed_table


def test_lstm_speed_table_times_only_the_requested_implementations():
    rows = lstm_speed_table([(2, 1, 3)], repeat=1, dtype="float32", implementations=("fused",))
    assert set(rows[0]) == {"T", "B", "H", "fused"}
    (row,) = lstm_speed_table([(2, 1, 3)], repeat=1, dtype="float64")
    assert {"loop", "fused", "torch"} <= set(row) and row["fused/torch"] > 0


def test_gru_lstm_step_times_returns_four_positive_times():
    times = gru_lstm_step_times(T=2, B=1, H=3, repeat=1)
    assert set(times) == {
        "GRU forward",
        "LSTM forward",
        "GRU forward+backward",
        "LSTM forward+backward",
    }
    assert all(t > 0 for t in times.values())
