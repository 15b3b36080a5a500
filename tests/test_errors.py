"Issue 13 §5: every failure is one line naming the file, field or setting (exit 2; 130 for Ctrl-C), never a traceback or a false success."
import errno, json, shutil, signal, subprocess, sys, time
from pathlib import Path

import pytest
from conftest import run_cdpose

VAL = "images/val/200000_mpii_test"

def one_line(r, cmd: str, *needles, code: int = 2) -> str:
    "The run failed with `code` and exactly one `cdpose CMD: ...` line (no traceback) that holds every needle."
    lines = [l for l in r.stderr.splitlines() if l.startswith(f"cdpose {cmd}:")]
    assert r.returncode == code and len(lines) == 1 and "Traceback" not in r.stderr, (r.returncode, r.stderr[-2000:])
    for n in needles: assert str(n) in lines[0], (n, lines[0])
    return lines[0]

@pytest.fixture(scope="module")
def checkpoint(tiny_run):
    "The session's tiny-profile model (conftest.tiny_run)."
    return tiny_run / "checkpoints" / "final.pt"

@pytest.fixture
def corrupt(tiny_synth, tmp_path):
    "A copy of the tiny set whose first val frame is a truncated JPEG, and the same frames as a folder."
    root = tmp_path / "corrupt"; shutil.copytree(tiny_synth / "pt18", root)
    first = root / VAL / "000000.jpg"; first.write_bytes(first.read_bytes()[:300])
    return root

def _annotation(tiny_synth, tmp_path, change) -> Path:
    root = tmp_path / "bad"; shutil.copytree(tiny_synth / "pt18", root)
    f = sorted((root / "annotations" / "val").glob("*.json"))[0]
    d = json.loads(f.read_text()); change(d["annotations"][0]); f.write_text(json.dumps(d))
    return f

# -- input files ---------------------------------------------------------------------------------------

def test_corrupt_first_frame(corrupt, checkpoint, tmp_path):
    first = corrupt / VAL / "000000.jpg"
    one_line(run_cdpose("inspect", corrupt, "--json"), "inspect", first)
    one_line(run_cdpose("predict", "--checkpoint", checkpoint, "--frames", corrupt / VAL, "--whole-frame", "--out", tmp_path / "p", "--quiet"),
             "predict", first)
    assert not (tmp_path / "p").exists()
    r = run_cdpose("train", "--profile", "tiny", "--data", corrupt, "--out", tmp_path / "t", "--quiet", "--device", "cpu", "--set", "stage1.epochs=0")
    one_line(r, "train", first)
    man = json.loads((tmp_path / "t" / "manifest.json").read_text())       # a failed run says so: never `running`
    assert man["status"] == "failed" and "Truncated" in man["error"]

@pytest.mark.parametrize("change", [lambda a: a.update(id=str(a["id"])), lambda a: a.update(track_id="3"),
                                    lambda a: a.update(keypoints=[str(v) for v in a["keypoints"]])], ids=["id_string", "track_id_string", "keypoints_strings"])
def test_wrong_typed_annotation_names_the_file(tiny_synth, tmp_path, checkpoint, change):
    f = _annotation(tiny_synth, tmp_path, change)
    one_line(run_cdpose("inspect", f.parents[2], "--json", "--no-images"), "inspect", f.name)
    one_line(run_cdpose("evaluate", "--gt", f.parent, "--pred", f.parent), "evaluate", f.name)
    one_line(run_cdpose("predict", "--checkpoint", checkpoint, "--frames", tiny_synth / "pt18" / VAL, "--gt", f, "--out", tmp_path / "p",
                        "--quiet", "--no-video"), "predict", f.name)

def test_null_track_id_is_an_unknown_track_not_an_error(tiny_synth, tmp_path):
    "`track_id: null` reads as an unknown track (-1): inspect and evaluate run (AP needs no track)."
    f = _annotation(tiny_synth, tmp_path, lambda a: a.update(track_id=None))
    assert run_cdpose("inspect", f.parents[2], "--json", "--no-images").returncode == 0
    r = run_cdpose("evaluate", "--gt", f.parent, "--pred", f.parent, "--json")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr

# -- settings.ini ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,needles", [("posetrack18_root = x\n", ["line 1", "[cdpose]"]),
                                          ("[cdpose]\ndevice = cpu\ndevice = cuda\n", ["line 3", "device is set twice"]),
                                          ("[cdpose]\ndevice\n", ["line 2", "'device'"])], ids=["no_section", "duplicate_key", "no_value"])
