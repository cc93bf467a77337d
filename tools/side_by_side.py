"""What the side-by-side scripts share: where the reference data are, the measures of
one run as ANCHORS.md defines them, the table of runs with its median, and the seeds
taken from the command line."""
import os
import numpy as np
import arviz as az

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "reference")


def min_bulk_ess(dataset):
    """The smallest bulk ESS over every scalar of an ArviZ dataset."""
    ess = az.ess(dataset, method="bulk")
    return min(float(ess[v].min()) for v in ess.data_vars)


def max_rhat(dataset):
    """The largest rank-normalised split R-hat over every scalar."""
    rhat = az.rhat(dataset)
    return max(float(rhat[v].max()) for v in rhat.data_vars)


def seeds(argv, at):
    """`argv[at]` = first seed (default 1), `argv[at + 1]` = number of runs (default 3)."""
    first = int(argv[at]) if len(argv) > at else 1
    runs = int(argv[at + 1]) if len(argv) > at + 1 else 3
    return range(first, first + runs)


class Runs:
    """One line per run and their medians; `grads` names what the gradient count
    covers (NumPyro's counts the draws only)."""

    def __init__(self, label, grads="grads"):
        self.label, self.grads, self.rows = label, grads, []

    def add(self, seed, wall, grads, min_ess, div, rhat=None):
        row = dict(wall=wall, grads=grads, min_ess=min_ess, ess_s=min_ess / wall,
                   ess_1k=1000 * min_ess / grads, div=div)
        if rhat is not None:
            row["rhat"] = rhat
        self.rows.append(row)
        print(f"{self.label} seed {seed}: {self._line(row)}", flush=True)

    def median(self):
        med = {k: float(np.median([r[k] for r in self.rows])) for k in self.rows[0]}
        print(f"MEDIAN {self.label}: {self._line(med)}", flush=True)

    def _line(self, r):
        line = (f"wall {r['wall']:.3f} s {self.grads} {r['grads']:.0f} minESS {r['min_ess']:.0f} "
                f"ESS/s {r['ess_s']:.0f} ESS/1k {r['ess_1k']:.2f} div {r['div']:.0f}")
        return line + (f" rhat {r['rhat']:.4f}" if "rhat" in r else "")
