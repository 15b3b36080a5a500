"The `cdpose` command: help, synth, inspect, settings."
import hashlib, json
from pathlib import Path

from conftest import run_cdpose

def _digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(root).rglob("*")) if p.is_file()}

def test_help_lists_subcommands():
    r = run_cdpose("--help", check=True)
    for c in ("synth", "inspect", "settings"): assert c in r.stdout

def test_synth_is_deterministic_and_inspect_validates_it(tmp_path):
    run_cdpose("synth", tmp_path / "a", "--tiny", "--seed", "5", check=True)
    run_cdpose("synth", tmp_path / "b", "--tiny", "--seed", "5", "--workers", "2", check=True)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b and any(k.endswith(".jpg") for k in a) and any(k.startswith("annotations/val/") for k in a)
    r = run_cdpose("inspect", tmp_path / "a", "--json", check=True)
    out = json.loads(r.stdout)
    assert out["valid"] and [s["split"] for s in out["splits"]] == ["train", "val"]
    assert all(s["persons"] > 0 and s["keypoints"] > 0 and s["issues"] == 0 for s in out["splits"])
    r = run_cdpose("inspect", tmp_path / "a", "--preview", tmp_path / "p.jpg", check=True)
    assert "valid" in r.stdout and (tmp_path / "p.jpg").stat().st_size > 1000

def test_inspect_reads_every_release(tiny_synth):
    counts = []
    for rel in ("pt17", "pt18", "pt21"):
        out = json.loads(run_cdpose("inspect", tiny_synth / rel, "--split", "val", "--json", check=True).stdout)
        (s,) = out["splits"]
        assert s["format"] == {"pt17": "posetrack17", "pt18": "posetrack18", "pt21": "posetrack21"}[rel]
        counts.append((s["videos"], s["frames"], s["persons"], s["keypoints"]))
    assert counts[0] == counts[1] == counts[2]

def test_settings_precedence_through_the_cli(tmp_path):
    (tmp_path / "settings.ini").write_text("[cdpose]\ndevice = cpu\nposetrack18_root = pt18\n")
    r = run_cdpose("settings", cwd=tmp_path, check=True)
    line = next(l for l in r.stdout.splitlines() if l.startswith("posetrack18_root"))
    assert str(tmp_path / "pt18") in line and "settings.ini" in line

def test_params_matches_table4_target():
    out = json.loads(run_cdpose("params", "--backbone", "hrnet_w48", "--config", "full", "--json", "--no-flops", check=True).stdout)
    assert set(out) >= {"config", "params", "components"}
    assert abs(out["params"] / 1e6 - 64.3) / 64.3 < 0.02           # the paper's CDPose (HRNet-W48): 64.3M
    assert sum(out["components"].values()) == out["params"]
    base = json.loads(run_cdpose("params", "--backbone", "vit_base", "--config", "baseline", "--json", "--no-flops", check=True).stdout)
    assert 89e6 < base["params"] < 91e6                              # ViTPose-B with its heatmap head: 90M