def test_broken_settings_file_names_file_and_line(tmp_path, text, needles):
    (tmp_path / "settings.ini").write_text(text)
    one_line(run_cdpose("settings", cwd=tmp_path), "settings", tmp_path / "settings.ini", *needles)
    one_line(run_cdpose("train", "--profile", "tiny", "--quiet", cwd=tmp_path), "train", "settings.ini", *needles)   # every command

def test_percent_in_settings_is_an_ordinary_character(tmp_path):
    (tmp_path / "settings.ini").write_text("[cdpose]\noutput_dir = runs%x\n")
    r = run_cdpose("settings", cwd=tmp_path)
    assert r.returncode == 0 and str(tmp_path / "runs%x") in r.stdout, r.stderr

def test_missing_settings_file_is_an_error(tmp_path):
    one_line(run_cdpose("settings", "--file", tmp_path / "missing.ini"), "settings", tmp_path / "missing.ini", "not found")

# -- --set -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting,needles", [
    ("stage1.epochs=abc", ["stage1.epochs=abc", "number"]),
    ("model.input_size=[64]", ["model.input_size=[64]", "2 integers"]),
    ("model=3", ["model=3", "model.backbone"]),
    ("stage1.batch_size=-4", ["stage1.batch_size=-4", ">= 1"]),     # used to spin at 99% CPU forever
    ("stage2.lr=-1", ["stage2.lr=-1", ">= 0"]),
    ("stage2.epochs=-1", ["stage2.epochs=-1", ">= 0"]),
    ("seed=1.5", ["seed=1.5", "integer"]),
    ("amp=1", ["amp=1", "True or False"]),
    ("clip.crop_mode=foo", ["clip.crop_mode", "keyframe, track"]),
    ("stage2", ["stage2", "key=value"])])
def test_wrong_set_value_is_refused_before_work(tiny_synth, tmp_path, setting, needles):
    exe = Path(sys.executable).parent / "cdpose"
    r = subprocess.run([str(exe), "train", "--profile", "tiny", "--data", tiny_synth / "pt18", "--out", tmp_path / "run", "--quiet",
                        "--device", "cpu", "--set", setting], capture_output=True, text=True, timeout=120)
    one_line(r, "train", *needles)
    assert not (tmp_path / "run").exists()

def test_check_config_accepts_every_profile():
    from cdpose.profiles import PROFILES, check_config, profile
    for name in PROFILES: check_config(profile(name))
    assert profile("tiny", ["detections=123", "model.input_size=[128, 96]"]).detections == "123"   # a str field keeps what was typed

# -- outputs -------------------------------------------------------------------------------------------------

def test_output_under_a_regular_file(tiny_synth, checkpoint, tmp_path):
    f = tmp_path / "file"; f.write_text("x")
    data = tiny_synth / "pt18"
    for cmd, args in [("train", ["--profile", "tiny", "--data", data, "--out", f / "run", "--quiet"]),
                      ("predict", ["--checkpoint", checkpoint, "--frames", data / VAL, "--whole-frame", "--out", f / "p", "--quiet"]),
                      ("synth", [f / "s", "--tiny"]),
                      ("tables", ["--profile", "tiny", "--out", f / "t"]),
                      ("evaluate", ["--gt", data / "annotations/val", "--pred", data / "annotations/val", "--csv", f / "x.csv"]),
                      ("inspect", [data, "--json", "--preview", f / "x.png"])]:
        one_line(run_cdpose(cmd, *args), cmd, f, "is a file, not a folder")
    assert f.read_text() == "x"

def test_preview_into_a_missing_folder_is_written(tiny_synth, tmp_path):
    r = run_cdpose("inspect", tiny_synth / "pt18", "--preview", tmp_path / "new" / "preview.png")
    assert r.returncode == 0 and (tmp_path / "new" / "preview.png").stat().st_size > 0, r.stderr[-1500:]
    one_line(run_cdpose("inspect", tiny_synth / "pt18", "--preview", tmp_path / "preview.foo"), "inspect", "preview.foo")

def test_bad_predict_option_leaves_no_folder(tiny_synth, checkpoint, tmp_path):
    for flag, value in (("--fps", "-5"), ("--batch-size", "0")):
        one_line(run_cdpose("predict", "--checkpoint", checkpoint, "--frames", tiny_synth / "pt18" / VAL, "--whole-frame",
                            "--out", tmp_path / "p", flag, value, "--quiet"), "predict", flag)
        assert not (tmp_path / "p").exists()

# -- a full disk (simulated in-process: OSError ENOSPC from the writes) ------------------------------------------

def _enospc(*a, **k): raise OSError(errno.ENOSPC, "No space left on device")

