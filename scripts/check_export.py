#!/usr/bin/env python3
"""Developer check: `seafold export` output loads with pandas in one line and agrees with the
report's tables. Usage: scripts/check_export.py RUN_DIR  (after `seafold export --run-dir RUN_DIR`).
Needs pandas (pip install pandas)."""
import sys
import pandas as pd

run = sys.argv[1]
m = pd.read_csv(f"{run}/export/metrics.csv")
p = pd.read_csv(f"{run}/export/predictions.csv")
assert list(m.columns) == ["run", "dataset", "variant", "fold", "repeat", "model", "head", "metric", "value"], m.columns
assert {"image", "true_class", "predicted_class"} <= set(p.columns), p.columns

# Tables 1-3 are over the first repeat's folds; the export has every repeat.
m1 = m[m["repeat"] == 1]

t1 = pd.read_csv(f"{run}/report/tables/table1.csv").dropna(subset=["value"])
want = t1.groupby(["dataset", "variant", "model", "head"])["value"].mean()
got = m1[m1.metric == "accuracy"].groupby(["dataset", "variant", "model", "head"])["value"].mean()
diff = (got.reindex(want.index) - want).abs().max()
assert diff < 1e-12, f"table1 means differ by {diff}"

t3 = pd.read_csv(f"{run}/report/tables/table3.csv").dropna(subset=["value"])
t3["metric"] = t3["metric"] + ":" + t3["layer"]
want3 = t3.groupby(["dataset", "variant", "metric"])["value"].mean()
got3 = m1[m1.metric.str.contains(":") & ~m1.metric.str.startswith(("precision", "recall", "f1"))].groupby(["dataset", "variant", "metric"])["value"].mean()
diff3 = (got3.reindex(want3.index) - want3).abs().max()
assert diff3 < 1e-12, f"table3 means differ by {diff3}"

acc = p.assign(correct=p.true_class == p.predicted_class).groupby(["dataset", "variant", "repeat", "fold", "model", "head"])["correct"].mean()
tidy = m[m.metric == "accuracy"].set_index(["dataset", "variant", "repeat", "fold", "model", "head"])["value"]
diffp = (acc - tidy.reindex(acc.index)).abs().max()
assert diffp < 1e-12, f"accuracy from predictions differs by {diffp}"
print(f"ok: {len(m)} metric rows, {len(p)} predictions; table1/table3 means and prediction accuracy agree")
