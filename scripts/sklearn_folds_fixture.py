#!/usr/bin/env python3
"""Writes Tests/fixtures/sklearn_folds.json: reference numbers from NumPy's legacy RandomState
and scikit-learn's StratifiedKFold / RepeatedStratifiedKFold that seafold must reproduce bit for
bit (Tests/DatasetsTests/SklearnFoldsTests.swift).

    pip install numpy scikit-learn && python3 scripts/sklearn_folds_fixture.py
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "fixtures", "sklearn_folds.json")
SEEDS = [0, 1, 7, 42, 12345, 2**31 - 1, 2**32 - 1]


def raw(seed, n):
    return [int(v) for v in np.random.RandomState(seed)._bit_generator.random_raw(n)]


def main():
    fx = {"numpy": np.__version__, "sklearn": sklearn.__version__}
    # Raw MT19937 outputs: 700 for seed 0 (crosses the first state regeneration at 624), 8 for others.
    fx["raw"] = [{"seed": s, "values": raw(s, 700 if s == 0 else 8)} for s in SEEDS]
    # Bounded integers in 0...max by the masked rule (legacy randint uses it too), 32- and 64-bit branches.
    bounded = []
    for s in [0, 42]:
        for hi in [1, 2, 5, 100, 2**31, 2**32 - 1, 2**32, 2**40 + 3, 2**63]:
            rs = np.random.RandomState(s)
            bounded.append({"seed": s, "max": str(hi), "values": [str(int(v)) for v in rs.randint(0, hi + 1, size=6, dtype=np.uint64)]})
    fx["bounded"] = bounded
    # RandomState.shuffle of arange(n), and of two consecutive shuffles (stream continues).
    shuffles = []
    for s in SEEDS[:5]:
        for n in [1, 2, 3, 10, 37, 1000]:
            rs = np.random.RandomState(s)
            a = np.arange(n); rs.shuffle(a)
            b = np.arange(n); rs.shuffle(b)
            shuffles.append({"seed": s, "n": n, "first": a.tolist(), "second": b.tolist()})
    fx["shuffles"] = shuffles
    # Fold assignments: test_folds[i] = the test fold of sample i.
    rng = np.random.RandomState(2024)
    patterns = {
        "balanced": [i % 4 for i in range(40)],
        "imbalanced": [0] * 60 + [1] * 25 + [2] * 9 + [3] * 4,
        "unsorted-labels": [5, 5, 3, 3, 3, 3, 9, 5, 3, 9, 9, 5, 3, 3, 9, 5, 5, 3],
        "random": rng.randint(0, 5, size=150).tolist(),
        "tiny-class": [0] * 20 + [1] * 2,
        "binary": [1] * 7 + [0] * 31 + [1] * 5,
    }
    folds = []
    for name, y in patterns.items():
        y = np.asarray(y)
        for k in [2, 3, 5]:
            for shuffle, seeds in [(False, [None]), (True, [0, 7, 42, 2**32 - 1])]:
                for s in seeds:
                    with warnings.catch_warnings(record=True) as w:
                        warnings.simplefilter("always")
                        cv = StratifiedKFold(k, shuffle=shuffle, random_state=s)
                        test = np.empty(len(y), dtype=int)
                        for f, (_, te) in enumerate(cv.split(np.zeros(len(y)), y)):
                            test[te] = f
                    folds.append({"pattern": name, "labels": y.tolist(), "k": k, "shuffle": shuffle,
                                  "seed": s, "folds": test.tolist(), "warned": any("least populated" in str(x.message) for x in w)})
    fx["folds"] = folds
    # RepeatedStratifiedKFold: repeat r continues the same RandomState.
    repeated = []
    for name in ["imbalanced", "random"]:
        y = np.asarray(patterns[name])
        for k, r, s in [(3, 3, 7), (5, 2, 0)]:
            cv = RepeatedStratifiedKFold(n_splits=k, n_repeats=r, random_state=s)
            out = [np.empty(len(y), dtype=int) for _ in range(r)]
            for i, (_, te) in enumerate(cv.split(np.zeros(len(y)), y)):
                out[i // k][te] = i % k
            repeated.append({"pattern": name, "labels": y.tolist(), "k": k, "repeats": r, "seed": s, "folds": [o.tolist() for o in out]})
    fx["repeated"] = repeated
    # Errors scikit-learn raises.
    errors = []
    for y, k in [([0, 1, 0, 1], 3), ([0, 1, 1], 5)]:
        try:
            list(StratifiedKFold(k, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
            errors.append({"labels": y, "k": k, "error": None})
        except ValueError as e:
            errors.append({"labels": y, "k": k, "error": str(e)})
    fx["errors"] = errors
    with open(OUT, "w") as f:
        json.dump(fx, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
