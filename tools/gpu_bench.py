"""The GPU check's measurements (run by tools/gpu_check.sh): paper-size training throughput and peak memory
under torchrun (NCCL on GPUs, gloo on CPU), and streaming video inference against the single-frame baseline.
`table` writes benchmark_gpu.md, benchmark_gpu_breakdown.md and benchmark_gpu_inference.md into the benchmarks/ folder of
`--out` (default paper_tables, so paper_tables/benchmarks/), records them there in manifest_gpu_check.json and rewrites the
indexes (cdpose.tables.tool_run). `--toy` shrinks every model so that the same code runs on a CPU in seconds
(tests/test_paper_path.py::test_gpu_check_runs_at_toy_size_on_cpu)."""
import argparse, json, os, time
from dataclasses import replace
from pathlib import Path

import torch
import torch.distributed as dist

from cdpose.dataset import load_posetrack
from cdpose.clips import PoseTrackClips, epoch_order
from cdpose.inference import Predictor, annotated_boxes
from cdpose.model import CDPose, cdpose_loss, compile_parts
from cdpose.scene import SynthConfig
from cdpose.synthetic import TINY_SYNTH, generate_synthposetrack, synth_complete, synth_video
from cdpose.profiles import profile
from cdpose.step_cost import step_breakdown

# dense bf16 tensor-core peaks (TFLOP/s) from the vendors' data sheets, by the name torch.cuda reports; MFU is measured
# model FLOPs per second over this (no peak: no MFU)
PEAK_BF16_TFLOPS = {"H200": 989.4, "H200 NVL": 835.0, "H100 80GB HBM3": 989.4, "H100 SXM": 989.4, "H100 PCIe": 756.0,
                    "H100 NVL": 835.0, "A100": 312.0, "L40S": 362.0}

def peak_flops(device_name: str) -> float | None:
    "The card's dense bf16 peak in FLOP/s (`PEAK_BF16_TFLOPS`, the longest name it contains), or None if none is listed."
    hit = sorted((k for k in PEAK_BF16_TFLOPS if k in device_name), key=len)
    return PEAK_BF16_TFLOPS[hit[-1]] * 1e12 if hit else None

