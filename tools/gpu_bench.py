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
from cdpose.clips import PoseTrackClips
from cdpose.inference import Predictor, annotated_boxes
from cdpose.model import CDPose, cdpose_loss
from cdpose.synthetic import TINY_SYNTH, generate_synthposetrack, synth_video
from cdpose.profiles import profile
from cdpose.step_cost import step_breakdown

def paper_config(backbone: str, toy: bool):
    "The paper profile's configuration for `backbone`; with `toy`, the tiny profile's sizes on the same code path."
    if not toy: return profile("paper", [f"model.backbone={backbone}"])
    if backbone.startswith("hrnet"):    # HRNet's lowest branch is 1/32 of the input: 128x96 is the smallest size that fits
        return profile("tiny", ["model.backbone=hrnet_w18_small", "model.input_size=(128,96)", "model.heatmap_size=(32,24)"])
    return profile("tiny")

def data_root(work: Path) -> Path:
    root = work / "synth"
    if not (root / "annotations").is_dir(): generate_synthposetrack(root, seed=0, config=TINY_SYNTH, progress=False)
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
    sync_bn = cuda and world > 1 and any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    if sync_bn: model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None) if world > 1 else model
    opt = torch.optim.AdamW(ddp.parameters(), lr=1e-4)
    times = []
    for step in range(args.warmup + args.steps):
        if cuda: torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda or args.toy):
            out = ddp(batch["images"]); loss = cdpose_loss(model, batch, out, cfg.loss)["loss"]
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        if cuda: torch.cuda.synchronize()
        if step >= args.warmup: times.append(time.perf_counter() - t)
    step_s = sorted(times)[len(times) // 2]
    row = {"measure": f"training, {cfg.model.backbone} {'x'.join(map(str, cfg.model.input_size))}, T={cfg.clip.T}",
           "processes": world, "global batch (clips)": per_rank * world, "bf16": cuda or args.toy, "SyncBatchNorm": sync_bn,
           "backend": dist.get_backend() if world > 1 else "none", "median step (s)": round(step_s, 4),
           "clips/s": round(per_rank * world / step_s, 2),
           "peak memory per GPU (GiB)": round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if cuda else None}
    if rank == 0: (work / f"train_{args.backbone}.json").write_text(json.dumps(row))
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

def infer(args):
    cuda = torch.cuda.is_available() and not args.toy
    device = "cuda" if cuda else "cpu"
    cfg = paper_config("vit_base", args.toy)
    video, images = synth_video(0, "val", 900, replace(TINY_SYNTH, min_frames=args.frames, max_frames=args.frames, dense_labelled=args.frames))
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
    infer_rows, bd = read("infer.json"), read("breakdown.json")
    dev = "cpu (toy sizes)" if args.toy else torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    label = run_label("paper" if not args.toy else "toy (CPU test of the GPU check; numbers mean nothing)", "SynthPoseTrack clips (generated)", 0, dev)
    with tool_run(args.out, "gpu_check", label) as out:      # out: the benchmarks/ folder of --out
        if train_rows: write_table(pd.DataFrame(train_rows), "benchmark_gpu", out, "GPU check: paper-size training throughput and memory", label,
                    notes="Median of the timed steps after warm-up; one fixed batch per process (no data loading), forward, Eq. 11 + L_t, "
                          "backward and AdamW. bf16 autocast. What ran, per row: " + "; ".join(
                              f"{r['measure'].split(',')[1].split()[0]}: {r['processes']} process(es), backend {r['backend']}, "
                              f"SyncBatchNorm {'on' if r['SyncBatchNorm'] else 'off'}" for r in train_rows) + ".")
        if bd: write_table(pd.DataFrame(bd["rows"]), "benchmark_gpu_breakdown", out, "GPU check: where a paper-size training step's time goes",
                    label, notes=f"ViT-B 256x192, T=2, one process, batch {bd['batch']} clips, bf16 autocast, untrained weights. Each part is "
                                 "timed alone, forward and backward, on the inputs of the same batch (fastest of the timed calls after a "
                                 "warm-up); the whole steps include AdamW. L_t rows: the default form (levels-16: every pair of 64x48 positions, "
                                 "PD's values on 16 thresholds), then levels-8 and -32, top-k at several k, and the exact double sum (05_trajectory).")
        if infer_rows: write_table(pd.DataFrame(infer_rows), "benchmark_gpu_inference", out, "GPU check: streaming inference against the single-frame baseline",
                    label, notes=f"One generated video of {args.frames} frames, every frame annotated, untrained weights (time does not depend on them), "
                                 "frames in memory, batches of 64 crops, after a warm-up.")

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("job", choices=["train", "breakdown", "infer", "table"])
    p.add_argument("--backbone", default="vit_base")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10); p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--toy", action="store_true")
    p.add_argument("--work", default="runs/gpu_check"); p.add_argument("--out", default="paper_tables", help="tables folder: the tables go to its benchmarks/")
    a = p.parse_args()
    {"train": train, "breakdown": breakdown, "infer": infer, "table": table}[a.job](a)
