"""The paper path: settings.ini drives the data, detection files and COCO checkpoints; the paper profile refuses to start
without its checkpoint; the full-size rehearsal of `cdpose tables --profile paper`; the GPU check at toy size."""
import json, os, shutil, subprocess, sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cdpose

# the tiny profile with a standard ViT-T (12 blocks, 256-channel head) that starts from a released checkpoint, as paper does
PRETRAINED_TINY = ["pretrained=True", "model.backbone_depth=None", "model.head_channels=256", "stage1.epochs=0", "stage2.epochs=1"]

def _ini(path: Path, **values) -> Path:
    path.write_text("[cdpose]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
    return path

@pytest.fixture(scope="module")
def released(tmp_path_factory):
    "A ViT-tiny checkpoint in the ViTPose release layout (the tiny profile's backbone) and an HRNet one."
    from cdpose.backbone import write_released_checkpoint
    d = tmp_path_factory.mktemp("ckpt")
    return {"vit": write_released_checkpoint(d / "vitpose_tiny.pth", "vit_tiny", (64, 48)),
            "hrnet": write_released_checkpoint(d / "hrnet_w18_small.pth", "hrnet_w18_small", (64, 48))}

def test_paper_run_without_a_checkpoint_refuses_to_start(tiny_synth, tmp_path):
    ini = _ini(tmp_path / "settings.ini", posetrack17_root=tiny_synth / "pt17")
    r = run_cdpose("train", "--profile", "paper", "--dataset", "posetrack17", "--settings", ini, "--out", tmp_path / "run", "--quiet",
                   "--gt-boxes")      # (without it, the missing detection file is refused first: tests/test_protocol.py)
    assert r.returncode == 2 and "vit_checkpoint" in r.stderr and "--from-scratch" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "run" / "checkpoints").exists() and not (tmp_path / "run" / "metrics.csv").exists()
    r = run_cdpose("train", "--profile", "paper", "--settings", ini, "--out", tmp_path / "run2", "--quiet")   # no data set named: no fallback
    assert r.returncode == 2 and "no data set" in r.stderr and "--dataset" in r.stderr, r.stderr
    r = run_cdpose("train", "--profile", "paper", "--dataset", "posetrack18", "--settings", ini, "--out", tmp_path / "run3", "--quiet")
    assert r.returncode == 2 and "posetrack18_root is not set" in r.stderr, r.stderr

