"""The role head's solver: scikit-learn's multinomial logistic regression, fitted by PyTorch's L-BFGS.

The objective is scikit-learn's (``LogisticRegression(C)``, lbfgs, multinomial) to the letter:

    (1/S) Σ_i s_i · (logsumexp(z_i) − z_i[y_i])  +  ‖W‖² / (2·C·S),   z = X·Wᵀ + b,  S = Σ_i s_i

(the intercepts are not penalised), and the fitted ``LogisticRegression`` predicts through scikit-learn as
before. What changes is how it is reached, measured on the role head (23,366 distinct rows, 42,528 features,
25 classes; ``docs/scaling.md``):

- scikit-learn hands SciPy's L-BFGS-B one sparse matrix in which the 384 embedding columns are stored as
  sparse entries, so both products of every evaluation ran single-threaded over 10 million entries; here the
  embedding block is a dense array (BLAS on every core) and only the tf-idf columns are sparse;
- the examples share title embeddings (8,178 distinct vectors for 23,366 rows: decorated copies of a title), so
  the dense products run over the distinct vectors (``dense_rows``), stored transposed: PyTorch's float64
  products of that layout ran twice as fast on an AMD CPU; the sparse block keeps 32-bit indices;
- SciPy's L-BFGS-B spent about 110 ms an iteration on its own bookkeeping for a million unknowns (its
  bounds machinery; a known cost, scipy/scipy#26137), PyTorch's L-BFGS (no bounds) a third of that.

Both stop on the largest gradient entry. At scikit-learn's default (1e-4) the two solvers stop at different
points of a flat valley; ``TOL`` = 5e-5 reaches a lower objective than scikit-learn's stopping point (0.10178
against 0.10270 on the role head), in about a third of the time.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

if TYPE_CHECKING:
    import torch

TOL = 5e-5  # the largest gradient entry at which the solver stops
HISTORY = 5  # L-BFGS memory: half scikit-learn's 10, as fast on the role head, to a lower objective, 85 MB less
# part of the artifact version (before: scikit-learn's lbfgs, no tag)
SOLVER_VERSION = f"torch-lbfgs-m{HISTORY}-g{TOL:g}-2"


def lbfgs(loss_and_grad: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor,
          max_iter: int, tol: float, history: int = HISTORY) -> tuple[torch.Tensor, int]:
    """``torch.optim.LBFGS(lr=1, line_search_fn="strong_wolfe")``'s ``step``, step for step, on a flat tensor:
    the same directions, steps (PyTorch's own strong-Wolfe line search) and stopping rules, so the same
    iterates. Without the ``Optimizer`` class, whose first construction imports PyTorch's compiler (3.3 s and
    78 MB for nothing here). Returns the minimiser and the iterations taken."""
    import torch
    from torch.optim.lbfgs import _strong_wolfe

    change = 64 * float(np.finfo(float).eps)  # scikit-learn's ftol
    max_eval = max_iter * 5 // 4
    loss_t, g = loss_and_grad(x)
    loss = float(loss_t)
    evals = 1
    if g.abs().max() <= tol:
        return x, 0
    dirs: list[torch.Tensor] = []
    stps: list[torch.Tensor] = []
    ro: list[Any] = []
    h_diag: Any = 1
    d = g.neg()
    t: Any = 1.0
    prev_g: torch.Tensor | None = None
    n_iter = 0

    def along(x0: torch.Tensor, step: Any, direction: torch.Tensor) -> tuple[float, torch.Tensor]:
        f, grad = loss_and_grad(x0.add(direction, alpha=step))
        return float(f), grad

    while n_iter < max_iter:
        n_iter += 1
        if n_iter > 1:
            y = g.sub(prev_g)  # type: ignore[arg-type]
            s = d.mul(t)
            ys = y.dot(s)
            if ys > 1e-10:
                if len(dirs) == history:
                    dirs.pop(0)
                    stps.pop(0)
                    ro.pop(0)
                dirs.append(y)
                stps.append(s)
                ro.append(1.0 / ys)
                h_diag = ys / y.dot(y)
            al: list[Any] = [None] * len(dirs)
            q = g.neg()
            for i in range(len(dirs) - 1, -1, -1):
                al[i] = stps[i].dot(q) * ro[i]
                q.add_(dirs[i], alpha=-al[i])
            d = r = torch.mul(q, h_diag)
            for i in range(len(dirs)):
                be_i = dirs[i].dot(r) * ro[i]
                r.add_(stps[i], alpha=al[i] - be_i)
        if prev_g is None:
            prev_g = g.clone(memory_format=torch.contiguous_format)
        else:
            prev_g.copy_(g)
        prev_loss = loss
        t = min(1.0, 1.0 / g.abs().sum()) if n_iter == 1 else 1.0
        gtd = g.dot(d)
        if gtd > -change:
            break
        loss, g, t, ls_evals = _strong_wolfe(along, x, t, d, loss, g, gtd, max_ls=max_eval - evals)
        x = x.add(d, alpha=t)
        evals += ls_evals
        if n_iter == max_iter or evals >= max_eval or g.abs().max() <= tol:
            break
        if d.mul(t).abs().max() <= change or abs(loss - prev_loss) < change:
            break
    return x, n_iter


def fit_softmax(dense: np.ndarray, rest: sparse.spmatrix, labels: Sequence[str], sample_weight: np.ndarray,
                C: float, max_iter: int = 3000, tol: float = TOL, dense_rows: np.ndarray | None = None
                ) -> LogisticRegression:
    """A fitted multinomial ``LogisticRegression(C=C)`` on the columns ``[dense | rest]`` (a dense float block,
    then a sparse one), with per-row ``sample_weight``; three or more classes.

    ``dense_rows``: the row of ``dense`` each example takes (default: row ``i`` for example ``i``). The role head's
    examples share title embeddings (23,366 rows, 8,178 distinct vectors), so the dense products run over the
    distinct vectors only: ``(U·W)[rows]`` forward, the rows' gradients summed per vector backward."""
    import torch

    y = np.asarray(labels)
    classes, index = np.unique(y, return_inverse=True)
    if len(classes) < 3:
        raise ValueError(f"fit_softmax needs three or more classes, got {len(classes)}")
    n = rest.shape[0]
    rows_of = np.arange(len(dense)) if dense_rows is None else np.asarray(dense_rows, dtype=np.int64).ravel()
    if len(rows_of) != n or len(y) != n or len(sample_weight) != n:
        raise ValueError(f"fit_softmax needs parallel rows; got {len(rows_of)} dense, {n} sparse, {len(y)} "
                         f"labels, {len(sample_weight)} weights")
    if len(rows_of) and (rows_of.min() < 0 or rows_of.max() >= len(dense)):
        raise ValueError(f"fit_softmax: dense_rows must index the {len(dense)} rows of dense")
    nd = dense.shape[1]
    k, d = len(classes), nd + rest.shape[1]
    sw = np.asarray(sample_weight, dtype=np.float64)
    total = float(sw.sum())
    lam = 1.0 / (C * total)

    def csr(m: sparse.csr_matrix) -> torch.Tensor:
        it = np.int32 if m.nnz < 2**31 else np.int64  # 32-bit indices: less to read, about 5% faster products
        return torch.sparse_csr_tensor(torch.from_numpy(m.indptr.astype(it)), torch.from_numpy(m.indices.astype(it)),
                                       torch.from_numpy(m.data.astype(np.float64)), size=m.shape)

    rest = sparse.csr_matrix(rest, dtype=np.float64)
    with warnings.catch_warnings():  # "sparse CSR support is in beta": products with a dense matrix are all we use
        warnings.simplefilter("ignore", UserWarning)
        R, RT = csr(rest), csr(rest.T.tocsr())
    # The distinct vectors stored transposed ([nd, vectors]): PyTorch's float64 products of this block ran twice
    # as fast as with [vectors, nd] on an AMD CPU, in both directions.
    UT = torch.from_numpy(np.ascontiguousarray(np.asarray(dense, dtype=np.float64).T))
    dense_index = torch.from_numpy(rows_of)
    s = torch.from_numpy(sw / total)[:, None]
    rows = torch.from_numpy(index.astype(np.int64))[:, None]  # each row's class
    all_rows = torch.arange(n)
    # The unknowns, flat: the embedding block's weights class by class ([k, nd]), the tf-idf block's feature by
    # feature ([m, k]: the sparse products take it as it is), then the intercepts.
    m = d - nd

    def loss_and_grad(flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        Wd, Wr, b = flat[: k * nd].view(k, nd), flat[k * nd : k * d].view(m, k), flat[k * d :]
        z = (Wd @ UT).T[dense_index] + R @ Wr + b
        lse = torch.logsumexp(z, 1, keepdim=True)
        loss = (s * (lse - z.gather(1, rows))).sum() + 0.5 * lam * torch.dot(flat[: k * d], flat[: k * d])
        g = torch.exp(z - lse)
        g[all_rows, rows[:, 0]] -= 1.0  # softmax minus the one-hot labels
        g *= s
        grad = torch.empty(k * d + k, dtype=torch.float64)
        per_vector = torch.zeros(UT.shape[1], k, dtype=torch.float64).index_add_(0, dense_index, g)
        grad[: k * nd].view(k, nd).copy_((UT @ per_vector).T)
        grad[k * nd : k * d].view(m, k).copy_(RT @ g)
        grad[: k * d].add_(flat[: k * d], alpha=lam)
        grad[k * d :] = g.sum(0)
        return loss, grad

    with torch.no_grad():
        x, n_iter = lbfgs(loss_and_grad, torch.zeros(k * d + k, dtype=torch.float64), max_iter=max_iter, tol=tol)
    flat = x.numpy()
    head = LogisticRegression(C=C, max_iter=max_iter)
    head.classes_ = classes
    head.coef_ = np.hstack([flat[: k * nd].reshape(k, nd), flat[k * nd : k * d].reshape(m, k).T])
    head.intercept_ = flat[k * d :].copy()
    head.n_features_in_ = d
    head.n_iter_ = np.asarray([n_iter], dtype=np.int32)
    return head
