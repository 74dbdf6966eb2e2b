#!/usr/bin/env bash
# Installs Axolotl 0.19.0 into the active venv so that axolotl.utils.data, its samplers and
# collators import: torch first (Axolotl pins torch>=2.11,<=2.13), Axolotl without its pinned
# dependency set, then what those modules need.
# The tests use Axolotl's own functions as oracles. Does nothing when already installed.
set -euo pipefail
if python -c "import axolotl.utils.samplers.multipack, axolotl.contribs.lgpl, bitsandbytes, evaluate" 2>/dev/null; then
  exit 0
fi
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet --no-deps "axolotl==0.19.0"
python -m pip install --quiet transformers==5.16.1 datasets==4.8.4 tokenizers==0.23.1 \
  huggingface_hub==1.17.0 peft==0.20.0 trl==1.9.0 accelerate==1.13.0 "numba>=0.63.1,<1.0" \
  addict colorama fire pydantic==2.12.5 posthog==6.7.11 python-dotenv==1.0.1 pillow zstandard==0.22.0
# What `axolotl train` imports besides (the end-to-end test trains 3 steps on CPU).
python -m pip install --quiet axolotl-contribs-lgpl==0.0.7 bitsandbytes==0.50.2 fastcore evaluate==0.4.1 wandb \
  "kernels<0.17"
