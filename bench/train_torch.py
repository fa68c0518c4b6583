"""The PyTorch side of `make bench-train`: pytorch/examples vae/main.py (MLP 784-400-20,
Adam 1e-3, BCE summed over pixels + KL), trained on the same IDX files as `vae train`.

Prints one JSON object: per-epoch training seconds, test loss, threads, versions.
Data is read into one tensor up front, as `vae train` does, so both time only training."""

import argparse
import json
import struct
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F


def read_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 0x00000803:
        sys.exit(f"{path}: not an IDX image file (magic {magic:#x})")
    pixels = torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8)
    return pixels.view(count, rows * cols).float() / 255.0


class VAE(nn.Module):
    def __init__(self, pixels=784, hidden=400, latent=20):
        super().__init__()
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--latent", type=int, default=20)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train = read_idx_images(f"{args.data}/train-images-idx3-ubyte")
    test = read_idx_images(f"{args.data}/t10k-images-idx3-ubyte")
    model = VAE(train.shape[1], args.hidden, args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    epochs = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        started = time.perf_counter()
        total = 0.0
        for idx in torch.randperm(train.shape[0]).split(args.batch_size):
            x = train[idx]
            optimizer.zero_grad()
            recon, mu, logvar = model(x)
            loss = loss_function(recon, x, mu, logvar)
            loss.backward()
            total += loss.item()
            optimizer.step()
        train_seconds = time.perf_counter() - started
        model.eval()
        test_total = 0.0
        with torch.no_grad():
            for x in test.split(args.batch_size):
                recon, mu, logvar = model(x)
                test_total += loss_function(recon, x, mu, logvar).item()
        epochs.append(
            {
                "epoch": epoch,
                "train_seconds": train_seconds,
                "train_loss": total / train.shape[0],
                "test_loss": test_total / test.shape[0],
            }
        )
        print(
            f"pytorch epoch {epoch}: {train_seconds:.2f} s, test loss {epochs[-1]['test_loss']:.2f}",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "runtime": f"PyTorch {torch.__version__}",
                "threads": torch.get_num_threads(),
                "epochs": epochs,
            }
        )
    )


if __name__ == "__main__":
    main()
