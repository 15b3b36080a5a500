"""The environment a table was made in (issue 34): the lock and what it must satisfy, the record every manifest and label
carries (package set, processor, oneDNN's ISA), the frames' bytes in the data fingerprint, and the check of a rerun
against committed tables."""
import json, re, shutil
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from conftest import ROOT
from cdpose.checkpoints import data_fingerprint, environment_record, float_path, lock_pins, processor

LOCK = ROOT / "requirements-lock.txt"

def _requirements() -> list[Requirement]:
    "What pyproject.toml asks for: the package's dependencies and its [dev] extra."
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]

def test_the_lock_satisfies_pyproject_and_pins_every_file_by_hash():
    pins = lock_pins(LOCK)
    for req in _requirements():
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{req.name} is not in {LOCK.name}: run tools/make_lock.sh"
        assert req.specifier.contains(pins[name], prereleases=True), f"{LOCK.name} pins {req.name}=={pins[name]}, pyproject asks {req}"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 2)[2])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b)          # pip install --require-hashes

def test_environment_yml_follows_the_lock():
    pins = lock_pins(LOCK)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pinned = dict(p.split("==") for p in pip if "==" in p)
    assert pinned and all(pins[re.sub(r"[-_.]+", "-", n).lower()] == v for n, v in pinned.items())
    assert {re.sub(r"[-_.]+", "-", r.name).lower() for r in _requirements()} <= {re.sub(r"[-_.]+", "-", n).lower() for n in pinned}

def test_the_record_names_the_package_set_and_the_processor():
    env = environment_record(LOCK)
    assert re.fullmatch(r"[0-9a-f]{16}", env["packages_hash"]) and env["versions"]["torch"] and env["versions"]["numpy"]
    assert env["matches_lock"] is (not env["lock_differences"])
    other = environment_record(_a_lock_with(LOCK, "numpy", "0.0.1"))        # a lock the environment does not match
    assert other["matches_lock"] is False and any(d.startswith("numpy ") and "(lock 0.0.1)" in d for d in other["lock_differences"])
    p = processor()
    assert {"vendor", "family", "model", "stepping", "isa"} <= set(p)
    if p["vendor"] in ("GenuineIntel", "AuthenticAMD"):                  # an x86 processor: these fields are always there
        assert p["family"] and p["model"] and p["stepping"] != "" and "sse4_2" in p["isa"]
    fp = float_path()
    assert fp["processor"] == p and fp["onednn_isa"] and fp["onednn_isa"] != "unknown"

def _a_lock_with(lock: Path, name: str, version: str) -> Path:
    import tempfile
    text = re.sub(rf"^{name}==\S+", f"{name}=={version}", lock.read_text(), flags=re.M)
    p = Path(tempfile.mkdtemp()) / "requirements-lock.txt"
    p.write_text(text)
    return p

def test_run_manifests_and_table_labels_carry_the_record(tiny_run):
    man = json.loads((tiny_run / "manifest.json").read_text())
    assert man["environment"]["packages_hash"] == environment_record()["packages_hash"]
    assert {"family", "model", "stepping", "isa"} <= set(man["float_path"]["processor"]) and man["float_path"]["onednn_isa"]
    from cdpose.results import run_label
    lab = run_label("tiny", "SynthPoseTrack", 0, "cpu")
    p = processor()
    assert f"family {p['family']} model {p['model']} stepping {p['stepping']}" in lab["machine"]
    assert lab["environment"].startswith(f"packages {environment_record()['packages_hash']} (")
    assert "numpy " in lab["environment"] and "OpenCV " in lab["environment"] and "Pillow " in lab["environment"]

def test_the_data_fingerprint_covers_the_frames(tiny_synth, tmp_path):
    from cdpose.dataset import FRAMES_DIGEST, frames_digest, write_frames_digest
    root = tmp_path / "pt18"
    shutil.copytree(tiny_synth / "pt18", root)
    assert (root / FRAMES_DIGEST).read_text().strip() == frames_digest(root)           # written with the data set
    before = data_fingerprint(root)
    frame = sorted((root / "images").rglob("*.jpg"))[0]
    frame.write_bytes(frame.read_bytes() + b"\0")                                      # other JPEG bytes, same annotations
    write_frames_digest(root)
    assert data_fingerprint(root) != before

def test_a_check_names_each_number_that_differs_and_the_recorded_fields(tmp_path):
    from cdpose.results import write_table
    from cdpose.tables import compare_tables, recording_tables
    import pandas as pd
    def made(folder, mean, machine):
        with recording_tables() as written:
            write_table(pd.DataFrame({"method": ["ours"], "Mean": [mean]}), "table1", folder, "Table 1",
                        {"profile": "smoke", "machine": machine, "environment": "packages 0123 (= the lock)"})
            (folder / "manifest_smoke.json").write_text(json.dumps({"notebooks": [{"tables": written(folder)}]}))
    made(tmp_path / "committed", 57.12, "AMD EPYC (family 25 model 1 stepping 1)")
    made(tmp_path / "same", 57.12, "AMD EPYC (family 25 model 1 stepping 1)")
    made(tmp_path / "other", 53.46, "AMD EPYC (family 25 model 17 stepping 0)")
    same = compare_tables(tmp_path / "same", tmp_path / "committed")
    assert same["tables"] == 1 and same["cells"] == 2 and not same["differences"] and not same["labels"]
    other = compare_tables(tmp_path / "other", tmp_path / "committed")
    assert other["differences"] == ["table1.csv: row 'ours', Mean: committed 57.12, now 53.46"]
    assert set(other["labels"]) == {"machine"}
