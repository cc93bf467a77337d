"""Stan (PyStan 3 / httpstan 4.13) on gp_pois_regr, one chain at a time: the summed
per-chain wall times / 2 cores approximate the anchors' C++ time (plus PyStan's
per-chain overhead, so Stan's own figure is a little better than this one's).

Setup: /tmp/nutpie-venv/bin/pip install pystan==3.10.0   (httpstan 4.13; needs g++)
Usage: /tmp/nutpie-venv/bin/python tools/stan_gp_side_by_side.py [first_seed] [runs]
"""
import json, os, sys, time
import numpy as np
import stan, arviz as az
from side_by_side import REF, Runs, min_bulk_ess, seeds
REF = os.path.join(REF, "posteriordb", "gp_pois_regr-gp_pois_regr")
code = open(f"{REF}/model.stan").read()
data = json.load(open(f"{REF}/data.json"))
runs = Runs("gp")
for seed in seeds(sys.argv, 1):
    chains = {k: [] for k in ["rho", "alpha", "f_tilde", "f"]}
    total, grads, div = 0.0, 0, 0
    for c in range(4):
        model = stan.build(code, data=data, random_seed=1000 * seed + c)
        t = time.perf_counter()
        fit = model.sample(num_chains=1, num_samples=1000, num_warmup=1000, save_warmup=True)
        total += time.perf_counter() - t
        for k in chains:
            a = fit[k]
            a = a.reshape(-1, a.shape[-1])[:, 1000:]
            chains[k].append(a.T)  # (draws, elems)
        grads += int(fit["n_leapfrog__"].sum())
        div += int(fit["divergent__"].reshape(-1)[1000:].sum())
    ds = az.convert_to_dataset({k: np.stack(v) for k, v in chains.items()})
    # Wall time: the chains' summed times over 2 cores.
    runs.add(seed, total / 2, grads, min_bulk_ess(ds), div)
runs.median()
