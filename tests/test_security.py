"A checkpoint from a stranger never runs code: every entry point that reads one refuses a pickle that carries a payload."
import os, sys, torch
from pathlib import Path

import pytest

from conftest import run_cdpose

class Payload:
    "Pickles to a call of os.system: loading it without weights_only runs the command."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, (f"touch {self.marker}",))

def _evil(path: Path, marker: Path, **extra) -> Path:
    torch.save({"stage": 2, "step": 1, "model": {}, "config": {}, "x": Payload(marker), **extra}, path)
    return path

def test_every_checkpoint_entry_point_refuses_a_payload_and_runs_nothing(tiny_synth, tmp_path):
    marker = tmp_path / "PAYLOAD_RAN"
    evil = _evil(tmp_path / "evil.pt", marker)
    frames = next((tiny_synth / "pt18" / "images" / "val").iterdir())
    train = ["train", "--profile", "tiny", "--data", tiny_synth / "pt18", "--quiet", "--device", "cpu"]
    planted = tmp_path / "resume" / "checkpoints"; planted.mkdir(parents=True); _evil(planted / "last.pt", marker)
    ini = tmp_path / "settings.ini"; ini.write_text(f"[cdpose]\nposetrack18_root = {tiny_synth / 'pt18'}\nvit_checkpoint = {evil}\n")
    runs = {
        "predict": ["predict", "--checkpoint", evil, "--frames", frames, "--out", tmp_path / "pred", "--whole-frame", "--quiet"],
        "train --resume (planted last.pt)": train + ["--out", tmp_path / "resume", "--resume"],
        "train stage1_checkpoint": train + ["--out", tmp_path / "s1", "--set", f"stage1_checkpoint={evil}"],
        "train init_checkpoint": train + ["--out", tmp_path / "init", "--set", f"init_checkpoint={evil}"],
        "train vit_checkpoint (settings.ini)": ["train", "--profile", "paper", "--dataset", "posetrack18", "--settings", ini,
                                                "--out", tmp_path / "paper", "--quiet", "--device", "cpu", "--gt-boxes"],
    }
    for name, args in runs.items():
        r = run_cdpose(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, (name, r.stderr[-1500:])
        assert "evil.pt" in r.stderr or "last.pt" in r.stderr, (name, r.stderr)
        assert "refused" in r.stderr or "not a readable PyTorch checkpoint" in r.stderr, (name, r.stderr)
        assert not marker.exists(), f"{name}: the payload ran"
    from cdpose.checkpoints import load_checkpoint, CheckpointError
    with pytest.raises(CheckpointError, match="refused: it holds a posix.system object"): load_checkpoint(evil)
    assert not marker.exists()

def test_the_trainers_own_checkpoints_load_with_weights_only(tiny_run):
    for name in ("last.pt", "final.pt", "best.pt", "stage1.pt"):
        ck = torch.load(tiny_run / "checkpoints" / name, map_location="cpu", weights_only=True)
        assert {"model", "config", "stage"} <= set(ck), name
