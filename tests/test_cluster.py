"""Runs on a cluster (`cdpose.launch`): planned by fingerprint and reused, launched through torchrun and a real SLURM
(the one-node cluster `.ci/run` starts with tools/local_slurm.sh), requeued mid-run and resumed bit-identically, and
evaluated on every rank with the numbers of one process."""
import json, os, re, shutil, subprocess, sys, time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from conftest import ROOT, run_cdpose
from cdpose.launch import LaunchError, RunPlan, launch, submit_slurm, train_spec, wait_for_jobs
from cdpose.profiles import profile
from cdpose.settings import SettingsError, SlurmSettings, load_slurm_settings

JOBCOMP = Path("/var/log/slurm/jobcomp.log")

@pytest.fixture(scope="session")
def slurm():
    """The local one-node SLURM cluster (started here when this machine has it installed and we are root). On CI it
    must be there: a missing scheduler fails the tests instead of skipping them."""
    def up(): return shutil.which("sinfo") and subprocess.run(["sinfo", "-h"], capture_output=True).returncode == 0
    if not up() and shutil.which("slurmctld") and os.geteuid() == 0:
        subprocess.run([ROOT / "tools" / "local_slurm.sh", "start"], check=False)
    if not up():
        if os.environ.get("CI"): pytest.fail("no SLURM cluster: .ci/run starts one with tools/local_slurm.sh")
        pytest.skip("no SLURM cluster here (tools/local_slurm.sh install && tools/local_slurm.sh start, as root)")
    return True

def _final(run) -> dict:
    return torch.load(Path(run) / "checkpoints" / "final.pt", map_location="cpu", weights_only=True)

def _same_weights(a, b) -> bool:
    a, b = _final(a), _final(b)
    return a["model"].keys() == b["model"].keys() and all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])

def _settings(tmp_path, slurm_lines: str = "") -> Path:
    "A site file whose runs root is in tmp_path (no run of this machine's runs/ is reused), with a [slurm] section."
    tmp_path.mkdir(parents=True, exist_ok=True)
    p = tmp_path / "settings.ini"
    p.write_text(f"[cdpose]\noutput_dir = {tmp_path / 'runs'}\n[slurm]\ncpus_per_task = 1\ntime_min = 30\n{slurm_lines}")
    return p

# ---------------------------------------------------------------- planning and reuse (no scheduler)

TINY_RUN = ["stage1.epochs=1", "stage2.epochs=1"]     # conftest.tiny_run's configuration

def test_a_plan_reuses_a_run_wherever_it_finished_and_never_a_folder_of_another_configuration(tiny_run, tiny_synth,
                                                                                             tmp_path):
    cfg, data = profile("tiny", TINY_RUN), tiny_synth / "pt18"
    plan = RunPlan([tiny_run.parent])
    where = plan.add(cfg, data, tmp_path / "elsewhere")                  # the session's run, found by its fingerprint
    assert where == tiny_run.resolve() and plan.state_of(where) == "reused" and plan.queued() == []
    with pytest.raises(LaunchError, match=re.escape(str(tiny_run.resolve())) + ".*another configuration"):
        RunPlan([]).add(replace(cfg, seed=cfg.seed + 7), data, tiny_run)
    assert (tiny_run / "checkpoints" / "final.pt").is_file()             # nothing was overwritten

def test_slurm_settings_are_typed_and_named_where_they_came_from(tmp_path):
    s = load_slurm_settings(_settings(tmp_path, "partition = gpu\ngpus_per_node = 8\nsbatch = --qos=high\n"), env={},
                            overrides={"time_min": "600"})
    assert (s.partition, s.gpus_per_node, s.cpus_per_task, s.time_min, s.sbatch) == ("gpu", 8, 1, 600, "--qos=high")
    with pytest.raises(SettingsError, match=r"settings.ini: \[slurm\].nodes = 'two': expected a whole number"):
        load_slurm_settings(_settings(tmp_path / "a", "nodes = two\n"), env={})
    with pytest.raises(SettingsError, match="CDPOSE_SLURM_GPUS_PER_NODE = 'x'"):
        load_slurm_settings(_settings(tmp_path), env={"CDPOSE_SLURM_GPUS_PER_NODE": "x"})
    with pytest.raises(SettingsError, match=r"\[slurm\].queue: unknown setting"):
        load_slurm_settings(_settings(tmp_path / "b", "queue = x\n"), env={})

