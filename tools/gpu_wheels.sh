#!/usr/bin/env bash
# Here, where pip works: what tools/gpu_check.sh needs on a GPU machine whose image has PyTorch, Triton,
# pytest, matplotlib, torchvision and torchmetrics but not the rest (Python 3.12 there): wheels into .whl/
# (the image's own packages left out, so none is shadowed) and Fashion-MNIST into data/fashion-mnist/.
# Both are git-ignored; carry them with the run (about 42 MB together).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
  -d .whl nbdev==2.4.14 execnb==0.1.18 fastcore==1.14.5 ghapi==2.0.3 snntorch==1.0.0
# already in the GPU image (its package list in the device tool's KINDS.md)
for have in anyio certifi h11 httpcore httpx idna packaging pygments pyyaml PyYAML setuptools six typing_extensions wheel build pyproject_hooks psutil; do
  rm -f .whl/${have}-*.whl
done
mkdir -p data/fashion-mnist
cp /usr/share/datasets/fashion-mnist/*.gz data/fashion-mnist/ 2>/dev/null || echo "no /usr/share/datasets/fashion-mnist: apt-get install dataset-fashion-mnist first" >&2
du -sh .whl data/fashion-mnist
