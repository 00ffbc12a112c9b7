#!/usr/bin/env python3
"""Developer check: seafold's folds of an image folder equal scikit-learn's.

    python3 scripts/check_folds_against_sklearn.py ROOT [--folds 3] [--seeds 0 1 42] [--seafold .build/release/seafold]

Lists ROOT as torchvision's ImageFolder does (class folders sorted; `sorted(os.walk(class_dir))`
then `sorted(fnames)`; only .png/.npy, no hidden files, as seafold reads), runs StratifiedKFold(folds, shuffle=True,
random_state=seed) and `seafold data inspect ROOT --folds K --seed S --json`, and compares the
test fold of every path. Exit status 1 on any difference.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from sklearn.model_selection import StratifiedKFold


def image_folder(root):
    classes = sorted(d for d in os.listdir(root) if not d.startswith(".") and os.path.isdir(os.path.join(root, d)))
    paths, labels = [], []
    for label, c in enumerate(classes):
        found = []
        # torchvision.datasets.folder.make_dataset: sorted(os.walk(...)), then sorted(fnames).
        for dirpath, _, filenames in sorted(os.walk(os.path.join(root, c), followlinks=True)):
            if any(part.startswith(".") for part in os.path.relpath(dirpath, os.path.join(root, c)).split(os.sep) if part != "."):
                continue
            for f in sorted(filenames):
                if not f.startswith(".") and f.lower().endswith((".png", ".npy")):
                    found.append(os.path.relpath(os.path.join(dirpath, f), os.path.join(root, c)))
        for rel in found:
            paths.append(c + "/" + rel.replace(os.sep, "/"))
            labels.append(label)
    return paths, np.asarray(labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 42, 2021])
    ap.add_argument("--seafold", default=".build/release/seafold")
    a = ap.parse_args()
    paths, y = image_folder(a.root)
    bad = 0
    for seed in a.seeds:
        test = np.empty(len(y), dtype=int)
        for f, (_, te) in enumerate(StratifiedKFold(a.folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)):
            test[te] = f
        out = subprocess.run([a.seafold, "data", "inspect", a.root, "--folds", str(a.folds), "--seed", str(seed), "--json"],
                             check=True, capture_output=True, text=True).stdout
        got = {m["path"]: m["fold"] for m in json.loads(out)["membership"]}
        want = dict(zip(paths, test.tolist()))
        diff = [p for p in want if got.get(p) != want[p]] + [p for p in got if p not in want]
        print(f"seed {seed}: {len(want)} images, {len(diff)} differ")
        bad += len(diff)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
