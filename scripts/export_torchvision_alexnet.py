#!/usr/bin/env python3
"""Write torchvision's ImageNet-pretrained AlexNet as a safetensors file seafold reads.

Needs internet access once (torchvision downloads the weights) and `pip install torch
torchvision safetensors`. The keys are torchvision's state_dict keys unchanged
(features.0.weight ... classifier.6.bias), float32, so the file also loads back with
`safetensors.torch.load_file` into `torchvision.models.alexnet()`.

    python3 scripts/export_torchvision_alexnet.py imagenet_alexnet.safetensors
    # then in the experiment YAML:  pretrained: imagenet_alexnet.safetensors
"""
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    try:
        import torch
        from safetensors.torch import save_file
        from torchvision.models import AlexNet_Weights, alexnet
    except ImportError as e:
        print(f"missing package: {e.name}; run: pip install torch torchvision safetensors", file=sys.stderr)
        return 1
    model = alexnet(weights=AlexNet_Weights.IMAGENET1K_V1)
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()}
    n = sum(v.numel() for v in state.values())
    save_file(state, sys.argv[1], metadata={"source": "torchvision AlexNet_Weights.IMAGENET1K_V1"})
    print(f"wrote {sys.argv[1]}: {len(state)} tensors, {n:,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
