"""Studies: questions that run experiments and analyse them, or analyse a stored run.

* `claims` — the sources' claims judged on shared futures, stored with a run.
* `runs` — the run-folder service: robustness, discovery, sensitivity on a finished run.
* `summary` — what the report shows, gathered from a run folder (never runs the engine).
* `endings` — how the two historical wars ended, scored against the futures.
"""