def step_flops(model, batch: dict, cfg) -> float:
    """FLOPs of one training step's forward, Eq. 11 + L_t and backward on `batch`, counted by torch's FlopCounterMode (the
    counter `cdpose params` uses), once: the model FLOPs of model-FLOPs utilisation."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc:
        with torch.autocast(batch["images"].device.type, dtype=torch.bfloat16):
            loss = cdpose_loss(model, batch, model(batch["images"]), cfg.loss)["loss"]
        loss.backward()
    model.zero_grad(set_to_none=True)
    return float(fc.get_total_flops())

def paper_config(backbone: str, toy: bool):
    "The paper profile's configuration for `backbone`; with `toy`, the tiny profile's sizes on the same code path."
    if not toy: return profile("paper", [f"model.backbone={backbone}"])
    if backbone.startswith("hrnet"):    # HRNet's lowest branch is 1/32 of the input: 128x96 is the smallest size that fits
        return profile("tiny", ["model.backbone=hrnet_w18_small", "model.input_size=(128,96)", "model.heatmap_size=(32,24)"])
    return profile("tiny")

def data_root(work: Path) -> Path:
    root = work / "synth"
    if not synth_complete(root): generate_synthposetrack(root, seed=0, config=TINY_SYNTH, progress=False)
    return root

def train(args):
    world, rank = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))
    cuda = torch.cuda.is_available() and not args.toy
    if world > 1: dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu")
    if cuda: torch.cuda.set_device(device)
    cfg = paper_config(args.backbone, args.toy)
    work = Path(args.work); work.mkdir(parents=True, exist_ok=True)
    if rank == 0: data_root(work)
    if world > 1: dist.barrier()
    ds = PoseTrackClips(load_posetrack(data_root(work), "train", progress=False).videos, cfg.clip, train=True, seed=rank, cache_images=True)
    per_rank = max(1, args.batch // world)
    batch = torch.utils.data.default_collate([ds[(rank * per_rank + i) % len(ds)] for i in range(per_rank)])
    batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
    model = CDPose(cfg.model).to(device)
    one = {k: v[:1] if torch.is_tensor(v) else v for k, v in batch.items()}
    flops_clip = step_flops(model, one, cfg)                    # counted eager: the same model FLOPs for every row
    # the parts compiled in place (TrainConfig.compile); at toy size traced by dynamo without code generation (inductor
    # takes minutes on a CPU)
    if args.compile: compile_parts(model, args.compile, backend="eager" if args.toy else "inductor")
    sync_bn = cuda and world > 1 and any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    if sync_bn: model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None) if world > 1 else model
    opt = torch.optim.AdamW(ddp.parameters(), lr=1e-4, fused=cuda)     # as the Trainer: fused on a GPU
    times, t_first = [], time.perf_counter()
    for step in range(args.warmup + args.steps):
        if cuda: torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda or args.toy):
            out = ddp(batch["images"]); loss = cdpose_loss(model, batch, out, cfg.loss)["loss"]
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        if cuda: torch.cuda.synchronize()
        if step >= args.warmup: times.append(time.perf_counter() - t)
        if step == 0: first_s = time.perf_counter() - t_first
    step_s = sorted(times)[len(times) // 2]
    peak = peak_flops(torch.cuda.get_device_name(device)) if cuda else None
    row = {"measure": f"training, {cfg.model.backbone} {'x'.join(map(str, cfg.model.input_size))}, T={cfg.clip.T}",
           "compile": (args.compile + (" (dynamo, no code generated)" if args.toy else "")) if args.compile else "off",
           "first step (s)": round(first_s, 1),
           "AdamW": "fused" if cuda else "for-loop", "processes": world, "global batch (clips)": per_rank * world,
           "bf16": cuda or args.toy, "SyncBatchNorm": sync_bn,
           "backend": dist.get_backend() if world > 1 else "none", "median step (s)": round(step_s, 4),
           "clips/s": round(per_rank * world / step_s, 2),
           "peak memory per GPU (GiB)": round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if cuda else None,
           "GFLOP per clip (step)": round(flops_clip / 1e9, 1),
           "MFU (%)": round(100 * flops_clip * per_rank * world / step_s / (world * peak), 1) if peak else None}
    name = args.backbone + (f"_compile_{args.compile}" if args.compile else "")
    if rank == 0: (work / f"train_{name}.json").write_text(json.dumps(row))
    if world > 1: dist.destroy_process_group()

def breakdown(args):
    "Where a paper-size ViT-B step's time goes, and L_t's cost in several forms (levels, top-k, the exact double sum), on one GPU."
    cuda = torch.cuda.is_available() and not args.toy
    device = torch.device("cuda" if cuda else "cpu")
    cfg = paper_config("vit_base", args.toy)
    work = Path(args.work); work.mkdir(parents=True, exist_ok=True)
    ds = PoseTrackClips(load_posetrack(data_root(work), "train", progress=False).videos, cfg.clip, train=True, seed=0, cache_images=True)
    batch = torch.utils.data.default_collate([ds[i % len(ds)] for i in range(args.batch)])
    batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
    torch.manual_seed(0)
    parts = step_breakdown(CDPose(cfg.model).to(device), batch, cfg.loss, device, args.steps, bf16=True,
                           lt_forms=tuple(dict(form="levels", levels=n) for n in (8, 32)) + tuple(dict(form="topk", k=k) for k in (8, 16, 32, 64))
                           + (dict(form="exact"),))
    whole = parts["whole step (incl. optimizer)"]
    rows = [{"part": k, "seconds": round(v, 4), "% of whole step": round(100 * v / whole, 1)} for k, v in parts.items()]
    (work / "breakdown.json").write_text(json.dumps({"batch": args.batch, "rows": rows}))

def loader(args):
    """The paper-size ViT-B step fed by the real DataLoader from JPEG frames on disk (photographic 1920x1080 frames with
    PoseTrack's crowds, no image cache, the `frames` order, `--workers` processes) for `--seconds`: end-to-end clips/s
    against the fixed-batch rate of the `train` job, and the share of the time the step waited for data."""
    cuda = torch.cuda.is_available() and not args.toy
    device = torch.device("cuda" if cuda else "cpu")
    cfg = paper_config("vit_base", args.toy)
    work, n = Path(args.work), 8 if args.toy else 24
    root = work / f"photographic_{'toy' if args.toy else '1920x1080'}"
    if not synth_complete(root):
        generate_synthposetrack(root, seed=0, workers=os.cpu_count() or 1, progress=False, config=SynthConfig(
            train_videos=2 if args.toy else 8, val_videos=0, min_frames=n, max_frames=n, dense_labelled=n,
            image_size=(240, 135) if args.toy else (1920, 1080), sensor_noise=6.0, jpeg_quality=92, min_people=7, max_people=10))
    ds = PoseTrackClips(load_posetrack(root, "train", progress=False).videos, cfg.clip, train=True, seed=0)
    idx = [i for e in range(100) for i in epoch_order(ds.samples, args.batch, 0, e)]
    plan = [idx[k:k + args.batch] for k in range(0, len(idx) - args.batch + 1, args.batch)]
    assert len(plan) > args.warmup, f"{len(plan)} batches: fewer than the warm-up steps"
    dl = torch.utils.data.DataLoader(ds, batch_sampler=plan, num_workers=args.workers, pin_memory=cuda)
    model = CDPose(cfg.model).to(device); opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    steps, clips, waited, t = 0, 0, 0.0, time.perf_counter()
    for batch in dl:
        if steps == args.warmup: clips, waited, t0 = 0, 0.0, t     # timed from the end of the last warm-up step
        waited += time.perf_counter() - t
        batch = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda or args.toy):
            loss = cdpose_loss(model, batch, model(batch["images"]), cfg.loss)["loss"]
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        if cuda: torch.cuda.synchronize()
        steps, clips, t = steps + 1, clips + len(batch["images"]), time.perf_counter()
        if steps > args.warmup and t - t0 >= args.seconds: break
    wall = t - t0
    fixed = json.loads((work / "train_vit_base.json").read_text()) if (work / "train_vit_base.json").exists() else None
    fixed_rate = fixed["clips/s"] / fixed["processes"] if fixed else None
    (work / "loader.json").write_text(json.dumps({
        "measure": f"training from JPEG frames on disk, {cfg.model.backbone} {'x'.join(map(str, cfg.model.input_size))}, "
                   f"T={cfg.clip.T} (one process)", "workers": args.workers,
        "cores": os.cpu_count(), "batch": args.batch, "timed (s)": round(wall, 1), "steps timed": steps - args.warmup,
        "clips/s": round(clips / wall, 1), "waiting for data (%)": round(100 * waited / wall, 1),
        "fixed-batch clips/s": fixed_rate, "end to end / fixed batch (%)": round(100 * clips / wall / fixed_rate, 1) if fixed_rate else None}))

def infer(args):
    cuda = torch.cuda.is_available() and not args.toy
    device = "cuda" if cuda else "cpu"
    cfg = paper_config("vit_base", args.toy)
    video, images = synth_video(0, "val", 900, replace(TINY_SYNTH, min_frames=args.frames, max_frames=args.frames,
                                                       dense_labelled=args.frames, min_people=7, max_people=10))
    boxes, tracks = annotated_boxes(video)
    torch.manual_seed(0)
    rows = []
    for name, mc in (("streaming, full model", cfg.model), ("single-frame baseline", replace(cfg.model, semantic_space=False, fusion=False))):
        p = Predictor(CDPose(mc).eval(), cfg.clip.T, device, batch_size=64)
        p.predict_video(images[:3], boxes[:3], tracks[:3])               # warm-up
        if cuda: torch.cuda.synchronize()
        t = time.perf_counter(); p.predict_video(images, boxes, tracks)
        if cuda: torch.cuda.synchronize()
        dt = time.perf_counter() - t
        rows.append({"measure": f"inference, {name} ({mc.backbone}, T={cfg.clip.T})", "person-frames": p.stats["person_frames"],
                     "seconds": round(dt, 3), "person-frames/s": round(p.stats["person_frames"] / dt, 1)})
    rows[0]["streaming / baseline"] = round(rows[0]["person-frames/s"] / rows[1]["person-frames/s"], 3)
    Path(args.work, "infer.json").write_text(json.dumps(rows))

def table(args):
    import pandas as pd
    from cdpose.tables import run_label, tool_run, write_table
    work = Path(args.work)
    read = lambda name: json.loads((work / name).read_text()) if (work / name).exists() else None   # a job that failed or ran out of time writes no table
    train_rows = [json.loads(p.read_text()) for p in sorted(work.glob("train_*.json"))]
    infer_rows, bd, feed = read("infer.json"), read("breakdown.json"), read("loader.json")
    dev = "cpu (toy sizes)" if args.toy else torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    label = run_label("paper" if not args.toy else "toy (CPU test of the GPU check; numbers mean nothing)", "SynthPoseTrack clips (generated)", 0, dev)
    with tool_run(args.out, "gpu_check", label) as out:      # out: the benchmarks/ folder of --out
        if train_rows: write_table(pd.DataFrame(train_rows), "benchmark_gpu", out, "GPU check: paper-size training throughput and memory", label,
                    notes="Median of the timed steps after warm-up; one fixed batch per process (no data loading), forward, Eq. 11 + L_t, "
                          "backward and AdamW. bf16 autocast. MFU: the step's FLOPs per clip (forward, loss and backward of one clip, "
                          "counted once by torch's FlopCounterMode, the counter of `cdpose params`) times clips/s, over the card's dense "
                          "bf16 peak (tools/gpu_bench.py PEAK_BF16_TFLOPS; none on a CPU). compile: torch.compile of the model's "
                          "parts in that mode (`cdpose.model.compile_parts`; the loss terms eager); first step: its wall time, "
                          "compilation included. What ran, per row: " + "; ".join(
                              f"{r['measure'].split(',')[1].split()[0]}{'' if r.get('compile', 'off') == 'off' else ' compiled'}: {r['processes']} process(es), backend {r['backend']}, "
                              f"SyncBatchNorm {'on' if r['SyncBatchNorm'] else 'off'}" for r in train_rows) + ".")
        if bd: write_table(pd.DataFrame(bd["rows"]), "benchmark_gpu_breakdown", out, "GPU check: where a paper-size training step's time goes",
                    label, notes=f"ViT-B 256x192, T=2, one process, batch {bd['batch']} clips, bf16 autocast, untrained weights. Each part is "
                                 "timed alone, forward and backward, on the inputs of the same batch (fastest of the timed calls after a "
                                 "warm-up); the whole steps include AdamW. L_t rows: the default form (levels-16: every pair of 64x48 positions, "
                                 "PD's values on 16 thresholds), then levels-8 and -32, top-k at several k, and the exact double sum (05_trajectory).")
        if feed: write_table(pd.DataFrame([feed]), "benchmark_gpu_loader", out, "GPU check: training fed from JPEG frames on disk", label,
                    notes=f"The paper-size ViT-B step fed by the real DataLoader ({feed['workers']} worker processes on a "
                          f"{feed['cores']}-core machine, batches of {feed['batch']} in the `frames` order, no image cache) from generated "
                          "photographic 1920x1080 frames (sensor noise 6, JPEG q92) with 7-10 persons per video, after a warm-up. "
                          "'waiting for data': the share of the timed wall time the loop spent waiting for the next batch; "
                          "'fixed-batch clips/s': the same step on one fixed batch (benchmark_gpu, per process).")
        if infer_rows: write_table(pd.DataFrame(infer_rows), "benchmark_gpu_inference", out, "GPU check: streaming inference against the single-frame baseline",
                    label, notes=f"One generated video of {args.frames} frames, every frame annotated, untrained weights (time does not depend on them), "
                                 "frames in memory, batches of 64 crops, after a warm-up.")

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("job", choices=["train", "breakdown", "loader", "infer", "table"])
    p.add_argument("--workers", type=int, default=6); p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--backbone", default="vit_base")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10); p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--toy", action="store_true")
    p.add_argument("--compile", default="", help="train: torch.compile mode of the model's parts (default: eager)")
    p.add_argument("--work", default="runs/gpu_check"); p.add_argument("--out", default="paper_tables", help="tables folder: the tables go to its benchmarks/")
    a = p.parse_args()
    {"train": train, "breakdown": breakdown, "loader": loader, "infer": infer, "table": table}[a.job](a)