def test_bad_launches_are_refused_in_one_line_before_anything_runs(tmp_path):
    st = _settings(tmp_path, "nodes = two\n")
    r = run_cdpose("tables", "--profile", "tiny", "--launcher", "slurm", "--settings", str(st), "--out", str(tmp_path / "t"))
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "[slurm].nodes = 'two'" in r.stderr
    env_path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "sbatch").exists())
    r = subprocess.run([sys.executable, "-m", "cdpose.cli", "tables", "--profile", "tiny", "--launcher", "slurm",
                        "--settings", str(_settings(tmp_path / "c")),
                        "--out", str(tmp_path / "t")], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, PATH=env_path or "/nonexistent"))
    assert r.returncode == 2 and "sbatch is not on PATH" in r.stderr and r.stderr.strip().count("\n") == 0
    assert not (tmp_path / "t" / "manifest_tiny.json").exists()                # nothing ran

# ---------------------------------------------------------------- evaluation on every rank

def _eval_rank(rank: int, world: int, port: int, ckpt: str, data: str, out: str):
    import torch.distributed as dist
    from cdpose.checkpoints import load_trained
    from cdpose.dataset import load_posetrack
    from cdpose.predict import evaluate_model
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    model, ck = load_trained(ckpt)
    res = evaluate_model(model, load_posetrack(data, "val", progress=False).videos, profile("tiny").clip, batch_size=3)
    if rank == 0: Path(out).write_text(json.dumps(res.summary))
    else: assert res is None
    dist.destroy_process_group()

def test_evaluation_on_two_processes_equals_one(tiny_run, tiny_synth, tmp_path):
    from cdpose.checkpoints import load_trained
    from cdpose.dataset import load_posetrack
    from cdpose.predict import evaluate_model
    ckpt, data = str(tiny_run / "checkpoints" / "final.pt"), str(tiny_synth / "pt18")
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try: one = evaluate_model(load_trained(ckpt)[0], load_posetrack(data, "val", progress=False).videos,
                              profile("tiny").clip, batch_size=3).summary
    finally: torch.set_num_threads(threads)
    torch.multiprocessing.spawn(_eval_rank, args=(2, 29731, ckpt, data, str(tmp_path / "two.json")),
                                nprocs=2)
    assert json.loads((tmp_path / "two.json").read_text()) == one

# ---------------------------------------------------------------- torchrun

@pytest.mark.slow
def test_torchrun_launcher_trains_a_run_with_two_gloo_processes(tiny_synth, tmp_path):
    cfg = profile("tiny", ["threads=1"])
    plan = RunPlan([tmp_path])
    run = plan.add(cfg, tiny_synth / "pt18", tmp_path / "ddp")
    logs = []
    launch(plan, "torchrun", nproc=2, log=logs.append)
    man = json.loads((run / "manifest.json").read_text())
    assert man["status"] == "finished" and man["world_size"] == 2 and man["run_fingerprint"] == plan.queued()[0].fingerprint
    assert any("torchrun (2 processes)" in l for l in logs) and (run / "torchrun.log").is_file()
    again = RunPlan([tmp_path]); again.add(cfg, tiny_synth / "pt18", tmp_path / "other")
    assert again.queued() == []                                           # the torchrun run is the planned run: reused

# ---------------------------------------------------------------- SLURM

def _show(job_id: str) -> str:
    return subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True).stdout

def _jobcomp(job_id: str) -> str:
    return next((l for l in JOBCOMP.read_text().splitlines() if f"JobId={job_id} " in l), "") if JOBCOMP.exists() else ""

def test_a_partition_slurm_does_not_know_is_refused_before_anything_is_submitted(slurm, tmp_path):
    r = run_cdpose("tables", "--profile", "tiny", "--launcher", "slurm", "--slurm", "partition=nosuch", "--settings",
                   _settings(tmp_path), "--out", tmp_path / "t")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0, r.stderr
    assert "[slurm] partition = 'nosuch': SLURM has no such partition (sinfo lists debug)" in r.stderr
    assert not (tmp_path / "t").exists()

