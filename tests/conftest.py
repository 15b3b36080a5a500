import os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

def run_cdpose(*args, cwd=None, check=False):
    "Run the installed `cdpose` console command; returns the CompletedProcess."
    exe = Path(sys.executable).parent / "cdpose"
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if check and r.returncode != 0: raise AssertionError(f"cdpose {' '.join(map(str, args))} failed:\n{r.stderr}")
    return r

@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory):
    "A tiny SynthPoseTrack (PoseTrack18 layout, plus the 17 and 21 variants), made once per session."
    from cdpose.synthetic import TINY_SYNTH, generate_synthposetrack
    root = tmp_path_factory.mktemp("synth")
    generate_synthposetrack(root / "pt18", seed=0, config=TINY_SYNTH, progress=False, pt17=root / "pt17", pt21=root / "pt21")
    return root
