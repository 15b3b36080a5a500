"""Times L_t's levels form at the paper's size (64x48 heatmaps, 17 joints, 256x192 crops, clips of 5 frames: T = 2),
forward and backward: each frame coded once per clip (what `tpdi_loss` does) against each frame pair coded on its
own, with the product of probabilities and codes in float32 and in bfloat16 (the default). Compares each product
with the exact double sum on two frame pairs. Prints one JSON line; `table` writes those lines as
benchmark_lt_levels.md in the benchmarks/ folder of `--out` (default paper_tables, so paper_tables/benchmarks/), records it
there in manifest_lt_levels.json and rewrites the indexes (cdpose.tables.tool_run). The committed lines are in
paper_tables/benchmarks/lt_levels/.
    python tools/lt_levels_bench.py time [--device cuda] [--clips 32] [--levels 16] >> lt.jsonl
    python tools/lt_levels_bench.py table --json lt.jsonl --out paper_tables [--commit C]"""
import argparse, json, time
import torch, torch.nn.functional as F
from cdpose.trajectory import expected_difference_exact, expected_difference_levels, expected_difference_levels_clip

def clips_like(n: int, frames: int, device: str, seed: int = 0):
    "Heatmaps (n, frames, 17, 64, 48), peaked and random; crops (n, frames, 3, 256, 192), smooth, moving (3, 2) pixels a frame, noisy."
    g = torch.Generator().manual_seed(seed)
    base = F.interpolate(torch.randn(n, 3, 16, 12, generator=g), size=(256, 192), mode="bicubic")
    imgs = torch.stack([torch.roll(base, (3 * t, 2 * t), (2, 3)) + 0.05 * t * torch.randn(base.shape, generator=g) for t in range(frames)], 1)
    return (torch.rand(n, frames, 17, 64, 48, generator=g) ** 8).to(device), imgs.to(device)

def timed(fn, h, reps: int, sync) -> float:
    "Median seconds of forward and backward after two warm-ups."
    times = []
    for _ in range(reps + 2):
        x = h.clone().requires_grad_()
        sync(); t = time.perf_counter(); fn(x).sum().backward(); sync(); times.append(time.perf_counter() - t)
    return sorted(times[2:])[reps // 2]

def main(device: str, clips: int, levels: int, reps: int = 10) -> dict:
    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    h, imgs = clips_like(clips, 5, device)
    from cdpose.tables import run_label
    out = {"device": torch.cuda.get_device_name(0) if cuda else "cpu", "machine": run_label("", "", 0, "")["machine"],
           "clips": clips, "levels": levels}
    pairs = lambda x: (x[:, :-1].flatten(0, 1), x[:, 1:].flatten(0, 1))
    h2, i2 = clips_like(2, 2, device, seed=1)                                   # two pairs for the accuracy
    def e_grad(fn):
        x = h2.clone().requires_grad_(); e = fn(x); e.sum().backward(); return e.detach().flatten(), x.grad.flatten()
    e0, g0 = e_grad(lambda x: expected_difference_exact(x[:, 0], x[:, 1], i2[:, 0], i2[:, 1]))
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        per_clip = lambda x: expected_difference_levels_clip(x, imgs, levels, dtype)
        per_pair = lambda x: expected_difference_levels(*pairs(x), *pairs(imgs), levels, dtype)
        out[f"{name}, frames coded once per clip, ms"] = round(1000 * timed(per_clip, h, reps, sync), 2)
        out[f"{name}, each pair coded, ms"] = round(1000 * timed(per_pair, h, reps, sync), 2)
        e, g = e_grad(lambda x: expected_difference_levels_clip(x, i2, levels, dtype)[:, 0])
        out[f"{name}, rel err E vs exact"] = round(((e - e0).abs() / e0.abs()).mean().item(), 5)
        out[f"{name}, grad cosine vs exact"] = round(F.cosine_similarity(g, g0, 0).item(), 5)
    return out

def table(lines: list[dict], out: str, commit: str | None) -> None:
    "One row per device, product and coding."
    import pandas as pd
    from cdpose.tables import run_label, tool_run, write_table
    rows = []
    for r in lines:
        for dtype in ("float32", "bfloat16"):
            for coding in ("frames coded once per clip", "each pair coded"):
                rows.append({"device": r["device"], "clips": r["clips"], "levels": r["levels"], "product": dtype, "codes": coding,
                             "ms (forward + backward)": r[f"{dtype}, {coding}, ms"],
                             "relative error of E vs exact (x 1e-4)": 1e4 * r[f"{dtype}, rel err E vs exact"],
                             "1 - gradient cosine vs exact (x 1e-3)": 1e3 * (1 - r[f"{dtype}, grad cosine vs exact"])})
    label = run_label("paper sizes", "generated clips (tools/lt_levels_bench.py)", 0, ", ".join(dict.fromkeys(r["device"] for r in lines)), commit)
    label["machine"] = "; ".join(dict.fromkeys(f'{r["device"]}: {r["machine"]}' for r in lines))
    with tool_run(out, "lt_levels", label) as bench:        # bench: the benchmarks/ folder of out
        write_table(pd.DataFrame(rows), "benchmark_lt_levels", bench, "L_t's levels form at the paper's size: codes per clip or per pair, float32 or bfloat16 product", label,
                    notes="64x48 heatmaps, 17 joints, 256x192 crops, clips of 5 frames (T = 2, 4 frame pairs each), forward and backward of E "
                          "for every pair, median of 10 after 2 warm-ups. 'frames coded once per clip' is what tpdi_loss does "
                          "(expected_difference_levels_clip); 'each pair coded' gives each pair its own levels and codes its two frames (float32 and "
                          "each pair coded: the default form until commit 85fbdf6). Errors "
                          "and cosines against the exact double sum on two other frame pairs (errors depend on the levels, not on the coding). "
                          "The whole training step's share is in benchmark_gpu_breakdown.md and benchmark_training_breakdown.md. The JSON lines "
                          "are in paper_tables/benchmarks/lt_levels/ (the H200's was timed at commit 78431a4: the device machine's git copy "
                          "named an older commit, but cdpose/trajectory.py's SHA-256 there matched 78431a4's).")

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("job", nargs="?", default="time", choices=["time", "table"])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--clips", type=int, default=32)
    p.add_argument("--levels", type=int, default=16)
    p.add_argument("--json", nargs="*", default=[])
    p.add_argument("--out", default="paper_tables", help="tables folder: the table goes to its benchmarks/")
    p.add_argument("--commit", default="")
    a = p.parse_args()
    if a.job == "table":
        table([json.loads(l) for f in a.json for l in open(f) if l.strip()], a.out, a.commit or None)
    else: print(json.dumps(main(a.device, a.clips, a.levels)))
