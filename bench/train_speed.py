"""`make bench-train`: one run that trains the reference MLP VAE (784-400-20, batch 128, Adam
1e-3) in burn (`vae train`) and in PyTorch on the same IDX data with the same thread count,
then prints both per-epoch training times and their ratio. Writes bench/train-speed.json.

The first epoch of each includes one-off warm-up, so the median over --epochs is reported."""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--vae", required=True, help="the vae binary")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out", default="bench/train-speed.json")
    args = parser.parse_args()

    common = ["--epochs", str(args.epochs), "--batch-size", "128"]
    torch_run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("train_torch.py")), "--data", args.data,
         "--threads", str(args.threads), *common],
        check=True, capture_output=True, text=True,
    )
    torch_result = json.loads(torch_run.stdout)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "reference"
        env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
        subprocess.run(
            [args.vae, "train", "--data", args.data, "--hidden", "400", "--latent", "20",
             "--lr-schedule", "constant",
             "--out", str(out), "--quiet", *common],
            check=True, env=env,
        )
        with open(out / "training.csv") as f:
            rows = list(csv.DictReader(f))
    burn_epochs = [
        {"epoch": int(r["epoch"]), "train_seconds": float(r["train_seconds"]),
         "test_loss": float(r["test_loss"])}
        for r in rows
    ]
    version = subprocess.run([args.vae, "--version"], capture_output=True, text=True).stdout.strip()

    burn_s = statistics.median(e["train_seconds"] for e in burn_epochs)
    torch_s = statistics.median(e["train_seconds"] for e in torch_result["epochs"])
    result = {
        "model": "MLP 784-400-20, batch 128, Adam 1e-3",
        "threads": args.threads,
        "epochs": args.epochs,
        "burn": {"runtime": f"burn 0.22.1 flex ({version})", "epochs": burn_epochs,
                 "median_train_seconds": burn_s},
        "pytorch": {"runtime": torch_result["runtime"], "epochs": torch_result["epochs"],
                    "median_train_seconds": torch_s},
        "ratio_burn_over_pytorch": burn_s / torch_s,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"one training epoch (median of {args.epochs}, {args.threads} threads, "
          f"60k images, batch 128):")
    print(f"  burn (flex, vae train)  {burn_s:6.2f} s   test loss {burn_epochs[-1]['test_loss']:.2f}")
    print(f"  {torch_result['runtime']:<22}  {torch_s:6.2f} s   test loss "
          f"{torch_result['epochs'][-1]['test_loss']:.2f}")
    print(f"  ratio burn / PyTorch    {burn_s / torch_s:6.2f}  (written to {args.out})")


if __name__ == "__main__":
    main()