def test_full_disk_in_predict_names_the_file_and_keeps_earlier_results(tiny_synth, checkpoint, tmp_path, monkeypatch, capsys):
    from cdpose import cli
    out = tmp_path / "p"
    args = ["predict", "--checkpoint", str(checkpoint), "--frames", str(tiny_synth / "pt18" / VAL), "--whole-frame", "--out", str(out), "--quiet"]
    assert cli.main(args) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: _enospc())      # the disk fills while the JSON is written
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"cdpose predict: error: {out / '200000_mpii_test.json'}: No space left on device", err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before          # nothing earlier lost, no .tmp left

def test_full_disk_in_synth_names_the_file(tmp_path, monkeypatch, capsys):
    from cdpose import cli
    monkeypatch.setattr(Path, "write_bytes", lambda self, data: _enospc())
    assert cli.main(["synth", str(tmp_path / "s"), "--tiny"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"cdpose synth: error: {tmp_path / 's'}") and err.endswith(".jpg: No space left on device"), err

# -- Ctrl-C, SIGTERM, --debug -----------------------------------------------------------------------------------

def _interrupt(args, ready, sig=signal.SIGINT, delay=1.0):
    # as from a terminal: Ctrl-C's default action even when the test runner was started in the background (which ignores SIGINT)
    p = subprocess.Popen([str(Path(sys.executable).parent / "cdpose"), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    t0 = time.time()
    while not ready() and p.poll() is None and time.time() - t0 < 120: time.sleep(0.05)
    time.sleep(delay); p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)

def test_ctrl_c_in_train_marks_the_manifest(tiny_synth, tmp_path):
    run = tmp_path / "run"
    r = _interrupt(["train", "--profile", "tiny", "--data", tiny_synth / "pt18", "--out", run, "--quiet", "--device", "cpu",
                    "--set", "stage1.epochs=0", "stage2.epochs=1000"], lambda: (run / "manifest.json").exists())
    one_line(r, "train", "interrupted", code=130)
    assert json.loads((run / "manifest.json").read_text())["status"] == "interrupted"

@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_killed_predict_leaves_nothing(tiny_synth, checkpoint, tmp_path, sig, code):
    frames = tmp_path / "long"; frames.mkdir()
    src = sorted((tiny_synth / "pt18" / VAL).glob("*.jpg"))
    for i in range(1000): shutil.copy(src[i % len(src)], frames / f"{i:06d}.jpg")
    out = tmp_path / "out" / "p"
    r = _interrupt(["predict", "--checkpoint", checkpoint, "--frames", frames, "--whole-frame", "--out", out, "--quiet"],
                   lambda: out.exists(), sig, delay=0.5)
    one_line(r, "predict", code=code)
    assert not (tmp_path / "out").exists()          # no hidden .tmp, no empty folder

def test_debug_shows_the_traceback(tmp_path):
    for args in (["--debug", "settings", "--file", tmp_path / "x.ini"], ["settings", "--file", tmp_path / "x.ini", "--debug"]):
        r = run_cdpose(*args)
        assert r.returncode != 0 and "Traceback" in r.stderr and "SettingsError" in r.stderr

# -- cdpose tables: a killed run keeps the provenance of the tables it did not redo ------------------------------------

def test_interrupted_tables_keep_earlier_provenance(tmp_path, monkeypatch):
    import papermill as pm
    from cdpose.tables import run_experiments
    nb_dir = tmp_path / "nbs"; nb_dir.mkdir()
    for n in ("10_a", "20_b", "30_c"): (nb_dir / f"{n}.ipynb").write_text("{}")
    monkeypatch.setattr(pm, "execute_notebook", lambda *a, **k: None)
    run_experiments("tiny", tmp_path / "out", nb_dir=nb_dir, progress=False)
    mpath = tmp_path / "out" / "manifest_tiny.json"
    first = json.loads(mpath.read_text())
    def kill_at_b(nb, *a, **k):
        if "20_b" in nb: raise KeyboardInterrupt
    monkeypatch.setattr(pm, "execute_notebook", kill_at_b)
    with pytest.raises(KeyboardInterrupt): run_experiments("tiny", tmp_path / "out", nb_dir=nb_dir, progress=False)
    man = json.loads(mpath.read_text())
    assert man["status"] == "interrupted" and man["interrupted_in"] == "20_b.ipynb"
    assert [e["notebook"] for e in man["notebooks"]] == ["10_a.ipynb", "20_b.ipynb", "30_c.ipynb"]
    assert all(e["status"] == "ok" for e in man["notebooks"])
    assert man["notebooks"][2]["generated"] == first["generated"] and man["notebooks"][2]["seed"] == first["seed"]
    assert not list((tmp_path / "out").glob(".*.tmp"))
