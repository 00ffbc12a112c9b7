#!/usr/bin/env python3
"""Prints the Swift literals of Tests/ClassifiersTests/LinearSVCLibsvmParityTests.swift:
scikit-learn SVC(kernel='linear', C=1) at its defaults (tol 1e-3, shrinking, ovo decision
values) on a 4-class problem with overlapping classes; all inputs are exact in Float."""
import numpy as np
from sklearn.svm import SVC

rng = np.random.default_rng(7)
n, d = 64, 6
y = np.array([i % 4 for i in range(n)])
rng.shuffle(y)
X = np.round((rng.standard_normal((n, d)) + 0.6 * np.eye(4, d)[y]) * 8) / 8
Q = np.round(rng.standard_normal((24, d)) * 8) / 8
svc = SVC(kernel="linear", C=1).fit(X, y)
svc_ovo = SVC(kernel="linear", C=1, decision_function_shape="ovo").fit(X, y)
fmt = lambda rows: "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in rows) + "]"
print("// scikit-learn", __import__("sklearn").__version__)
print("let X: [[Float]] =", fmt(X))
print("let y =", list(map(int, y)))
print("let Q: [[Float]] =", fmt(Q))
print("let predictTrain =", list(map(int, svc.predict(X))))
print("let predictQ =", list(map(int, svc.predict(Q))))
print("let decisionQ: [[Double]] =", fmt(svc_ovo.decision_function(Q)))
print("let supportCounts =", list(map(int, svc.n_support_)))
