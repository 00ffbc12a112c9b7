#!/usr/bin/env python3
"""Write the PyTorch reference fixture that EngineTests' PyTorchFixtureTests check seafold against.

Needs `pip install torch` (CPU is enough); CI never runs this script, it only reads
the committed file. Deterministic: torch.manual_seed(SEED) and torch's single-threaded CPU
kernels in float64, so rerunning it on another machine gives the same expected values up to
float64 rounding.

    python3 scripts/make_pytorch_fixture.py [Tests/Fixtures/pytorch_alexnet.safetensors]

The network is torchvision's AlexNet layer list (same state-dict keys) at width 1/8 (conv
channels 8, 24, 48, 32, 32), a 95 px input, 32 hidden units and 3 classes, with dropout p = 0
(so training mode needs no random mask; seafold's Dropout with p = 0 is the identity too).
Its weights are PyTorch's default initialisation in float32. Every expected value is computed
in float64 from those float32 weights and inputs, then stored as float32; the same computation
in float32 is run too, and its worst error against float64 per tensor is recorded in the
metadata (`torch_f32_error`), so the test's tolerances are set from what PyTorch's own float32
arithmetic shows.

Tensors written (float32):
  features.0.weight ... classifier.6.bias   initial weights, torchvision keys
  input [4,3,95,95], labels [4]             one batch (labels as floats)
  logits [4,3], loss []                     forward in training mode, mean cross-entropy
  grad.<key>                                d loss / d parameter for that batch
  adam.losses [3]                           loss of each of 3 Adam steps on that batch (before
                                            its update); Adam lr 1e-4, betas (0.9, 0.999),
                                            eps 1e-8, no weight decay (PyTorch's and seafold's
                                            defaults)
  adam.<key>                                parameters after the 3 steps (compared as the
                                            change from the initial weights, normwise)
  batch32.logits [32,3], batch32.loss []    forward of 32 images made from the 4 by exact
                                            flips and negation (sample 4j+i is image i, flipped
                                            left-right if j&1, upside down if j&2, negated if
                                            j&4; label (label_i + j) mod 3), so seafold's
                                            batch >= 32 forward path runs
  implicit.weight [64,3,11,11], implicit.bias [64]
                                            a full-width features.0 (the only width at which
                                            seafold's implicit-GEMM forward runs)
  implicit.output [4,64,11,11]              its output on input[:, :, :47, :47]
  implicit.grad.weight, implicit.grad.bias  gradients of 0.5 * sum(output**2)

Metadata (strings): torch version, seed, config, optimizer settings, the float32 errors (JSON),
and the branch margins (JSON): the smallest |ReLU input| and the smallest gap between the two
largest values of a max-pool window over all forward passes, relative to that layer's largest
activation. The seed is the first from SEED upwards whose margins all exceed MARGIN, so float32
rounding (Winograd's included) cannot send a gradient down a different branch than float64:
a ReLU input on the other side of 0, or another max-pool winner, would move a whole term of a
gradient sum and fail the test for a reason that is not a bug. MARGIN is 4x the largest error
of a conv output (relative to the layer's largest) that seafold showed against this script's
float64 values, 1.2e-6 under F(3x3, 5x5); the other algorithms stayed below 6e-7.
"""
import json
import math
import sys

SEED = 7
MARGIN = 5e-6
CLASSES, WIDTH, SIZE, HIDDEN, BATCH = 3, 0.125, 95, 32, 4
LR, STEPS = 1e-4, 3
CROP = 47


def channels():
    # seafold's AlexNetConfig.channels: Swift's .rounded() rounds halves away from zero.
    return [max(1, int(math.floor(c * WIDTH + 0.5))) for c in (64, 192, 384, 256, 256)]


