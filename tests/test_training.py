"Training at the tiny size: kill-and-resume equality, 2-process DDP equality, NaN and checkpoint errors, the CLI."
import csv, os, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from conftest import run_cdpose

EXE = Path(sys.executable).parent
EXACT = ["stage", "epoch", "step", "lr", "loss", "L_h1", "L_h2", "L_c", "L_s", "L_t", "val_mAP"]

def _train_cmd(data, out, *sets):
    return [str(EXE / "cdpose"), "train", "--profile", "tiny", "--data", str(data), "--out", str(out), "--quiet", "--device", "cpu",
            "--set", "checkpoint_every=1", "stage1.epochs=2", "stage2.epochs=3", *sets]

def _metrics(run, cols=EXACT):
    return [{k: r[k] for k in cols} for r in csv.DictReader(open(Path(run) / "metrics.csv"))]

def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=False)["model"]

@pytest.fixture(scope="module")
def reference_run(tiny_synth, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    r = subprocess.run(_train_cmd(tiny_synth / "pt18", out), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return out

def _kill_when(proc, ckpt, stage, min_step, timeout=120):
    "SIGKILL `proc` once its last checkpoint reaches (stage, step >= min_step)."
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: return False
        if ckpt.exists():
            try: ck = torch.load(ckpt, map_location="cpu", weights_only=False)
            except Exception: ck = None
            if ck and (ck["stage"], ck["step"]) >= (stage, min_step):
                proc.send_signal(signal.SIGKILL); proc.wait(); return True
        time.sleep(0.02)
    proc.kill(); return False

def test_killed_run_resumes_to_identical_weights_and_metrics(tiny_synth, tmp_path, reference_run):
    out = tmp_path / "run"
    ckpt = out / "checkpoints" / "last.pt"
    for stage, step in ((1, 3), (2, 3)):          # killed once in each stage, mid-epoch (2 and 4 steps per epoch), after that checkpoint
        cmd = _train_cmd(tiny_synth / "pt18", out) + (["--resume"] if ckpt.exists() else [])
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert _kill_when(proc, ckpt, stage, step), "the run finished before it could be killed"
        assert proc.returncode == -signal.SIGKILL
    r = subprocess.run(_train_cmd(tiny_synth / "pt18", out) + ["--resume"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = _weights(reference_run / "checkpoints" / "last.pt"), _weights(ckpt)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert _metrics(reference_run) == _metrics(out)
    ra, rb = torch.load(reference_run / "checkpoints" / "best.pt", weights_only=False), torch.load(out / "checkpoints" / "best.pt", weights_only=False)
    assert ra["val"] == rb["val"]

def test_two_process_ddp_equals_single_process(tiny_synth, tmp_path):
    sets = ["stage1.epochs=0", "stage2.epochs=1", "stage2.batch_size=4"]   # stage 2 has no BatchNorm (see 09_training)
    single = tmp_path / "single"
    r = subprocess.run(_train_cmd(tiny_synth / "pt18", single, *sets), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    ddp = tmp_path / "ddp"
    cmd = [str(EXE / "torchrun"), "--nproc_per_node", "2", "--master_port", "29517", "-m", "cdpose.cli", "train",
           "--profile", "tiny", "--data", str(tiny_synth / "pt18"), "--out", str(ddp), "--quiet", "--device", "cpu",
           "--set", "checkpoint_every=1", *sets]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    # the loss of every step (global batch, averaged over the two processes) agrees to float tolerance
    la, lb = _metrics(single, ["step", "loss", "L_h1", "L_t"]), _metrics(ddp, ["step", "loss", "L_h1", "L_t"])
    rows = [(x, y) for x, y in zip(la, lb) if x["loss"]]
    assert len(la) == len(lb) and len(rows) >= 3
    for x, y in rows:
        for k in ("loss", "L_h1", "L_t"): assert abs(float(x[k]) - float(y[k])) <= 1e-4 * abs(float(x[k])), (x, y)
    # weights agree to a small fraction of one AdamW step (lr 1e-3): Adam divides by sqrt(v), which turns the
    # float noise of near-zero gradients (summed in another order across processes) into visible differences
    a, b = _weights(single / "checkpoints" / "last.pt"), _weights(ddp / "checkpoints" / "last.pt")
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst < 2e-4, worst

def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(tiny_synth, tmp_path):
    r = subprocess.run(_train_cmd(tiny_synth / "pt18", tmp_path / "run", "stage1.epochs=0", "stage2.lr=1e30"), capture_output=True, text=True)
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 2 and "Traceback" not in r.stderr and "became NaN or infinite" in last and "last good checkpoint" in last, r.stderr[-2000:]
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=False)["step"] >= 1

def test_corrupt_and_mismatched_checkpoints(tiny_synth, tmp_path, reference_run):
    import shutil
    run = tmp_path / "run"; shutil.copytree(reference_run, run)
    r = run_cdpose(*_train_cmd(tiny_synth / "pt18", run, "stage2.lr=0.5")[1:], "--resume")
    assert r.returncode == 2 and "made with another configuration" in r.stderr and "stage2.lr" in r.stderr
    (run / "checkpoints" / "last.pt").write_bytes(b"garbage")
    r = run_cdpose(*_train_cmd(tiny_synth / "pt18", run)[1:], "--resume")
    assert r.returncode == 2 and "corrupt or unreadable checkpoint" in r.stderr
    r = run_cdpose(*_train_cmd(tiny_synth / "pt18", reference_run)[1:])
    assert r.returncode == 2 and "already holds a run" in r.stderr

def test_a_gpu_named_without_an_index_gets_this_process_gpu(monkeypatch, tmp_path):
    "`--device cuda` (no index) must not reach torch.cuda.set_device bare, which refuses it: it was the first failure on an H200."
    import torch
    from cdpose.training import Trainer
    from cdpose.profiles import profile
    seen = []
    monkeypatch.setattr(torch.cuda, "set_device", seen.append)
    t = Trainer(profile("tiny"), tmp_path / "no-data", tmp_path / "run", "cuda", progress=False)
    assert t.device == torch.device("cuda", 0) and seen == [torch.device("cuda", 0)]

def test_compile_option_compiles_the_parts_and_keeps_the_checkpoint_keys(tiny_synth, tmp_path, monkeypatch):
    # TrainConfig.compile (issue 31): the Trainer compiles the model's parts in place, its checkpoints load into an eager
    # model; dynamo traces them here without generating code (inductor takes minutes on a CPU; the GPU check times it)
    import cdpose.training
    from cdpose.model import CDPose, compile_parts
    from cdpose.profiles import profile
    from cdpose.checkpoints import load_trained
    modes = []
    def traced(model, mode):
        modes.append(mode); return compile_parts(model, mode, backend="eager")
    monkeypatch.setattr(cdpose.training, "compile_parts", traced)
    cfg = profile("tiny", ["stage1.epochs=1", "stage2.epochs=1", "compile=default"])
    cdpose.training.Trainer(cfg, tiny_synth / "pt18", tmp_path, "cpu", progress=False).run()
    assert modes == ["default", "default"]                                        # stage 1, stage 2
    model, _ = load_trained(tmp_path / "checkpoints" / "final.pt", "cpu")          # the keys of an eager CDPose
    assert isinstance(model, CDPose) and not any("_orig_mod" in k for k in model.state_dict())
