"The experiment notebooks run under papermill at the tiny profile and write labelled tables."
import json, re
from pathlib import Path

import pytest

from conftest import ROOT, run_cdpose

def test_tables_tiny_runs_every_experiment(tmp_path):
    import tempfile
    sockets = lambda: set(Path(tempfile.gettempdir()).glob("cdpose-kernel-*"))
    before = sockets()
    r = run_cdpose("tables", "--profile", "tiny", "--out", tmp_path, "--device", "cpu", "--runs-dir", tmp_path / "runs", cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    man = json.loads((tmp_path / "manifest_tiny.json").read_text())
    names = [n["notebook"] for n in man["notebooks"]]
    assert names == sorted(p.name for p in (ROOT / "nbs" / "experiments").glob("*.ipynb"))
    assert all(n["status"] == "ok" for n in man["notebooks"]) and man["profile"] == "tiny"
    benchmarks = ["benchmarks/" + n for n in ("benchmark_evaluation", "benchmark_training_throughput", "benchmark_training_breakdown",
                                               "benchmark_training_result", "benchmark_inference", "benchmark_inference_accuracy",
                                               "benchmark_inference_targets", "benchmark_data", "benchmark_data_loader")]
    for name in ("table1", "table2", "table3", "table4", "table5", "table6", *benchmarks):
        md = (tmp_path / f"{name}.md").read_text()
        assert "profile: tiny" in md and (tmp_path / f"{name}.csv").exists(), name
    assert "SynthPoseTrack (synthetic; not PoseTrack)" in (tmp_path / "table5.md").read_text()
    assert not (tmp_path / "invariance_probe.md").exists()      # the invariance probe is the research wing's (issue 33)
    # what decides the float results on a CPU (issue 15): CPU model, kernel level, threads, oneDNN, torch, in labels and run manifests
    import torch
    assert f"{torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads, oneDNN" in (tmp_path / "table1.md").read_text()
    run_manifest = json.loads(next((tmp_path / "runs").rglob("manifest.json")).read_text())
    assert run_manifest["float_path"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    for name in ("table1", "table2", "table3", "table5", "table6"):   # one evaluation for every table, and it says which
        md = (tmp_path / f"{name}.md").read_text()
        assert "ground-truth boxes, final checkpoint, flip test off" in md and "Deviation from the paper" in md, name
        assert "loss: L_t levels-16; λ_h1 1, λ_h2 1, λ_c 0.001" in md and "detected-box protocol: boxes >= 0.4" in md, name
    for n in (1, 2, 3):    # issue 32: rows on detected boxes (SynthPoseTrack's generated file) beside rows on ground-truth boxes
        t = (tmp_path / f"table{n}.csv").read_text()
        assert t.count("detected boxes, mean of 2 seeds") == 2 and t.count("ground-truth boxes, mean of 2 seeds") == 2, n
        assert f"detected boxes (detections_pt{dict(((1, 17), (2, 18), (3, 21)))[n]}_val.json)" in (tmp_path / f"table{n}.md").read_text()
    assert "paper: ours (ViT-B)" in (tmp_path / "table1.md").read_text() and "87.20" in (tmp_path / "table5.md").read_text()
    assert (tmp_path / "figure3.png").stat().st_size > 10000
    # issue 33: each notebook's entry records what it wrote, and the indexes list only that (a stale table is not listed)
    wrote = {n["notebook"]: n["tables"] for n in man["notebooks"]}
    assert wrote["30_tables123.ipynb"] == ["table1.md", "table2.md", "table3.md"] and wrote["70_figure3.ipynb"] == ["figure3.png"]
    assert sorted(t for ts in wrote.values() for t in ts if t.startswith("benchmarks/")) == sorted(f"{b}.md" for b in benchmarks)
    index, bench_index = (tmp_path / "README.md").read_text(), (tmp_path / "benchmarks" / "README.md").read_text()
    assert "[table5.md](table5.md)" in index and "[figure3.png](figure3.png)" in index and "benchmark_" not in index
    assert all(f"[{n}.md]({n}.md)" in bench_index for n in (b.removeprefix("benchmarks/") for b in benchmarks))
    assert (tmp_path / "executed" / "90_benchmark_evaluation.ipynb").exists()
    # what the terminal shows (issue 16): each notebook as it starts and ends, training progress with an ETA, no kernel
    # warnings, and at the end where the tables, the trained models and the data went
    n = len(names)
    assert f"[1/{n}] 00_train_models.ipynb (tiny): running" in r.stderr and f"[{n}/{n}]" in r.stderr
    assert "stage 2:" in r.stderr and "<" in r.stderr.split("stage 2:")[1][:200]          # tqdm's elapsed<remaining
    assert "IPKernelApp" not in r.stderr and "IProgress" not in r.stderr, r.stderr[:2000]
    assert sockets() <= before                        # each kernel's socket folder goes with it
    assert f"trained models in {tmp_path / 'runs' / 'tiny_seed0'}" in r.stdout
    data18 = tmp_path / "runs" / "synth_tiny_seed0" / "pt18"
    assert f"data (PoseTrack18 layout): {data18}" in r.stdout and run_cdpose("inspect", data18).returncode == 0
    # a partial rerun reuses the trained models and lists what it wrote; a table dropped in the folder that no notebook wrote
    # is not listed (issue 33)
    (tmp_path / "old_study.md").write_text("# A study's table\n")
    r = run_cdpose("tables", "--profile", "tiny", "--out", tmp_path, "--device", "cpu", "--runs-dir", tmp_path / "runs", "--only", "table4", cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    index = (tmp_path / "README.md").read_text()
    assert all(f"[{t}.md]({t}.md)" in index for t in ("table4", "table5", "table6")) and "old_study" not in index
    # issue 34: a rerun checked against those tables number by number (same machine, same packages: nothing differs)
    r = run_cdpose("tables", "--profile", "tiny", "--check", tmp_path, "--out", tmp_path / "check", "--device", "cpu",
                   "--runs-dir", tmp_path / "runs", "--only", "tables123", cwd=ROOT)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert re.search(rf"checked \d+ cells of 3 tables against {re.escape(str(tmp_path))}: 0 differ", r.stdout), r.stdout

@pytest.mark.slow
def test_the_same_seed_from_nothing_gives_the_same_tables(tmp_path):
    "Twice from nothing (other data and runs folders each time): the trained rows and their tables are the same, to the digit."
    for out in ("first", "again"):
        r = run_cdpose("tables", "--profile", "tiny", "--out", tmp_path / out, "--device", "cpu", "--runs-dir", tmp_path / f"runs_{out}",
                       "--only", "train_models", "table5", "table6", cwd=ROOT)
        assert r.returncode == 0, r.stderr[-3000:]
    for name in ("table5", "table6"):
        assert (tmp_path / "first" / f"{name}.csv").read_text() == (tmp_path / "again" / f"{name}.csv").read_text(), name

def test_failing_notebook_is_named_with_its_cell(tmp_path):
    nb_dir = tmp_path / "nbs"; nb_dir.mkdir()
    import nbformat
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell("profile = 'x'\ndata_root = detections = device = out_dir = ''\nseed = 0"); p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_code_cell("open(out_dir + '/first.txt', 'w').write('kept')")]
    nbformat.write(nb, nb_dir / "10_first.ipynb")
    nb.cells = [p, nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nbformat.write(nb, nb_dir / "20_second.ipynb")
    from cdpose.tables import run_experiments, ExperimentError
    try:
        run_experiments("tiny", tmp_path / "out", nb_dir=nb_dir, progress=False); raise AssertionError("must fail")
    except ExperimentError as e:
        assert "20_second.ipynb" in str(e) and "cell " in str(e) and "ValueError: boom" in str(e)
    assert (tmp_path / "out" / "first.txt").read_text() == "kept"
    man = json.loads((tmp_path / "out" / "manifest_tiny.json").read_text())
    assert [n["status"] for n in man["notebooks"]] == ["ok", "failed"]

def test_every_experiment_has_the_papermill_parameters():
    import nbformat
    for p in sorted((ROOT / "nbs" / "experiments").glob("*.ipynb")):
        cells = [c for c in nbformat.read(p, as_version=4).cells if "parameters" in c.metadata.get("tags", [])]
        assert len(cells) == 1, f"{p.name}: needs exactly one cell tagged 'parameters'"
        for name in ("profile", "data_root", "detections", "device", "seed", "out_dir"):
            assert f"{name} =" in cells[0].source, f"{p.name}: parameter {name} missing"

def test_a_finished_notebooks_kernel_is_shut_down_without_sigint():
    # jupyter_client sends SIGINT before its shutdown request; a kernel inside a message handler then printed
    # "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel." into `cdpose tables`' terminal (CI, stop 37)
    from cdpose.tables import kernel_manager_class
    km = kernel_manager_class()(kernel_name="python3")
    sent, signal_kernel = [], km._async_signal_kernel
    async def spy(signum):
        sent.append(signum); await signal_kernel(signum)
    km._async_signal_kernel = spy
    km.start_kernel(); kc = km.client(); kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        km.interrupt_kernel()                           # an interrupt asked for (a cell's timeout) still goes through
        assert len(sent) == 1
    finally:
        kc.stop_channels(); km.shutdown_kernel()
    assert len(sent) == 1 and not km.is_alive()