def test_configured_posetrack17_root_is_the_data_read(tiny_synth, tmp_path, released):
    from cdpose.synthetic import write_synthetic_detections
    from cdpose.dataset import load_posetrack
    dets = write_synthetic_detections(load_posetrack(tiny_synth / "pt17", "val", progress=False).videos, tmp_path / "dets17.json")
    ini = _ini(tmp_path / "settings.ini", posetrack17_root=tiny_synth / "pt17", detections17=dets, vit_checkpoint=released["vit"])
    run = tmp_path / "run"
    r = run_cdpose("train", "--profile", "tiny", "--dataset", "posetrack17", "--settings", ini, "--out", run, "--quiet", "--device", "cpu",
                   "--set", *PRETRAINED_TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    man = json.loads((run / "manifest.json").read_text())
    assert man["data_root"] == str((tiny_synth / "pt17").resolve()) and man["site"]["dataset"] == "posetrack17"
    assert man["site"]["data_root"]["from"] == f"posetrack17_root from {ini}"
    assert man["site"]["detections"] == {"path": str(dets.resolve()), "from": f"detections17 from {ini}"}
    assert man["config"]["detections"] == str(dets.resolve())
    assert man["site"]["init_checkpoint"]["from"] == f"vit_checkpoint from {ini}"
    assert man["init"]["checkpoint"] == str(Path(released["vit"]).resolve()) and man["init"]["tensors"] > 50
    assert man["final"]["step"] >= 1 and (run / "checkpoints" / "final.pt").exists()
    # the backbone the run started from is the file's: one step at a tiny rate leaves it close to the imported weights
    import torch
    from cdpose.backbone import load_state_dict_file
    w = torch.load(run / "checkpoints" / "final.pt", weights_only=False)["model"]["backbone.vit.blocks.0.attn.qkv.weight"]
    ref = load_state_dict_file(released["vit"])["backbone.blocks.0.attn.qkv.weight"]
    assert (w - ref).abs().max() < 0.05

def test_bad_site_files_fail_before_training_naming_file_and_setting(tiny_synth, tmp_path, released):
    base = dict(posetrack17_root=tiny_synth / "pt17")
    cases = [  # (settings, what the one-line error must name)
        (dict(base, vit_checkpoint=tmp_path / "missing.pth"), ["missing.pth", "vit_checkpoint"]),
        (dict(base, vit_checkpoint=released["hrnet"]), ["hrnet_w18_small.pth", "holds a hrnet checkpoint", "vit_checkpoint from"]),
        (dict(posetrack17_root=tmp_path, vit_checkpoint=released["vit"]), ["annotations", "posetrack17_root from"]),
        (dict(base, vit_checkpoint=released["vit"], detections17=tmp_path / "other_split.json"), ["other_split.json", "detections17 from", "unknown images"]),
    ]
    (tmp_path / "other_split.json").write_text(json.dumps([{"image_id": 99, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 1}]))
    garbage = tmp_path / "garbage.pth"; garbage.write_bytes(b"not a checkpoint")
    cases.append((dict(base, vit_checkpoint=garbage), ["garbage.pth", "not a readable PyTorch checkpoint", "vit_checkpoint from"]))
    for i, (values, words) in enumerate(cases):
        ini = _ini(tmp_path / f"s{i}.ini", **values)
        run = tmp_path / f"run{i}"
        r = run_cdpose("train", "--profile", "tiny", "--dataset", "posetrack17", "--settings", ini, "--out", run, "--quiet", "--device", "cpu",
                       "--set", *PRETRAINED_TINY)
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        assert r.returncode == 2 and "Traceback" not in r.stderr and all(w in last for w in words), (i, r.stderr[-1500:])
        assert not (run / "checkpoints").exists(), i

def test_recipe_per_backbone_family():
    from cdpose.profiles import profile
    assert profile("paper").stage2.lr == 5e-4 and profile("paper", ["model.backbone=hrnet_w48"]).stage2.lr == 1e-3
    assert profile("paper", ["model.backbone=hrnet_w48", "stage2.lr=2e-4"]).stage2.lr == 2e-4
    assert profile("paper").stage1.epochs == 0 and profile("paper").pretrained and not profile("smoke").pretrained

@pytest.mark.slow
def test_reported_numbers_ship_with_the_package(tmp_path):
    "A clone with no shared/ anywhere above it: the tables still carry the paper's rows."
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    assert not any((d / "shared" / "paper").exists() for d in [clone, *clone.parents])
    r = run_cdpose("tables", "--profile", "tiny", "--out", tmp_path / "t", "--device", "cpu", "--runs-dir", tmp_path / "runs",
                   "--only", "train_models", "tables123", "table4", cwd=clone)
    assert r.returncode == 0, r.stderr[-3000:]
    t1, t4 = (tmp_path / "t" / "table1.md").read_text(), (tmp_path / "t" / "table4.md").read_text()
    assert "paper: DCPose (HRNet-W48)" in t1 and "paper: ours (ViT-B)" in t1 and "paper: DSTA" in t4
    from cdpose.tables import reported_numbers
    rep = reported_numbers("ablations")
    assert rep.set_index("row").loc["Z only", "mean_map"] == 12.7 and rep["source"].str.startswith("Table").all()

@pytest.mark.slow
def test_rehearsal_of_the_paper_path(tmp_path):
    """`cdpose tables --profile paper --rehearse --launcher torchrun`: paper-size models, through a settings.ini only, each
    run a torchrun process, every table labelled; then `--plan` finds every run finished."""
    out, runs = tmp_path / "tables", tmp_path / "runs"
    r = run_cdpose("tables", "--profile", "paper", "--rehearse", "--launcher", "torchrun", "--out", out, "--runs-dir", runs,
                   "--device", "cpu", cwd=ROOT)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "launcher torchrun" in r.stderr + r.stdout and list(runs.rglob("torchrun.log"))
    plan = run_cdpose("tables", "--profile", "paper", "--rehearse", "--plan", "--runs-dir", runs, "--device", "cpu", cwd=ROOT)
    assert plan.returncode == 0, plan.stderr[-3000:]
    planned = [l for l in plan.stdout.splitlines() if l.split()[:1] in (["reused"], ["resumes"], ["queued"])]
    assert len(planned) >= 14 and all(l.startswith("reused") for l in planned), plan.stdout   # nothing to train again
    man = json.loads((out / "manifest_paper.json").read_text())
    assert [n["status"] for n in man["notebooks"]] == ["ok"] * len(list((ROOT / "nbs" / "experiments").glob("*.ipynb")))
    site = runs / "site"
    for name in ("table1", "table2", "table3", "table4", "table5", "table6", "benchmarks/benchmark_training_result", "benchmarks/benchmark_inference"):
        assert "rehearsal" in (out / f"{name}.md").read_text(), name
    assert (out / "figure3.png").stat().st_size > 10000
    for name in ("table5", "table6"):
        assert "detected boxes (detections_pt17_val.json), final checkpoint, flip test on" in (out / f"{name}.md").read_text()
    t1 = (out / "table1.md").read_text()          # the rehearsal's Tables 1-3: detected boxes only, and they say so
    assert "CDPose (full), detected boxes" in t1 and "rows on ground-truth boxes are left out" in t1
    data = json.loads((runs / "paper_seed0" / "data.json").read_text())
    assert set(data["releases"]) == {"17", "18", "21"} and data["settings_file"] == str(site / "settings.ini")
    for v in ("17", "18", "21"):
        assert data["releases"][v]["root"] == str(site / f"PoseTrack{v}")
        for kind in ("full", "baseline"):
            m = json.loads((runs / "paper_seed0" / f"pt{v}" / kind / "manifest.json").read_text())
            assert m["site"]["data_root"]["path"] == str(site / f"PoseTrack{v}") and m["site"]["detections"]["path"] == str(site / f"detections_pt{v}_val.json")
            assert m["init"]["checkpoint"] == str(site / "vitpose_base_coco_256x192.pth") and m["config"]["model"]["backbone"] == "vit_base"
            assert m["config"]["model"]["input_size"] == [256, 192] and m["config"]["clip"]["T"] == 2 and m["config"]["amp_cpu"]
            assert m["config"]["stage1"]["epochs"] == 0 and m["init"]["head"] == (kind == "baseline")
    ddp = json.loads((runs / "paper_seed0" / "pt21" / "full" / "manifest.json").read_text())
    assert ddp["world_size"] == 2
    h = json.loads((runs / "paper_seed0" / "hrnet_w48" / "full" / "manifest.json").read_text())
    assert h["init"]["checkpoint"] == str(site / "pose_hrnet_w48_256x192.pth") and h["config"]["stage2"]["lr"] == 1e-3
    assert not list(runs.rglob("last.pt")) and not list(runs.rglob("best.pt"))     # lean: a finished paper-size run keeps final.pt only
    t4 = (out / "table4.csv").read_text()
    assert "ours: CDPose (HRNet-W48)" in t4

@pytest.mark.slow
def test_gpu_check_runs_at_toy_size_on_cpu(tmp_path):
    env = dict(os.environ, GPU_CHECK_OUT=str(tmp_path / "out"), GPU_CHECK_WORK=str(tmp_path / "work"), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    r = subprocess.run(["bash", str(ROOT / "tools" / "gpu_check.sh"), "--toy"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    bench = tmp_path / "out" / "benchmarks"          # GPU_CHECK_OUT is the tables folder; the GPU check's tables go to its benchmarks/
    md = (bench / "benchmark_gpu.md").read_text()
    assert "hrnet_w18_small" in md and "vit_tiny" in md and "gloo" in md and "toy" in md
    inf = (bench / "benchmark_gpu_inference.csv").read_text()
    assert "streaming, full model" in inf and "single-frame baseline" in inf
    bd = (bench / "benchmark_gpu_breakdown.csv").read_text()
    for part in ("backbone", "L_s (second pass", "L_t (top-8)", "L_t (top-64)", "L_t (exact)", "fusion", "whole step without L_t"):
        assert part in bd, part
    assert "GFLOP per clip (step)" in md and "MFU (%)" in md          # issue 31: MFU's FLOPs, counted (no peak on a CPU)
    import pandas as pd                                              # ... and ViT's step again with its parts compiled
    rows = pd.read_csv(bench / "benchmark_gpu.csv")
    vit = rows[rows.measure.str.contains("vit_tiny")].set_index("compile")
    compiled = "default (dynamo, no code generated)"
    assert sorted(vit.index) == [compiled, "off"] and vit.loc[compiled, "clips/s"] > 0
    assert vit.loc[compiled, "GFLOP per clip (step)"] == vit.loc["off", "GFLOP per clip (step)"]   # counted once, eager
    feed = (bench / "benchmark_gpu_loader.csv").read_text()
    assert "training from JPEG frames on disk" in feed and "end to end / fixed batch (%)" in feed
    assert json.loads((bench / "manifest_gpu_check.json").read_text())["tables"] == [
        "benchmark_gpu.md", "benchmark_gpu_breakdown.md", "benchmark_gpu_loader.md", "benchmark_gpu_inference.md"]
    assert "[benchmark_gpu_inference.md](benchmark_gpu_inference.md)" in (bench / "README.md").read_text()

def test_predict_with_a_configured_release_uses_its_whole_split_detection_file(tiny_synth, tiny_run, tmp_path):
    "The detection files DCPose and mmpose distribute cover a whole split: predict takes the video's records from it."
    from cdpose.synthetic import write_synthetic_detections
    from cdpose.dataset import load_posetrack, load_detections
    videos = load_posetrack(tiny_synth / "pt18", "train", progress=False).videos
    assert len(videos) >= 2
    dets = write_synthetic_detections(videos, tmp_path / "train_boxes.json", false_boxes=False, duplicates=False)
    ini = _ini(tmp_path / "settings.ini", posetrack18_root=tiny_synth / "pt18", detections18=dets)
    v = videos[1]                                              # (detections18 is a train-split file here)
    frames = tiny_synth / "pt18" / "images" / "train" / v.name
    r = run_cdpose("predict", "--checkpoint", tiny_run / "checkpoints" / "final.pt", "--frames", frames, "--dataset", "posetrack18",
                   "--split", "train", "--settings", ini, "--out", tmp_path / "pred", "--no-video", "--json", "--quiet")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    mine = load_detections(dets, [v], other_images="skip")
    assert out["person_frames"] == sum(len(d) for d in mine.values()) > 0
    assert Path(out["json"]).name == f"{v.name}.json"
    # a file none of whose records is for this video is still an error, and it says what ids are expected
    other = write_synthetic_detections(videos[:1], tmp_path / "first_only.json", false_boxes=False, duplicates=False)
    r = run_cdpose("predict", "--checkpoint", tiny_run / "checkpoints" / "final.pt", "--frames", frames, "--boxes", other,
                   "--out", tmp_path / "pred2", "--no-video", "--quiet")
    assert r.returncode == 2 and "10000000000 + 10000 x video number + frame index" in r.stderr, r.stderr[-1500:]