def build(torch, nn):
    c = channels()
    features = nn.Sequential(
        nn.Conv2d(3, c[0], 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(c[0], c[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(),
        nn.Conv2d(c[2], c[3], 3, padding=1), nn.ReLU(),
        nn.Conv2d(c[3], c[4], 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
    classifier = nn.Sequential(
        nn.Dropout(0.0), nn.Linear(c[4] * 36, HIDDEN), nn.ReLU(),
        nn.Dropout(0.0), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))

    class AlexNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features, self.avgpool, self.classifier = features, nn.AdaptiveAvgPool2d((6, 6)), classifier

        def forward(self, x, margins=None):
            for layer in self.features:
                if margins is not None:
                    note_margin(torch, layer, x, margins)
                x = layer(x)
            x = torch.flatten(self.avgpool(x), 1)
            for layer in self.classifier:
                if margins is not None:
                    note_margin(torch, layer, x, margins)
                x = layer(x)
            return x
    return AlexNet()


def note_margin(torch, layer, x, margins):
    """Smallest distance of this layer's input from a branch point, relative to its scale."""
    name = type(layer).__name__
    scale = x.abs().max().item() or 1.0
    if name == "ReLU":
        m = x.abs().min().item() / scale
    elif name == "MaxPool2d":
        w = torch.nn.functional.unfold(x.reshape(-1, 1, *x.shape[-2:]), 3, stride=2)  # [N·C, 9, windows]
        top = w.topk(2, dim=1).values
        gap = top[:, 0] - top[:, 1]
        # A window whose largest value is 0 after a ReLU ties exactly in every precision.
        gap = gap[top[:, 0] != 0]
        m = (gap.min().item() if gap.numel() else scale) / scale
    else:
        return
    margins.append(m)


def variants(torch, x, labels):
    xs, ys = [], []
    for j in range(8):
        for i in range(x.shape[0]):
            v = x[i]
            if j & 1:
                v = v.flip(-1)
            if j & 2:
                v = v.flip(-2)
            if j & 4:
                v = -v
            xs.append(v)
            ys.append((int(labels[i]) + j) % CLASSES)
    return torch.stack(xs), torch.tensor(ys)


def run(torch, nn, model32, x32, labels, dtype, margins=None):
    """Forward, gradients and Adam steps of a copy of the model in `dtype`."""
    import copy
    m = copy.deepcopy(model32).to(dtype).train()
    x = x32.to(dtype)
    loss_fn = nn.CrossEntropyLoss()
    out = {}
    logits = m(x, margins)
    loss = loss_fn(logits, labels)
    m.zero_grad()
    loss.backward()
    out["logits"], out["loss"] = logits.detach(), loss.detach()
    for k, p in m.named_parameters():
        out["grad." + k] = p.grad.detach().clone()
    opt = torch.optim.Adam(m.parameters(), lr=LR)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(m(x, margins), labels)
        loss.backward()
        losses.append(loss.item())
        opt.step()
    out["adam.losses"] = torch.tensor(losses, dtype=dtype)
    for k, p in m.named_parameters():
        out["adam." + k] = p.detach().clone()
    with torch.no_grad():
        x8, y8 = variants(torch, x, labels)
        l8 = copy.deepcopy(model32).to(dtype)(x8)
        out["batch32.logits"], out["batch32.loss"] = l8, loss_fn(l8, y8)
    return out


def implicit(torch, nn, x32, dtype):
    torch.manual_seed(SEED + 1000)
    conv = nn.Conv2d(3, 64, 11, 4, 2)
    w0, b0 = conv.weight.detach().clone(), conv.bias.detach().clone()
    conv = conv.to(dtype)
    y = conv(x32[:, :, :CROP, :CROP].to(dtype))
    (0.5 * (y * y).sum()).backward()
    return {"implicit.weight": w0, "implicit.bias": b0, "implicit.output": y.detach(),
            "implicit.grad.weight": conv.weight.grad.detach(), "implicit.grad.bias": conv.bias.grad.detach()}


def save_file(tensors, path, metadata):
    """safetensors with keys and metadata in sorted order (the `safetensors` package orders its
    metadata by hash, so its files differ from run to run), laid out as seafold's writer does."""
    header, blobs, offset = {"__metadata__": dict(sorted(metadata.items()))}, [], 0
    for k in sorted(tensors):
        b = tensors[k].numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/pytorch_alexnet.safetensors"
    try:
        import torch
        from torch import nn
    except ImportError as e:
        print(f"missing package: {e.name}; run: pip install torch", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    seed = SEED
    while True:
        torch.manual_seed(seed)
        model = build(torch, nn).float()
        x = torch.randn(BATCH, 3, SIZE, SIZE)
        labels = torch.randint(0, CLASSES, (BATCH,))
        margins = []
        ref = run(torch, nn, model, x, labels, torch.float64, margins)
        if min(margins) > MARGIN:
            break
        print(f"seed {seed}: branch margin {min(margins):.2e} <= {MARGIN:g}, trying the next seed", file=sys.stderr)
        seed += 1
    f32 = run(torch, nn, model, x, labels, torch.float32)
    ref.update(implicit(torch, nn, x, torch.float64))
    f32.update(implicit(torch, nn, x, torch.float32))

    # Worst |float32 − float64| relative to the tensor's largest |value|. For the parameters
    # after the Adam steps: the change from the initial weights (the weights are ~1000× larger
    # than 3 steps of lr 1e-4 and would hide an error in the update), normwise (‖a − b‖₂ / ‖b‖₂),
    # because Adam's m/√v amplifies rounding a thousandfold where a gradient changes sign
    # between steps, in PyTorch's float32 as much as in seafold.
    errors = {}
    initial = model.state_dict()
    for k, v in ref.items():
        a, b = f32[k].double(), v.double()
        if k.startswith("adam.") and k[5:] in initial:
            a, b = a - initial[k[5:]].double(), b - initial[k[5:]].double()
            errors[k] = (a - b).norm().item() / (b.norm().item() or 1.0)
        else:
            errors[k] = (a - b).abs().max().item() / (b.abs().max().item() or 1.0)
    tensors = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    tensors.update({k: v.to(torch.float32).contiguous() for k, v in ref.items()})
    tensors["input"] = x.contiguous()
    tensors["labels"] = labels.to(torch.float32)
    metadata = {
        "generator": "scripts/make_pytorch_fixture.py",
        "torch": torch.__version__,
        "seed": str(seed),
        "config": json.dumps({"numClasses": CLASSES, "widthMultiplier": WIDTH, "inputSize": SIZE,
                              "hiddenWidth": HIDDEN, "dropout": 0.0}),
        "adam": json.dumps({"lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0, "steps": STEPS}),
        "implicit": json.dumps({"crop": CROP, "outChannels": 64, "kernel": 11, "stride": 4, "padding": 2}),
        "torch_f32_error": json.dumps(errors, sort_keys=True),
        "branch_margin": json.dumps({"min": min(margins), "required": MARGIN}),
    }
    save_file(tensors, path, metadata=metadata)
    n = sum(t.numel() for t in tensors.values())
    worst = max(errors, key=errors.get)
    print(f"wrote {path}: {len(tensors)} tensors, {n:,} floats, seed {seed}, torch {torch.__version__}; "
          f"branch margin {min(margins):.2e}; torch float32 vs float64 worst {errors[worst]:.2e} ({worst})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
