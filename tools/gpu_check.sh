#!/usr/bin/env bash
# The GPU check of the paper path: paper-size training (ViT-B and HRNet-W48) at batch 32 in bf16, one process per visible
# GPU (torchrun with NCCL, and SyncBatchNorm for HRNet, when there are several; the table says, per row, what ran),
# with model-FLOPs utilisation, and ViT-B again with torch.compile; the ViT-B step fed for 2 minutes by the real
# DataLoader from photographic 1920x1080 JPEGs on disk (6 workers); and streaming inference over about 5,000
# person-frames against the single-frame baseline;
# writes paper_tables/benchmarks/benchmark_gpu.md, benchmark_gpu_breakdown.md, benchmark_gpu_loader.md and
# benchmark_gpu_inference.md (recorded in paper_tables/benchmarks/manifest_gpu_check.json, listed in
# paper_tables/benchmarks/README.md). At most 8 minutes on one H100/H200 (the loader run is 2 of them).
# GPU_CHECK_OUT: the tables folder (default paper_tables; the tables go to its benchmarks/); GPU_CHECK_WORK: the work folder.
#   tools/gpu_check.sh            on a CUDA machine (all visible GPUs)
#   tools/gpu_check.sh --toy      anywhere: toy sizes on the CPU (what the tests run)
set -euo pipefail
cd "$(dirname "$0")/.."
TOY=""; [ "${1:-}" = "--toy" ] && TOY="--toy"
OUT="${GPU_CHECK_OUT:-paper_tables}"; WORK="${GPU_CHECK_WORK:-runs/gpu_check}"
if [ -n "$TOY" ]; then NPROC=2; STEPS="--steps 1 --warmup 1 --batch 2"; FRAMES=6; FEED="--seconds 1 --workers 2"
else NPROC=$(python -c "import torch; print(max(1, torch.cuda.device_count()))"); STEPS="--steps 10 --warmup 3 --batch 32"
  FRAMES=760; FEED="--seconds 120 --workers 6"; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
for BB in vit_base hrnet_w48; do
  python -m torch.distributed.run --standalone --nproc_per_node "$NPROC" tools/gpu_bench.py train --backbone "$BB" $STEPS $TOY --work "$WORK"
done
# the same ViT-B step with the model's parts compiled (TrainConfig.compile): its MFU beside eager's
python -m torch.distributed.run --standalone --nproc_per_node "$NPROC" tools/gpu_bench.py train --backbone vit_base --compile default $STEPS $TOY --work "$WORK"
python tools/gpu_bench.py loader $STEPS $FEED $TOY --work "$WORK"
python tools/gpu_bench.py breakdown $STEPS $TOY --work "$WORK"
python tools/gpu_bench.py infer --frames "$FRAMES" $TOY --work "$WORK"
python tools/gpu_bench.py table $TOY --work "$WORK" --out "$OUT" --frames "$FRAMES"
echo "GPU check written to $OUT/benchmarks/: benchmark_gpu.md, benchmark_gpu_breakdown.md, benchmark_gpu_loader.md, benchmark_gpu_inference.md"
