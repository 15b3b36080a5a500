"""Training throughput of the smoke profile on this CPU. Against one fp32 run on every core, it times one bf16 run
on every core, and runs side by side (one per core, one thread each) in fp32 and in bf16 (what `cdpose tables`
does at smoke). Prints ms per step and the throughput ratio. Usage: python tools/cpu_throughput.py DATA_ROOT [STEPS]"""
import subprocess, sys, time

def step_ms(root: str, stage: int, threads: int, amp: bool, steps: int) -> float:
    "Mean ms of `steps` smoke training steps of `stage` (after 2 warm-up steps), in this process."
    import torch
    from cdpose.profiles import profile
    from cdpose.training import Trainer
    torch.set_num_threads(threads)
    tr = Trainer(profile("smoke", [f"threads={threads}", f"amp_cpu={amp}"]), root, "/tmp/cpu_throughput", progress=False)
    tr._datasets()
    model, core = tr._stage_model(stage, None, None, None)
    opt, sched, _, _ = tr._optimizer(stage, core)
    it = iter(tr._loader(stage, 0, 0)[0])
    batches = [next(it) for _ in range(steps + 2)]
    for i, b in enumerate(batches):
        if i == 2: t0 = time.perf_counter()
        tr._train_step(model, core, b, opt, sched, tr._loss_cfg(stage), stage, i, amp)
    return (time.perf_counter() - t0) / steps * 1000

def side_by_side(root: str, stage: int, threads: int, amp: bool, steps: int, n: int) -> list[float]:
    "ms per step of `n` runs started at once in processes of their own."
    cmd = [sys.executable, __file__, "--one", root, str(stage), str(threads), str(int(amp)), str(steps)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(n)]
    return [float(p.communicate()[0].split()[-1]) for p in procs]

if __name__ == "__main__":
    if sys.argv[1] == "--one":
        print(step_ms(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", int(sys.argv[6]))); sys.exit()
    import os
    root, steps, cores = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 12, len(os.sched_getaffinity(0))
    for stage in (1, 2):
        ref = side_by_side(root, stage, cores, False, steps, 1)[0]
        print(f"stage {stage}: 1 run, {cores} threads, fp32: {ref:.0f} ms/step")
        ms = side_by_side(root, stage, cores, True, steps, 1)[0]
        print(f"stage {stage}: 1 run, {cores} threads, bf16: {ms:.0f} ms/step, {ref / ms:.2f}x the throughput")
        for amp in (False, True):
            ms = side_by_side(root, stage, 1, amp, steps, cores)
            print(f"stage {stage}: {cores} runs, 1 thread, {'bf16' if amp else 'fp32'}: {sum(ms) / len(ms):.0f} ms/step each, "
                  f"{cores * ref / (sum(ms) / len(ms)):.2f}x the throughput")
