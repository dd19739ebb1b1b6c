"""The hint catalogue: every mistake the checker can name, in plain words.

Keys are stable: the grader stores them per test and the class report counts them. A spec may
add a sentence specific to its function; the text here is the general explanation.
"""

#: the course's one dtype rule, quoted verbatim by every notebook and the book's Exercises page
DTYPE_RULE = (
    "**Dtype rule.** Compute in float64 (numpy's default) and return float64. Every result is "
    "compared with the task's float64 tolerance (rtol = atol = 1e-7), whatever dtype you "
    "return; a float32 result fails with a message that says so."
)

MISTAKES: dict[str, str] = {
    # --- what came back (type, structure, shape, finiteness) ------------------------------------
    "not_defined": "The function is not defined: run the cell that defines it (and keep its name).",
    "not_implemented": "The function still raises NotImplementedError: replace that line with "
    "your code.",
    "raised_exception": "Your function raised an exception on these inputs.",
    "returned_none": "Your function returned None: did you forget the `return` statement?",
    "torch_tensor": "You returned a torch tensor. The exercise is numpy from scratch: compute "
    "with numpy and return a numpy array.",
    "python_list": "You returned a Python list. Return a numpy array (build it with numpy "
    "operations or np.stack / np.array).",
    "integer_array": "You returned integers. Results must be floats: an int array usually comes "
    "from np.zeros_like(int_array) or np.array([...]) of ints used as an output buffer.",
    "tuple_for_array": "You returned a tuple where one array was expected (a trailing comma, or "
    "returning extra values?).",
    "list_of_arrays": "You returned a Python list of arrays where one array was expected: stack "
    "the per-step arrays with np.stack(...) (time first, (T, B, H)).",
    "float32_result": "The result is not float64. The course's dtype rule: compute in float64 "
    "(numpy's default) and return float64; results are compared with the task's float64 "
    "tolerance whatever dtype you return (for a torch module: dtype=torch.float64).",
    "input_modified": "Your function changed one of its input arrays in place (e.g. `x *= ...`, "
    "`out=` an argument, or assigning into it). Work on new arrays (or a .copy()): the caller "
    "still needs its inputs, and later steps would use the changed values.",
    "batch_major": "The layout is batch-major. The course is time-major (T, B, D): the first "
    "axis is time, the second the batch (for torch.nn.LSTM: batch_first=False, the default).",
    "outputs_swapped": "The returned items are in the wrong order: return (h, c), not (c, h).",
    "output_left_zero": "This output is all zeros: the array was allocated (np.zeros...) but "
    "never filled, or the value computed for it is not the one returned (check the "
    "assignment into the buffer, e.g. dxs[t] = ..., inside the loop).",
    "value_in_wrong_place": "An output holds the values of another output: the wrong "
    "variable is stored or returned (e.g. cs.append(h) instead of cs.append(c)).",
    "wrong_structure": "The result does not have the expected structure (see the docstring).",
    "missing_keys": "The returned dict is missing keys named in the docstring.",
    "not_an_array": "You returned something that is not a numpy array of numbers.",
    "scalar_for_array": "You returned a single number where an array was expected.",
    "array_for_scalar": "You returned an array where a single number was expected: use "
    "float(...) or .item().",
    "wrong_shape": "The shape is wrong: compare with the shapes in the docstring.",
    "buffer_wrong_shape": "An output buffer has the wrong shape: np.zeros_like(xs) is (T, B, D), "
    "but the states are (T, B, H); allocate np.zeros((T, B, H)) (or collect the steps in a list "
    "and np.stack them).",
    "not_finite": "The result contains NaN or infinity.",
    "weight_transposed": "A weight matrix is used transposed. PyTorch stores W_ih as (H, D): "
    "with batches of rows the term is x @ W_ih.T (and h_prev @ W_hh.T).",
    "matmul_for_elementwise": "numpy could not matrix-multiply two arrays of sizes B and H. "
    "Either @ stands where an elementwise * belongs (gates scale elementwise: r * (...), "
    "f * c_prev, o * tanh(c)), or a weight is applied column-wise (W_hh @ h_prev instead of "
    "h_prev @ W_hh.T with rows h_prev (B, H)).",
    "backward_weight_transposed": "A weight is transposed in the backward pass. The forward "
    "computed x @ W_ih.T, so the gradient flows back as dx = da @ W_ih and dh_prev = da @ W_hh "
    "(no .T), with da (B, H).",
    "float32_precision": "The values agree only to float32 precision although the result is "
    "float64: somewhere you compute in float32 (np.float32, a float32 buffer, or torch's "
    "default dtype) and convert back.",
    "no_output": "No result was recorded: the test did not run (an earlier error, a time limit "
    "or a crash).",
    # --- activations and numerics -------------------------------------------------------------
    "tanh_for_sigmoid": "You used tanh where the sigmoid belongs (gates use the sigmoid, "
    "range (0, 1)).",
    "sigmoid_for_tanh": "You used the sigmoid where tanh belongs (range (-1, 1)).",
    "activation_missing": "The nonlinearity is missing: you return the pre-activation.",
    "relu_for_tanh": "You used ReLU where tanh belongs.",
    "sigmoid_sign": "The sign inside the sigmoid is flipped: sigmoid(x) = 1 / (1 + exp(-x)).",
    "unstable_sigmoid": "Overflow (numpy warned 'overflow encountered in exp'): this test asks "
    "for a sigmoid that never exponentiates a large positive number. 1 / (1 + np.exp(-x)) "
    "overflows for x << 0, and np.where(x >= 0, ..., ...) computes both branches, so it "
    "overflows too; use e = np.exp(-np.abs(x)) and pick e / (1 + e) or 1 / (1 + e) by sign.",
    "unstable_softmax": "Overflow: subtract the maximum along the axis before exponentiating "
    "(softmax is unchanged by a constant shift).",
    "log_of_underflowed_softmax": "Infinite loss: the softmax was stable, but a probability "
    "underflowed to 0 and log(0) = -inf. Compute the log-softmax directly: z - max - "
    "log(sum(exp(z - max))).",
    "softmax_half_shifted": "The maximum is subtracted in the numerator only: subtract it once, "
    "then use the same shifted exponentials above and below.",
    "softmax_wrong_axis": "The softmax is normalised over the wrong axis: use the `axis` "
    "argument (keepdims=True) so each slice along it sums to 1.",
    # --- affine terms ---------------------------------------------------------------------------
    "bias_dropped": "The bias terms are missing.",
    "bias_outside_activation": "The biases are added after the nonlinearity; they belong inside "
    "it: act(x W_x^T + b_x + h W_h^T + b_h).",
    "one_bias_only": "Only one of the two biases is used: PyTorch's cells add both b_ih and b_hh.",
    "input_term_dropped": "The input term (W_ih x) is missing.",
    "prev_state_term_dropped": "The previous-state term (W_hh h_prev) is missing.",
    "weights_swapped": "The input and recurrent weights are swapped (W_ih must multiply x, "
    "W_hh must multiply h_prev).",
    # --- sequences --------------------------------------------------------------------------------
    "h_t_for_h_prev": "The state is not carried from step to step: each step must use the state "
    "the previous step produced (h_{t-1}), not h0, zeros or the step's own output.",
    "c_prev_for_c": "h uses the previous cell state: compute c = f * c_prev + i * g first, "
    "then h = o * tanh(c) with that new c (not tanh(c_prev)).",
    "grads_averaged_over_batch": "The parameter gradients are averaged over the batch: the "
    "loss is a sum over the batch, so dW = da.T @ x and db = da.sum(axis=0), without / B.",
    "h0_ignored": "The initial state h0 is ignored (the loop starts from zeros).",
    "off_by_one": "The outputs are shifted by one step: hs[t] must be the state *after* "
    "reading xs[t] (h_{t+1} in 1-based terms), not the state before it.",
    "includes_initial_state": "The result includes the initial state: return only the T new "
    "states, not h0 as well.",
    "cell_state_not_carried": "The cell state c is not carried from step to step.",
    # --- losses -----------------------------------------------------------------------------------
    "ce_averaged_over_time": "The loss is averaged over time steps too: E = sum over t of the "
    "batch mean.",
    "ce_summed_over_batch": "The loss is summed over the batch: each step's term is the *mean* "
    "over the batch.",
    "ce_axes_swapped": "The averaging axes are swapped: E is the sum over time steps of the "
    "mean over the batch, not the sum over the batch of the mean over time.",
    "ce_sign": "The sign is flipped: cross-entropy is the *negative* log-probability.",
    "ce_probability_not_log": "You used the probability instead of its logarithm.",
    # --- backward ---------------------------------------------------------------------------------
    "tanh_derivative_missing": "The derivative of tanh is missing: multiply the upstream "
    "gradient by (1 - h**2) before the matmuls.",
    "derivative_uses_h_prev": "tanh' is computed from the wrong state: it is 1 - h_t**2 with this "
    "step's output h_t, not h_{t-1}.",
    "derivative_not_squared": "tanh'(a) is 1 - tanh(a)**2 = 1 - h**2, not 1 - h.",
    "gradient_transposed": "A weight gradient is transposed: dW has the weight's shape, "
    "dW_ih = da.T @ x with da (B, H), x (B, D).",
    "bias_grad_not_summed": "The bias gradient must be summed over the batch (axis 0).",
    "gradient_not_carried": "The gradient is not carried back through time: add dh_prev from "
    "step t+1 to dhs[t] before going through step t.",
    "gradient_not_accumulated": "Parameter gradients must be *summed* over all steps (the "
    "weights are shared), not overwritten by the last step.",
    "derivative_of_output": "The derivative is taken of the activation's output again: h (or g, "
    "i, f, o) already is tanh(a) (or sigmoid(a)), so tanh'(a) = 1 - h**2 and sigmoid'(a) = "
    "s * (1 - s); do not apply tanh or the sigmoid to it a second time.",
    "loss_gradient_only_last": "Only the last step's loss gradient is used: every step has its "
    "own loss term, so dhs[t] enters at every step t (many-to-many), not only dhs[T-1].",
    "reversed_in_time": "The result is reversed in time: dxs[t] belongs to xs[t] (fill it at "
    "the step t of the backward loop, which runs t = T-1, ..., 0).",
    "dh0_missing": "dh0 is missing: it is the dh_prev that comes out of the first step.",
    "dW_hh_uses_h_t": "dW_hh pairs the step's da with h_{t-1} (the state that was multiplied), "
    "not with h_t.",
    "truncation_window": "The truncation window is wrong: with truncate=k the loss term at step "
    "t reaches the k steps t, t-1, ..., t-k+1.",
    "truncation_ignored": "`truncate` is ignored: the result equals full BPTT.",
    "truncation_chunked": "You truncated in chunks (cut the sequence into blocks of k steps and "
    "backpropagated inside each block). Here truncation is per loss term: the term at step t "
    "reaches back to steps t, t-1, ..., t-k+1, whatever block t is in.",
    "step_off_by_one": "The per-step gradients are added one step off: step t gets dhs[t] and "
    "every step t = T-1, ..., 0 contributes (check the loop's range and the index into dhs).",
    "sigmoid_derivative_tanh": "You used 1 - s**2 (tanh's derivative) for a sigmoid gate: "
    "sigmoid'(a) = s * (1 - s).",
    "candidate_derivative_wrong": "The candidate g is a tanh: its derivative is 1 - g**2, not "
    "g * (1 - g).",
    "chain_factor_missing": "A factor of the chain rule is missing: the gradient of a product "
    "a * b with respect to a is the upstream gradient times b.",
    "extra_derivative": "There is a derivative too many in the chain rule.",
    "dc_prev_from_incoming": "dc_prev = dc_t * f, with dc_t the *total* gradient into c_t (the "
    "incoming dc plus the path from h), not the incoming dc alone.",
    "candidate_not_gated": "The input gate multiplies the candidate: the written memory is "
    "i * g, not i + g.",
    "output_gate_uses_c": "The output gate's gradient is do = dh * tanh(c), not dh * c.",
    "dc_T_ignored": "dc_T is ignored: the cell-state gradient at the last step starts from dc_T "
    "(zeros only when it is None).",
    "gates_wrong_step": "The forward values are taken at the wrong step: step t's backward uses "
    "gates[k][t], cs[t], and h_{t-1} = hs[t-1], c_{t-1} = cs[t-1] (h0, c0 at t = 0).",
    "sigmoid_derivative_wrong": "sigmoid'(a) is s * (1 - s) with s the gate value.",
    "cell_tanh_derivative_missing": "The path from h to c misses tanh': dc += dh * o * (1 - "
    "tanh(c)**2).",
    "forget_gate_not_applied": "dc_prev must be multiplied by the forget gate: dc_prev = dc * f.",
    "cell_gradient_not_carried": "The cell-state gradient is not carried back through time "
    "(dc from step t+1 must enter step t).",
    # --- clipping and measuring -------------------------------------------------------------------
    "clip_omitted": "The gradients are returned unchanged: scale them by min(1, max_norm / "
    "(total + 1e-6)) when the total norm is above max_norm.",
    "norm_after_clipping": "The returned norm is measured after clipping; return the total norm "
    "*before* clipping (what clip_grad_norm_ returns), so a training loop can log it.",
    "clip_sum_of_norms": "The global norm is the square root of the sum of *squares* of all "
    "entries, not the sum of the per-tensor norms.",
    "clip_per_tensor": "Each gradient is clipped by its own norm; clip_grad_norm uses ONE global "
    "norm over all gradients together.",
    "clip_always_scales": "The gradients are rescaled even when the norm is below max_norm: "
    "the factor is min(1, max_norm / (total + 1e-6)).",
    "norm_not_square_rooted": "The norm is the square root of the sum of squares.",
    "clip_one_sided": "Clip both sides: entries go to the interval [-clip_value, clip_value].",
    "clip_by_norm_not_value": "clip_grad_value clips each entry, it does not rescale by a norm.",
    "wrong_norm": "Use the Frobenius norm (square root of the sum of squared entries) of each "
    "Jacobian, then the mean over the batch.",
    "reversed_distance": "The result is reversed: entry k must be the distance k = T - t.",
    "batch_summed": "Average over the batch (mean), do not sum.",
    # --- gates ------------------------------------------------------------------------------------
    "gates_swapped": "Two gates are swapped.",
    "forget_gate_ignored": "The forget gate is not applied to c_prev.",
    "extra_tanh": "There is a tanh too many: the cell update c = f * c_prev + i * g has no "
    "nonlinearity.",
    "cs231n_gate_order": "The gate blocks are packed in the order i, f, o, g (CS231n's); "
    "PyTorch's order is i, f, g, o.",
    "bias_counted_twice": "Each bias must go to its own slot: b_i* into bias_ih_l0 and b_h* into "
    "bias_hh_l0 (you counted a bias twice or put the sum in both).",
    "not_an_lstm": "Return a torch.nn.LSTM module holding your weights.",
    "reset_before_matmul": "The reset gate is applied before the matmul (Cho et al.'s form); "
    "PyTorch applies it after: r * (W_hn h_prev + b_hn).",
    "reset_after_matmul": "The reset gate is applied after the matmul (PyTorch's form); Cho et "
    "al. apply it to h_prev before the matmul: W_hn (r * h_prev).",
    "reset_excludes_bias": "The reset gate must also scale b_hn: r * (W_hn h_prev + b_hn).",
    "reset_ignored": "The reset gate is not applied.",
    "reset_on_input": "The reset gate scales the previous state's term, not the input's: "
    "n = tanh(W_in x + b_in + r * (W_hn h_prev + b_hn)).",
    "b_hn_dropped": "b_hn is missing: the candidate is tanh(W_in x + b_in + r * (W_hn h_prev + "
    "b_hn)).",
    "update_gate_flipped": "The update gate blends the wrong way round: h = (1 - z) * n + z * "
    "h_prev (z = 1 keeps the old state).",
}


