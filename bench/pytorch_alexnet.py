#!/usr/bin/env python3
"""PyTorch's side of `seafold bench engine`, measured the same way, so anyone can check the ratio.

torchvision AlexNet (61.1 M parameters, 1000 classes), 224 px, batch 6, cross entropy, Adam
(lr 1e-4), all layers trainable: median train-step seconds over --repeats steps after warm-up;
inference images/s at batch 6 and 64 (eval mode, no grad); and a same-process sgemm figure
(square 2048 float32 matmul) to compare machine speed between runs. Not part of CI.

    pip install torch            # torchvision optional: without it the same layers are written out
    python3 bench/pytorch_alexnet.py --threads 2 [--repeats 10] [--json]

For a fair comparison with seafold, run both in the same period (the machine drifts 2-3x) and
compare ratios to the same-run sgemm figure. glibc's allocator slows PyTorch's train step
(docs/REFERENCE_SEMANTICS.md, "Platform facts"); tuned: MALLOC_MMAP_MAX_=0
MALLOC_TRIM_THRESHOLD_=100000000000.
"""
import argparse
import json
import statistics
import sys
import time


def median_seconds(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def alexnet(torch):
    """torchvision's AlexNet when torchvision imports cleanly, else the same layers written out.

    The written-out model is torchvision.models.AlexNet's layer list (same shapes, same default
    initialisation) so the timing does not depend on having a torchvision that matches torch.
    """
    try:
        import torchvision
        return torchvision.models.alexnet(), "torchvision " + torchvision.__version__
    except Exception:  # missing, or built for another torch (raises RuntimeError on import)
        pass
    nn = torch.nn
    features = nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
    classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 1000))
    model = nn.Sequential(features, nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(1), classifier)
    return model, "torchvision layout written out (torchvision missing or mismatched)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    try:
        import torch
    except ImportError as e:
        print(f"missing package: {e.name}; pip install torch", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    sgemm_s = median_seconds(lambda: torch.mm(a, b), args.repeats)
    sgemm_gflops = 2 * 2048 ** 3 / sgemm_s / 1e9

    model, source = alexnet(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(6, 3, 224, 224)
    y = torch.randint(0, 1000, (6,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    train_s = median_seconds(step, args.repeats)

    model.eval()
    results = {}
    with torch.no_grad():
        for batch in (6, 64):
            xb = torch.randn(batch, 3, 224, 224)
            s = median_seconds(lambda: model(xb), max(3, args.repeats // 2), warmup=1)
            results[f"inference_b{batch}_img_s"] = batch / s

    out = {
        "torch": torch.__version__,
        "model": source,
        "parameters": sum(p.numel() for p in model.parameters()),
        "threads": args.threads,
        "sgemm_2048_gflops": round(sgemm_gflops, 1),
        "train_step_s": round(train_s, 4),
        "train_img_s": round(6 / train_s, 2),
        **{k: round(v, 1) for k, v in results.items()},
    }
    if args.json:
        print(json.dumps(out, sort_keys=True))
    else:
        print(f"PyTorch {out['torch']}, {args.threads} threads: sgemm 2048^2 {out['sgemm_2048_gflops']} GFLOP/s; "
              f"AlexNet 224 px batch-6 Adam train step {out['train_step_s']} s ({out['train_img_s']} img/s); "
              f"inference {out['inference_b6_img_s']} img/s at batch 6, {out['inference_b64_img_s']} at batch 64")
    return 0


if __name__ == "__main__":
    sys.exit(main())
