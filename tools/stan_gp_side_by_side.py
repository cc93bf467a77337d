"""Stan (PyStan 3 / httpstan 4.13) on gp_pois_regr, one chain at a time: the summed
per-chain wall times / 2 cores approximate the anchors' C++ time (plus PyStan's
per-chain overhead, so Stan's own figure is a little better than this one's).

Setup: /tmp/nutpie-venv/bin/pip install pystan==3.10.0   (httpstan 4.13; needs g++)
Usage: /tmp/nutpie-venv/bin/python tools/stan_gp_side_by_side.py [first_seed] [runs]
"""
import json, os, sys, time
import numpy as np
import stan, arviz as az
REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                   "reference", "posteriordb", "gp_pois_regr-gp_pois_regr")
code = open(f"{REF}/model.stan").read()
data = json.load(open(f"{REF}/data.json"))
rows = []
for seed in range(int(sys.argv[1]), int(sys.argv[1]) + int(sys.argv[2])):
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
    ess = az.ess(ds, method="bulk")
    min_ess = min(float(ess[v].min()) for v in ess.data_vars)
    t = total / 2
    rows.append((t, grads, min_ess, min_ess / t, 1000 * min_ess / grads, div))
    print(f"gp seed {seed}: time {t:.3f} s grads {grads} minESS {min_ess:.0f} ESS/s {min_ess/t:.0f} ESS/1k {1000*min_ess/grads:.2f} div {div}", flush=True)
med = np.median(np.array(rows), axis=0)
print(f"MEDIAN gp: time {med[0]:.3f} grads {med[1]:.0f} minESS {med[2]:.0f} ESS/s {med[3]:.0f} ESS/1k {med[4]:.2f} div {med[5]:.0f}")