def explain(key: str | None, extra: str = "") -> str:
    """The catalogue text for `key`, followed by a function-specific sentence if given."""
    if key is None:
        return extra
    text = MISTAKES.get(key, "")
    return f"{text} {extra}".strip()


# --- a06 GRU backward and a07 training (catalogue entries added with those assignments) ---------

MISTAKES.update(
    {
        "blend_reversed_backward": "The blend's backward goes the wrong way round: from h = "
        "(1 - z) * n + z * h_prev, dn = dh * (1 - z) and the direct path is dh_prev = dh * z.",
        "one_minus_z_missing": "The (1 - z) path is missing: the candidate receives dn = dh * "
        "(1 - z), not dh.",
        "dz_sign_flipped": "dz has the wrong sign: dz = dh * (h_prev - n).",
        "direct_path_missing": "The direct path is missing: h_prev also reaches h through "
        "z * h_prev, so dh_prev includes dh * z.",
        "reset_grad_before_matmul": "The reset gradient goes through the wrong side of the "
        "matmul (Cho et al.'s form). In PyTorch's form r scales the result: dr = da_n * "
        "(h_prev @ W_hn.T + b_hn), and h_prev gets (da_n * r) @ W_hn.",
        "reset_grad_excludes_bias": "dr must include b_hn: dr = da_n * (h_prev @ W_hn.T + b_hn).",
        "b_hn_grad_not_scaled": "db_hn must be scaled by r: b_hn sits inside r * (W_hn h_prev + "
        "b_hn), so db_hn = (da_n * r).sum(axis=0).",
        "reset_not_in_hidden_grads": "The hidden path must go through r: use da_n * r for "
        "dW_hn, db_hn and dh_prev.",
        "tanh_derivative_for_sigmoid": "That is tanh's derivative: sigmoid'(a) is s * (1 - s), "
        "not 1 - s**2.",
        # a07: the optimiser
        "adam_no_bias_correction": "The bias correction is missing: divide m by (1 - beta1**t) "
        "and v by (1 - beta2**t) before the step.",
        "moment_blend_reversed": "The running means blend the wrong way round: m = beta1 * m + "
        "(1 - beta1) * g keeps most of the old m (beta1 = 0.9).",
        "adam_v_not_squared": "The second moment averages the *squared* gradient: v = beta2 * v "
        "+ (1 - beta2) * g**2.",
        "adam_eps_inside_sqrt": "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps).",
        "adam_step_count": "The step count is off by one: t is this step's number, 1 on the "
        "first step, in the bias corrections (1 - beta**t).",
        "adam_bias_correction_partial": "Both moments need the bias correction: m_hat = m / "
        "(1 - beta1**t) and v_hat = v / (1 - beta2**t).",
        "moment_new_gradient_unweighted": "The new gradient enters the running means without "
        "its weight: m = beta1 * m + (1 - beta1) * g and v = beta2 * v + (1 - beta2) * g**2.",
        "adam_sqrt_missing": "The step divides by the square root of v_hat: m_hat / "
        "(sqrt(v_hat) + eps), not m_hat / (v_hat + eps).",
        "adam_corrected_moments_stored": "Return the running means m and v themselves as the "
        "new state; m_hat and v_hat (bias-corrected) are used only for this step's update.",
        "update_sign": "The step goes uphill: subtract lr * m_hat / (sqrt(v_hat) + eps).",
        # a07: truncated BPTT over a stream
        "state_not_carried_across_windows": "The state is not carried from window to window: "
        "each window must start from the h the previous window ended with.",
        "targets_not_shifted": "The targets are not shifted: window stream[s:e] predicts "
        "stream[s + 1 : e + 1], the next characters.",
        "last_window_dropped": "The last, shorter window is dropped: when L - 1 is not a "
        "multiple of T the final window has fewer than T steps.",
        "window_stride": "The windows overlap or skip characters: window k starts at k * T.",
        # a07: sampling
        "temperature_multiplied": "The logits are multiplied by the temperature; divide them: "
        "softmax(logits / temperature).",
        "temperature_ignored": "The temperature is ignored: sample from softmax(logits / "
        "temperature).",
        "greedy_not_sampled": "You return the most likely token every time (argmax); draw at "
        "random from the probabilities.",
        "sampling_not_from_softmax": "The draws look uniform: weight each token by its softmax "
        "probability.",
        # a07: training
        "training_diverged": "Training diverged (NaN or infinity in the parameters): check the "
        "clipping and the learning rate.",
        "parameters_not_updated": "The returned parameters are the initial ones: return the "
        "trained P (adam_step returns new dicts; use them).",
        "training_too_slow": "The loss did not fall far enough: check that each step uses the "
        "new parameters and moments, that the state is carried between windows, and the "
        "learning rate (the default 0.02 works).",
    }
)
