"""The role head's solver: scikit-learn's objective, reached faster, predicting through scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from models.softmax import fit_softmax


def _problem(seed: int = 0, n: int = 400) -> tuple[np.ndarray, sparse.csr_matrix, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    dense = rng.standard_normal((n, 6)) + labels[:, None] * 0.4
    rest = sparse.random(n, 30, density=0.1, random_state=seed, format="csr")
    rest = rest + sparse.csr_matrix((np.ones(n), (np.arange(n), labels * 3)), shape=(n, 30))
    weights = rng.integers(1, 4, n).astype(float)
    return dense, sparse.csr_matrix(rest), np.array(["a", "b", "c", "d"])[labels], weights


def _objective(head: LogisticRegression, X: sparse.csr_matrix, y: np.ndarray, w: np.ndarray, C: float) -> float:
    z = X @ head.coef_.T + head.intercept_
    idx = np.searchsorted(head.classes_, y)
    lse = np.logaddexp.reduce(z, axis=1)
    return float((w * (lse - z[np.arange(len(y)), idx])).sum() / w.sum()
                 + (head.coef_ ** 2).sum() / (2 * C * w.sum()))


def test_reaches_scikit_learns_optimum_and_predicts_through_it() -> None:
    dense, rest, y, w = _problem()
    X = sparse.hstack([sparse.csr_matrix(dense), rest], format="csr")
    ref = LogisticRegression(C=4.0, max_iter=5000, tol=1e-10).fit(X, y, sample_weight=w)
    ours = fit_softmax(dense, rest, y, w, C=4.0, tol=1e-8)
    assert list(ours.classes_) == list(ref.classes_) == ["a", "b", "c", "d"]
    assert _objective(ours, X, y, w, 4.0) <= _objective(ref, X, y, w, 4.0) + 1e-9
    # the same optimum (strictly convex in the weights; intercepts up to a common shift)
    assert np.allclose(ours.coef_, ref.coef_, atol=1e-4)
    shift = ours.intercept_ - ref.intercept_
    assert np.allclose(shift, shift.mean(), atol=1e-4)
    p = ours.predict_proba(X)
    assert np.allclose(p, ref.predict_proba(X), atol=1e-5)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert ours.n_iter_[0] > 0


def test_sample_weights_equal_repeated_rows() -> None:
    dense, rest, y, _ = _problem(seed=1, n=120)
    w = np.array([1.0, 3.0] * 60)
    rep = np.repeat(np.arange(120), w.astype(int))
    weighted = fit_softmax(dense, rest, y, w, C=2.0, tol=1e-9)
    repeated = fit_softmax(dense[rep], rest[rep], y[rep], np.ones(len(rep)), C=2.0, tol=1e-9)
    assert np.allclose(weighted.coef_, repeated.coef_, atol=1e-5)


def test_default_tolerance_beats_scikit_learns_default_stop() -> None:
    """At its default stop (tol 1e-4) scikit-learn's lbfgs leaves the objective higher than ours at TOL."""
    dense, rest, y, w = _problem(seed=2, n=2000)
    X = sparse.hstack([sparse.csr_matrix(dense), rest], format="csr")
    ref = LogisticRegression(C=16.0, max_iter=3000).fit(X, y, sample_weight=w)
    ours = fit_softmax(dense, rest, y, w, C=16.0)
    assert _objective(ours, X, y, w, 16.0) <= _objective(ref, X, y, w, 16.0) + 1e-6


def test_shared_dense_rows_fit_as_the_rows_written_out() -> None:
    """Examples that share a dense vector (``dense_rows``) fit as if each row carried its own copy."""
    dense, rest, y, w = _problem(seed=3, n=300)
    vectors = dense[:40]
    rows = np.random.default_rng(3).integers(0, 40, 300)
    shared = fit_softmax(vectors, rest, y, w, C=2.0, tol=1e-9, dense_rows=rows)
    copied = fit_softmax(vectors[rows], rest, y, w, C=2.0, tol=1e-9)
    assert shared.coef_.shape == copied.coef_.shape == (4, 6 + 30)
    assert np.allclose(shared.coef_, copied.coef_, atol=1e-6)
    X = sparse.hstack([sparse.csr_matrix(vectors[rows]), rest], format="csr")
    assert np.allclose(shared.predict_proba(X), copied.predict_proba(X), atol=1e-7)


def test_refuses_what_it_cannot_fit() -> None:
    dense, rest, y, w = _problem()
    with pytest.raises(ValueError, match="three or more classes"):
        fit_softmax(dense, rest, np.where(y == "a", "a", "b"), w, C=1.0)
    with pytest.raises(ValueError, match="parallel rows"):
        fit_softmax(dense[:-1], rest, y, w, C=1.0)
    with pytest.raises(ValueError, match="parallel rows"):
        fit_softmax(dense, rest, y, w, C=1.0, dense_rows=np.arange(len(y) - 1))
    with pytest.raises(ValueError, match="dense_rows must index the 400 rows"):
        fit_softmax(dense, rest, y, w, C=1.0, dense_rows=np.full(len(y), 400))


def test_lbfgs_takes_torch_optims_steps_exactly() -> None:
    """The solver's loop is torch.optim.LBFGS's step (strong Wolfe), to the bit, without the Optimizer class."""
    import torch

    from models.softmax import lbfgs

    rng = np.random.default_rng(3)
    A = torch.from_numpy(rng.standard_normal((60, 40)))
    b = torch.from_numpy(rng.standard_normal(60))

    def f(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # a smooth, non-quadratic objective
        r = A @ x - b
        return torch.log1p(r * r).sum() + 0.01 * x.dot(x), A.T @ (2 * r / (1 + r * r)) + 0.02 * x

    ours, n_iter = lbfgs(f, torch.zeros(40, dtype=torch.float64), max_iter=500, tol=1e-9, history=5)
    w = torch.nn.Parameter(torch.zeros(40, dtype=torch.float64))
    opt = torch.optim.LBFGS([w], lr=1, max_iter=500, history_size=5, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-9, tolerance_change=64 * float(np.finfo(float).eps))

    def closure() -> torch.Tensor:
        loss, grad = f(w.data)
        w.grad = grad
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    assert n_iter == opt.state[w]["n_iter"] > 5
    assert torch.equal(ours, w.data)