@pytest.mark.slow
def test_tables_train_through_sbatch_and_a_second_invocation_submits_nothing(slurm, tmp_path):
    st = _settings(tmp_path)
    # one seed and one ablation row: a stage 1, and the full model and the baseline row that start from it
    few = ["--param", "replicates=1", "rows=['baseline']", "spread_rows=[]"]
    args = ["tables", "--profile", "tiny", "--only", "train_models", "--settings", str(st), "--launcher", "slurm",
            "--runs-dir", str(tmp_path / "runs" / "tables"), "--out", str(tmp_path / "tables"), *few]
    r = run_cdpose(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    jobs = re.findall(r"submitted (\S+): SLURM job (\d+)(.*); log (\S+)", r.stdout + r.stderr)
    assert [Path(run).name for run, *_ in jobs] == ["stage1", "full", "baseline"], jobs
    assert all(Path(log).parent.name == job for _, job, _, log in jobs)
    assert jobs[1][2] == jobs[2][2] == f" (after {jobs[0][1]})"          # both wait in the queue for the stage 1
    for run, job, _, _ in jobs:                       # the scheduler's record: each job ran, and completed
        assert "JobState=COMPLETED" in _jobcomp(job), (job, _jobcomp(job))
        assert json.loads((Path(run) / "manifest.json").read_text())["status"] == "finished"
    r2 = run_cdpose(*args)
    assert r2.returncode == 0 and "submitted" not in r2.stdout + r2.stderr
    assert re.search(rf"0 runs to train \({len(jobs)} reused\)", r2.stdout + r2.stderr)
    plan = run_cdpose("tables", "--profile", "tiny", "--plan", "--settings", str(st), "--runs-dir",
                      str(tmp_path / "runs" / "tables"), *few)
    assert plan.returncode == 0 and f"{len(jobs)} runs: {len(jobs)} reused, 0 resume, 0 queued" in plan.stdout

@pytest.mark.slow
def test_a_requeued_job_resumes_bit_identical_and_a_failed_one_is_reported(slurm, tiny_synth, tmp_path):
    data = tiny_synth / "pt18"
    cfg = profile("tiny", ["threads=1", "stage2.epochs=60", "eval_every=100", "checkpoint_every=2", "log_every=4"])
    plan = RunPlan([])
    run = plan.add(cfg, data, tmp_path / "slurm")
    plan.add(replace(cfg, stage1_checkpoint=str(tmp_path / "nowhere" / "stage1.pt")), data, tmp_path / "broken")
    jobs = submit_slurm(plan.queued(), SlurmSettings(cpus_per_task=1, time_min=30), tmp_path / "logs", log=print)
    job = jobs[str(run)]
    metrics, t0 = run / "metrics.csv", time.time()
    while not (metrics.exists() and sum(1 for l in metrics.read_text().splitlines() if l.startswith("2,")) >= 3):
        assert time.time() - t0 < 120, "the job did not reach stage 2"
        time.sleep(0.5)
    stage1 = (run / "checkpoints" / "stage1.pt").stat().st_mtime_ns
    subprocess.run(["scontrol", "requeue", job.job_id], check=True)        # as a preemption would
    # SLURM holds a requeued job for its credential lifetime (120 s): once it is pending again, let it start now
    while "JobState=PENDING" not in _show(job.job_id): assert time.time() - t0 < 240; time.sleep(0.5)
    subprocess.run(["scontrol", "update", f"JobId={job.job_id}", "StartTime=now"], check=True)
    failed = wait_for_jobs(jobs, log=print, poll_s=1)
    assert len(failed) == 1 and f"SLURM job {jobs[str(tmp_path / 'broken')].job_id} FAILED" in failed[0]
    assert "stage1.pt: checkpoint not found" in failed[0]                  # the last lines of its log
    while "JobState=COMPLETED" not in _show(job.job_id): assert time.time() - t0 < 300; time.sleep(0.5)
    assert "Restarts=1" in _show(job.job_id)
    assert (run / "checkpoints" / "stage1.pt").stat().st_mtime_ns == stage1    # resumed in stage 2, not begun again
    records = [l for l in JOBCOMP.read_text().splitlines() if f"JobId={job.job_id} " in l]
    assert len(records) == 2 and "JobState=COMPLETED" in records[-1]       # the scheduler's record: requeued, then done
    spec = plan.queued()[0]
    alone = tmp_path / "alone"
    train_spec(replace(spec, out=str(alone)).save())                         # the same run, never interrupted
    assert spec.fingerprint == json.loads((run / "manifest.json").read_text())["run_fingerprint"]
    assert _same_weights(run, alone) and _final(run)["val"] == _final(alone)["val"]
