"""Speed benchmarks of the batching claims, printed as numbers and ratios in one run.

1. LRP (issue 5): the maps of all output words of a summary in one batched pass, versus one
   output word at a time (same fast code, ``steps=[t]``), versus the loop-based float64
   reference of tests/lrp_reference.py (one word, small size only: it loops over units).
2. Attribution (issue 3): integrated gradients over a batch of samples with the model loaded
   once, versus one sample per call.
3. Summarizer training (issue 12): articles/s and target tokens/s of one optimizer step of the
   pre-issue-12 training path (a verbatim copy below: one decoder step per Python iteration, the
   vocabulary projection and softmax of every padded position, shuffled batches) versus the
   current one (``summarize.train``: all steps batched, projection and loss on the real target
   tokens only, length-bucketed batches), same model sizes, same articles, same weights.
4. Summarizer decoding (issue 12): greedy decoding, the pre-issue-12 loop versus the current one.

Timings are wall-clock on whatever machine runs this (CPU seconds of this process beside them,
which shared cores disturb less); they are printed, never asserted.
    .venv/bin/python benchmarks/run.py [--quick] [--threads N] [--only training,decoding] [--out FILE]

With ``--out`` the measured rows are also written as one Markdown table (the README embeds
``benchmarks/tables/batching_cpu.md`` through ``make readme``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import torch

os.environ.setdefault("TQDM_DISABLE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the LRP reference lives with the tests


#: the rows of the ``--out`` table: benchmark, setting, before (or one at a time), now, ratio
ROWS: list[dict[str, str]] = []


def record(benchmark: str, setting: str, before: str, now: str, ratio: str) -> None:
    ROWS.append({"benchmark": benchmark, "setting": setting, "before / one at a time": before,
                 "now / batched": now, "ratio": ratio})


def write_table(path: Path, threads: int, quick: bool) -> None:
    """The measured rows with the machine and date they come from, for the README."""
    import datetime

    import pandas as pd

    head = (f"Batching benchmarks (`benchmarks/run.py{' --quick' if quick else ''}`), CPU threads "
            f"{threads}, {os.cpu_count()} CPUs, {datetime.date.today().isoformat()}; wall-clock, one "
            f"run (CPU-time ratios in brackets where measured)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "\n\n" + pd.DataFrame(ROWS).to_markdown(index=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_lrp(quick: bool) -> None:
    from lrp_reference import reference_lrp

    from saliency_repro.summarize.lrp import lrp_summary
    from saliency_repro.summarize.model import ModelConfig, Summarizer

    torch.manual_seed(0)
    S, T = (60, 12) if quick else (200, 30)
    cfg = ModelConfig(vocab_size=500, embedding_dim=32, hidden_dim=64, decoder_hidden_dim=64,
                      attention_dim=64)
    model = Summarizer(cfg).double().eval()
    src = torch.randint(4, 500, (S,)).tolist()
    out = torch.randint(4, 500, (T,)).tolist()
    dec_inputs = [2, *out[:-1]]
    batched = best_of(lambda: lrp_summary(model, src, dec_inputs, out), 3)
    one_by_one = best_of(lambda: [lrp_summary(model, src, dec_inputs, out, steps=[t]) for t in range(T)], 1)
    print(f"LRP, article {S} words, summary {T} words, float64, CPU threads {torch.get_num_threads()}")
    print(f"  batched, all {T} output words:   {batched:8.3f} s")
    print(f"  one output word per call:       {one_by_one:8.3f} s   ratio {one_by_one / batched:6.1f}x slower")
    record("LRP maps", f"all {T} output words of a summary, {S}-word article, float64",
           f"{one_by_one:.3f} s (one word per call)", f"{batched:.3f} s", f"{one_by_one / batched:.1f}x")
    # the loop-based reference, on a small problem (it loops over every unit)
    rs, rt, units = (20, 4, 16) if quick else (40, 8, 32)
    small = Summarizer(ModelConfig(vocab_size=100, embedding_dim=units, hidden_dim=units,
                                   decoder_hidden_dim=units, attention_dim=units)).double().eval()
    params = {k: v.double().numpy() for k, v in small.state_dict().items()}
    s_src = torch.randint(4, 100, (rs,)).tolist()
    s_out = torch.randint(4, 100, (rt,)).tolist()
    s_dec = [2, *s_out[:-1]]
    ref = best_of(lambda: [reference_lrp(params, s_src, s_dec, t, s_out[t], 1e-3) for t in range(rt)], 1)
    fast = best_of(lambda: lrp_summary(small, s_src, s_dec, s_out), 3)
    print(f"  loop-based reference ({rs} words, {rt} outputs, {units} units): {ref:8.3f} s vs batched "
          f"{fast:.4f} s   ratio {ref / fast:6.0f}x slower")
    record("LRP maps", f"loop-based reference, {rs} words, {rt} outputs, {units} units",
           f"{ref:.3f} s (reference)", f"{fast:.4f} s", f"{ref / fast:.0f}x")


def bench_attribution(quick: bool) -> None:
    from saliency_repro.classify.model import build_classifier
    from saliency_repro.data.synthetic import classification_split
    from saliency_repro.saliency.attribute import attribute_samples

    data = classification_split("sentiment", 200, seed=1, split="train")
    model, tokenizer = build_classifier({"type": "scratch", "hidden_size": 64, "num_layers": 2,
                                         "num_heads": 2, "intermediate_size": 128, "vocab_size": 2000},
                                        ["negative", "positive"], 128, data["text"])
    model.eval()
    n = 8 if quick else 24
    samples = data.head(n)[["id", "text", "label"]].assign(pred=lambda d: d["label"])  # explained: predicted
    steps = 16 if quick else 50
    cfg = {"methods": ["integrated_gradients"], "ig_steps": steps, "ig_internal_batch_size": steps,
           "hidden_reduction": "sum", "word_aggregation": "sum"}
    batched = best_of(lambda: attribute_samples(model, tokenizer, samples, {**cfg, "batch_size": 8}, 128), 2)
    single = best_of(lambda: attribute_samples(model, tokenizer, samples, {**cfg, "batch_size": 1}, 128), 1)
    print(f"Integrated gradients, {n} samples, {steps} steps, 2-layer BERT (64 wide)")
    print(f"  batches of 8 samples:  {batched:8.3f} s  ({batched / n * 1000:6.1f} ms/sample)")
    print(f"  one sample per call:   {single:8.3f} s  ({single / n * 1000:6.1f} ms/sample)   "
          f"ratio {single / batched:5.1f}x slower")
    record("integrated gradients", f"{n} samples, {steps} steps, 2-layer BERT (64 wide), ms/sample",
           f"{single / n * 1000:.1f} (one per call)", f"{batched / n * 1000:.1f} (batches of 8)",
           f"{single / batched:.1f}x")


# ---------------------------------------------------------------- summarizer training (issue 12)
# The training step as it was before issue 12, copied verbatim from summarize/model.py and
# summarize/train.py (only ``self`` became ``model``), so that "before" is measured in this run.
def _legacy_encode(model, src, lengths):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from saliency_repro.summarize.model import Encoded
    from saliency_repro.summarize.text import PAD_ID

    emb = model.embedding(src)
    packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, (h_n, c_n) = model.encoder(packed)
    states, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
    s0 = torch.relu(model.reduce_h(torch.cat([h_n[0], h_n[1]], dim=-1)))
    c0 = torch.relu(model.reduce_c(torch.cat([c_n[0], c_n[1]], dim=-1)))
    pos = torch.arange(src.shape[1], device=src.device)[None, :]
    mask = (src != PAD_ID) & (pos < lengths.to(src.device)[:, None])
    return Encoded(states, mask, model.attn_enc(states), (s0, c0))


def _legacy_step(model, y, state, enc):
    s, c = model.decoder(model.embedding(y), state)
    score = model.attn_v(torch.tanh(enc.enc_proj + model.attn_dec(s)[:, None, :])).squeeze(-1)
    score = score.masked_fill(~enc.mask, float("-inf"))
    attention = torch.softmax(score, dim=-1)
    ctx = torch.bmm(attention[:, None, :].to(enc.states.dtype), enc.states).squeeze(1)
    logits = model.out_vocab(model.out_hidden(torch.cat([s, ctx], dim=-1)))
    return logits, (s, c), attention


def _legacy_batch_loss(model, batch, device):
    from saliency_repro.summarize.decode import pad_batch

    src = pad_batch([e.src_ids for e in batch], device)
    dec = pad_batch([e.dec_inputs for e in batch], device)
    tgt = pad_batch([e.targets for e in batch], device)
    lengths = torch.tensor([len(e.src_ids) for e in batch], device=device)
    enc = _legacy_encode(model, src, lengths)
    state = enc.init
    logits = []
    for t in range(dec.shape[1]):
        lg, state, _ = _legacy_step(model, dec[:, t], state, enc)
        logits.append(lg)
    logits = torch.stack(logits, dim=1)
    mask = torch.zeros_like(tgt, dtype=torch.bool)
    for i, e in enumerate(batch):
        mask[i, : len(e.targets)] = True
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none")
    loss = (loss * mask.reshape(-1)).sum()
    return loss, int(mask.sum())


def _bench_examples(n: int, pre: dict):
    """``n`` article-summary pairs as the model sees them: the first See-format CNN/DM test
    articles (../shared/data) when present, tokenized by the pipeline's own preprocessing,
    else random ids with the same length profile (400-token articles, summaries ~N(55, 19))."""
    import numpy as np

    from saliency_repro.summarize.text import Example, PreprocessConfig, build_vocab, encode_example

    pcfg = PreprocessConfig(**pre)
    path = REPO.parent / "shared" / "data" / "cnn_dailymail_see" / "test.parquet"
    if path.is_file():
        import pandas as pd

        df = pd.read_parquet(path).head(n)
        texts = [a.split()[: pcfg.max_article_tokens] for a in df["article"]]
        texts += [h.split()[: pcfg.max_summary_tokens] for h in df["highlights"]]
        vocab, _ = build_vocab(texts, pcfg)
        exs = [encode_example(r.id, r.article, r.highlights, vocab, pcfg) for r in df.itertuples()]
        return exs, f"the first {n} See-format CNN/DM test articles"
    rng = np.random.default_rng(0)
    exs = []
    for i in range(n):
        t = int(np.clip(rng.normal(55, 19), 5, pcfg.max_summary_tokens))
        tgt = rng.integers(4, pcfg.vocab_size, t).tolist()
        src = rng.integers(4, pcfg.vocab_size, pcfg.max_article_tokens).tolist()
        exs.append(Example(str(i), [], src, [], [], [2, *tgt], [*tgt, 3]))
    return exs, f"{n} random-id articles (See-format data not found at {path})"


def _time_training(loss_fn, model, batches, opt) -> tuple[float, float]:
    """Wall and CPU seconds of optimizer steps over ``batches`` (after one warm-up step)."""
    def one(batch):
        loss, k = loss_fn(model, batch)
        opt.zero_grad(set_to_none=True)
        (loss / k).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()

    model.train()
    one(batches[0])
    w0, c0 = time.perf_counter(), time.process_time()
    for b in batches:
        one(b)
    return time.perf_counter() - w0, time.process_time() - c0


TRAINING_SETTINGS = {
    # the sizes of configs/local.yaml (where "about 3.5 articles per second" was observed)
    "local.yaml": ({"vocab_size": 20000, "max_article_tokens": 400, "max_summary_tokens": 100},
                   {"embedding_dim": 64, "hidden_dim": 128, "decoder_hidden_dim": 128, "attention_dim": 128}),
    # configs/cnndm_cpu.yaml
    "cnndm_cpu.yaml": ({"vocab_size": 10000, "max_article_tokens": 200, "max_summary_tokens": 100},
                       {"embedding_dim": 96, "hidden_dim": 128, "decoder_hidden_dim": 128, "attention_dim": 96}),
    # See et al.'s sizes (the paper config)
    "paper (See et al.)": ({"vocab_size": 50000, "max_article_tokens": 400, "max_summary_tokens": 100},
                           {"embedding_dim": 128, "hidden_dim": 256, "decoder_hidden_dim": 256, "attention_dim": 512}),
}


def bench_training(quick: bool) -> None:
    import copy

    from saliency_repro.summarize.model import ModelConfig, Summarizer
    from saliency_repro.summarize.train import batch_loss, epoch_batches

    batch_size = 16
    n_batches = 3 if quick else 8
    print(f"Summarizer training, batch {batch_size}, Adam, {n_batches} optimizer steps per path, "
          f"CPU threads {torch.get_num_threads()}")
    for name, (pre, sizes) in TRAINING_SETTINGS.items():
        if quick and name.startswith("paper"):
            continue
        exs, what = _bench_examples(batch_size * n_batches, {**pre, "tokenizer": "whitespace"})
        n_tok = sum(len(e.targets) for e in exs)
        torch.manual_seed(0)
        model = Summarizer(ModelConfig(vocab_size=pre["vocab_size"], **sizes))
        legacy_model = copy.deepcopy(model)
        # before: shuffled batches; now: length-bucketed batches of the same articles
        order = torch.randperm(len(exs), generator=torch.Generator().manual_seed(0)).tolist()
        old_batches = [[exs[i] for i in order[b: b + batch_size]] for b in range(0, len(exs), batch_size)]
        new_batches = [[exs[i] for i in idx] for idx in epoch_batches(
            [len(e.src_ids) for e in exs], [len(e.targets) for e in exs], batch_size, 0, 0, 50)]
        old_w, old_c = _time_training(lambda m, b: _legacy_batch_loss(m, b, "cpu"), legacy_model,
                                      old_batches, torch.optim.Adam(legacy_model.parameters(), 1e-3))
        new_w, new_c = _time_training(lambda m, b: batch_loss(m, b, "cpu"), model, new_batches,
                                      torch.optim.Adam(model.parameters(), 1e-3))
        n = len(exs)
        print(f"  {name}: sizes {sizes}, vocab {pre['vocab_size']}, article <= {pre['max_article_tokens']} "
              f"tokens; {what}, {n_tok} target tokens")
        print(f"    before: {n / old_w:7.2f} articles/s {n_tok / old_w:8.0f} target tokens/s "
              f"(wall {old_w:6.2f} s, CPU {old_c:6.2f} s)")
        print(f"    now:    {n / new_w:7.2f} articles/s {n_tok / new_w:8.0f} target tokens/s "
              f"(wall {new_w:6.2f} s, CPU {new_c:6.2f} s)   ratio {old_w / new_w:5.1f}x faster "
              f"(CPU time {old_c / new_c:5.1f}x)")
        dims = "/".join(str(v) for v in sizes.values())
        record("summarizer training step", f"{name} ({dims}, vocab {pre['vocab_size']}, article <= "
               f"{pre['max_article_tokens']} tokens), articles/s (target tokens/s)",
               f"{n / old_w:.2f} ({n_tok / old_w:.0f})", f"{n / new_w:.2f} ({n_tok / new_w:.0f})",
               f"{old_w / new_w:.1f}x ({old_c / new_c:.1f}x)")


@torch.no_grad()
def _legacy_greedy(model, sources, min_length, max_length):
    """Greedy decoding as it was before issue 12 (per-row Python bookkeeping at every step)."""
    from saliency_repro.summarize.decode import pad_batch
    from saliency_repro.summarize.model import source_lengths
    from saliency_repro.summarize.text import START_ID, STOP_ID

    src = pad_batch(sources, "cpu")
    enc = _legacy_encode(model, src, source_lengths(src))
    B = src.shape[0]
    y = torch.full((B,), START_ID, dtype=torch.long)
    state = enc.init
    tokens = [[] for _ in range(B)]
    logp = torch.zeros(B, dtype=torch.float64)
    done = torch.zeros(B, dtype=torch.bool)
    for t in range(max_length + 1):
        logits, state, _ = _legacy_step(model, y, state, enc)
        lp = torch.log_softmax(logits.float(), dim=-1)
        if t < min_length:
            lp[:, STOP_ID] = float("-inf")
        if t == max_length:
            break
        y = lp.argmax(-1)
        for b in range(B):
            if done[b]:
                continue
            logp[b] += float(lp[b, y[b]])
            if int(y[b]) == STOP_ID:
                done[b] = True
            else:
                tokens[b].append(int(y[b]))
        if bool(done.all()):
            break
    return tokens


def bench_decoding(quick: bool) -> None:
    from saliency_repro.summarize.decode import beam_search, beam_search_batch, greedy_decode
    from saliency_repro.summarize.model import ModelConfig, Summarizer

    pre, sizes = TRAINING_SETTINGS["cnndm_cpu.yaml"]
    n = 8 if quick else 32
    exs, what = _bench_examples(n, {**pre, "tokenizer": "whitespace"})
    sources = [e.src_ids for e in exs]
    torch.manual_seed(0)
    model = Summarizer(ModelConfig(vocab_size=pre["vocab_size"], **sizes)).eval()
    with torch.no_grad():  # an untrained model: forbid [STOP] so every summary has max_length tokens
        model.out_vocab.bias[3] = -1e4
    print(f"Summarizer decoding, cnndm_cpu.yaml sizes, {what}, 100 tokens per summary")
    old = best_of(lambda: _legacy_greedy(model, sources, 35, 100), 1)
    new = best_of(lambda: greedy_decode(model, sources, 35, 100), 1)
    print(f"  greedy, one batch of {n}:   before {n / old:7.2f} articles/s   now {n / new:7.2f} articles/s"
          f"   ratio {old / new:5.1f}x faster")
    record("summarizer decoding", f"greedy, one batch of {n}, articles/s", f"{n / old:.2f}",
           f"{n / new:.2f}", f"{old / new:.1f}x")
    m = 4 if quick else 8
    old = best_of(lambda: [beam_search(model, s, 4, 35, 100) for s in sources[:m]], 1)
    new = best_of(lambda: beam_search_batch(model, sources[:m], 4, 35, 100), 1)
    print(f"  beam 4, {m} articles:       before {m / old:7.2f} articles/s   now {m / new:7.2f} articles/s"
          f"   ratio {old / new:5.1f}x faster (one article at a time vs all together)")
    record("summarizer decoding", f"beam 4, {m} articles, articles/s", f"{m / old:.2f} (one at a time)",
           f"{m / new:.2f} (all together)", f"{old / new:.1f}x")


def bench_compile(quick: bool) -> None:
    """Does torch.compile pay on CPU? Measured on the summarizer's most expensive elementwise
    block, the attention pre-activation tanh(W_h h_i + W_s s_t) . v over [B, T, S, A], forward
    and backward (the decision: it does not here, so training runs eager)."""
    B, T, S, A = (8, 20, 200, 96) if quick else (16, 55, 200, 96)
    enc = torch.randn(B, S, A, requires_grad=True)
    dec = torch.randn(B, T, A, requires_grad=True)
    v = torch.randn(A, requires_grad=True)

    def eager(e, d, w):  # what Summarizer.attend computes, in chunks of steps
        return torch.cat([torch.tanh(e[:, None] + d[:, t: t + 4, None, :]) @ w for t in range(0, T, 4)], 1)

    def plain(e, d, w):
        return torch.tanh(e[:, None] + d[:, :, None, :]) @ w

    t_eager = best_of(lambda: eager(enc, dec, v).sum().backward(), 3)
    t0 = time.perf_counter()
    compiled = torch.compile(plain, dynamic=True)
    try:
        compiled(enc, dec, v).sum().backward()
    except Exception as exc:  # noqa: BLE001 - no compiler toolchain: report, do not fail the benchmark
        print(f"torch.compile unavailable here: {type(exc).__name__}: {str(exc)[:120]}")
        record("torch.compile", f"attention block [{B}, {T}, {S}, {A}]", "eager", "unavailable here", "")
        return
    t_compile = time.perf_counter() - t0
    t_comp = best_of(lambda: compiled(enc, dec, v).sum().backward(), 3)
    print(f"torch.compile on CPU, attention block [{B}, {T}, {S}, {A}] forward+backward")
    print(f"  eager (as trained): {t_eager:8.3f} s   compiled: {t_comp:8.3f} s (after {t_compile:.0f} s "
          f"of compilation)   ratio {t_eager / t_comp:5.2f}x")
    record("torch.compile", f"attention block [{B}, {T}, {S}, {A}] forward+backward (not adopted)",
           f"{t_eager:.3f} s (eager, as trained)", f"{t_comp:.3f} s (compiled, after {t_compile:.0f} s)",
           f"{t_eager / t_comp:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--only", default="lrp,attribution,training,decoding,compile",
                        help="comma-separated sections to run")
    parser.add_argument("--out", type=Path, help="also write the measured rows as a Markdown table here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sections = set(args.only.split(","))
    if "lrp" in sections:
        bench_lrp(args.quick)
    if "attribution" in sections:
        bench_attribution(args.quick)
    if "training" in sections:
        bench_training(args.quick)
    if "decoding" in sections:
        bench_decoding(args.quick)
    if "compile" in sections:
        bench_compile(args.quick)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:.0f} MiB")
    if args.out:
        write_table(args.out, args.threads, args.quick)


if __name__ == "__main__":
    main()
