"""Named one-line mutations of src/offramp, each run against the tests that should catch it.

    python tests/mutants/mutate.py              # every mutant; a table of kill rates per area
    python tests/mutants/mutate.py --only ID    # one mutant (repeatable)
    python tests/mutants/mutate.py --markdown   # the table as docs/testing.md prints it

A mutant is a small semantic change a real bug could make (a sign, a side, a dropped term, an
escape left out). It is *killed* when its tests fail with it in place. Each mutant names the
exact text it replaces, which must occur once in its file: when the code moves, the script says
so instead of silently testing nothing. The source file is restored after every mutant, also on
Ctrl-C. Not part of `make test` (it runs the suite's subsets dozens of times); `make mutate`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "offramp"
AREAS = ("engine", "runner/store", "analysis", "loader", "report")
TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Mutant:
    id: str
    area: str
    file: str  # relative to src/offramp
    old: str
    new: str
    tests: tuple[str, ...]  # pytest targets relative to the repository
    what: str


ENGINE_TESTS = ("tests/engine",)
LOADER_TESTS = ("tests/scenario/test_scenario_language.py",)
ANALYSIS_TESTS = ("tests/analysis", "tests/studies")
M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    # --- engine ----------------------------------------------------------------------------
    M("combat-noise-mean-sign", "engine", "engine/mechanisms/combat.py",
      "- 0.5 * rules.noise_sd**2", "+ 0.5 * rules.noise_sd**2", ENGINE_TESTS,
      "the lognormal casualty noise loses its mean-one correction (sign flipped)"),
    M("combat-deep-strike-side", "engine", "engine/mechanisms/combat.py",
      "            if side == SIDE_B:\n                if logistics_hit is not None:",
      "            if side == SIDE_A:\n                if logistics_hit is not None:", ENGINE_TESTS,
      "deep strikes on logistics cut side a's power instead of side b's"),
    M("bargaining-a-salient-premium", "engine", "engine/mechanisms/bargaining.py",
      "cost_a = cost_a + (home_soil_premium_a[i] - one) * held_a_salient[i]",
      "cost_a = cost_a", ENGINE_TESTS,
      "side a's premium on its own soil held by b is dropped from its reservation"),
    M("bargaining-terms-other-end", "engine", "engine/mechanisms/bargaining.py",
      "split = x_low[i] + bargaining_power_a[i] * surplus",
      "split = x_high[i] - bargaining_power_a[i] * surplus", ENGINE_TESTS,
      "settlement terms measured from the other end of the bargaining range"),
    M("territory-breakthrough-inverted", "engine", "engine/mechanisms/territory.py",
      "ratio /= breakthrough_ratio", "ratio *= breakthrough_ratio", ENGINE_TESTS,
      "the breakthrough threshold multiplies the force ratio instead of dividing it"),
    M("escalation-lift-ignored", "engine", "engine/mechanisms/escalation.py",
      "(base + lifted_hazard * lifted_now)", "(base + lifted_hazard * F32(0.0))", ENGINE_TESTS,
      "lifting restrictions no longer raises the escalation hazard"),
    M("aid-lever-ignored", "engine", "engine/mechanisms/aid.py",
      "lever = np.array([levers.aid_multiplier if side == SIDE_A else 1.0",
      "lever = np.array([1.0 if side == SIDE_A else 1.0", ENGINE_TESTS,
      "the policy's aid multiplier is ignored"),
    M("politics-weariness-sign", "engine", "engine/mechanisms/politics.py",
      "logit = initial_logit[side, i] - weariness[side, i]",
      "logit = initial_logit[side, i] + weariness[side, i]", ENGINE_TESTS,
      "casualties raise support for fighting on instead of wearing it down"),
    # --- runner and store -------------------------------------------------------------------
    M("sampling-ignores-seed", "runner/store", "experiments/sampling.py",
      "rng = np.random.default_rng(np.random.SeedSequence(seed))",
      "rng = np.random.default_rng(np.random.SeedSequence(0))",
      ("tests/experiments",),
      "the futures are drawn with the same seed whatever the run's seed"),
    M("atomic-writes-direct", "runner/store", "store/atomic.py",
      "        write(tmp)\n", "        write(path)\n        return\n",
      ("tests/store", "tests/experiments"),
      "results written straight to their final path (no temporary file, no rename)"),
    M("chunk-bounds-drop-last", "runner/store", "experiments/runner.py",
      "return [(start, min(start + chunk_size, n_futures))\n",
      "return [(start, min(start + chunk_size, n_futures - 1))\n", ("tests/experiments",),
      "the last future of the run is never simulated"),
    M("resume-reruns-everything", "runner/store", "store/run_store.py",
      "return all(path.is_file() for path in self._chunk_files(index))", "return False",
      ("tests/experiments", "tests/store"),
      "resume redoes finished chunks"),
    M("resume-scenario-unchecked", "runner/store", "experiments/runner.py",
      "if expected_scenario is not None and expected_scenario.digest != manifest",
      "if False and expected_scenario is not None and expected_scenario.digest != manifest",
      ("tests/experiments",), "resume finishes a run with another scenario than its own"),
    # --- analysis ---------------------------------------------------------------------------
    M("claims-expect-lower-ignored", "analysis", "analysis/paired.py",
      'return effect if expect == "higher" else -effect', "return effect",
      ANALYSIS_TESTS, "a claim's `expect: lower` is read as `higher`"),
    M("regret-sign", "analysis", "analysis/robustness.py",
      'table["regret"] = (best - values) if larger_is_better else (values - best)',
      'table["regret"] = (values - best) if larger_is_better else (best - values)',
      ANALYSIS_TESTS, "regret measured the wrong way round"),
    M("requirements-or", "analysis", "analysis/robustness.py",
      "met &= np.asarray(condition.holds(numbers), dtype=bool) & ~np.isnan(numbers)",
      "met |= np.asarray(condition.holds(numbers), dtype=bool) & ~np.isnan(numbers)",
      ANALYSIS_TESTS, "a future meets the requirements when it meets any one of them"),
    M("verdict-ignores-majority", "analysis", "analysis/paired.py",
      "if directed_ci_low > -tolerance and shares.holds >= shares.fails:",
      "if directed_ci_low > -tolerance:", ANALYSIS_TESTS,
      "a claim holds on its mean alone, even when it is worse in most futures"),
    # --- loader -----------------------------------------------------------------------------
    M("extends-cycle-unchecked", "loader", "scenario/loader.py",
      "    if path in chain:\n", "    if False:\n", LOADER_TESTS,
      "an `extends` cycle is not detected"),
    M("source-not-required", "loader", "scenario/params.py",
      '    raise ValueError(f"source must be {SOURCE_FORMS}")\n\n\ndef _finite',
      "    return text\n\n\ndef _finite", LOADER_TESTS,
      "any text is accepted as a source"),
    M("share-bound-unchecked", "loader", "scenario/schema.py",
      "if too_low or highest > high:", "if too_low:", LOADER_TESTS,
      "a share or probability may exceed 1"),
    M("set-override-ignored", "loader", "scenario/loader.py",
      "        apply_override(data, key_path, value, text)\n", "",
      LOADER_TESTS, "`--set` overrides are parsed and then dropped"),
    M("uniform-bounds-unchecked", "loader", "scenario/params.py",
      "        if not self.low < self.high:\n            raise ValueError(\n"
      "                f\"uniform",
      "        if False:\n            raise ValueError(\n                f\"uniform",
      LOADER_TESTS, "a uniform distribution may have low >= high"),
    # --- report -----------------------------------------------------------------------------
    M("report-cells-unescaped", "report", "report/tables.py",
      "{html.escape(format_cell(value))}", "{format_cell(value)}", ("tests/report",),
      "table cells are not HTML-escaped"),
    M("report-title-unescaped", "report", "report/templates/report.html.j2",
      "<h1>{{ title }}</h1>", "<h1>{{ title | safe }}</h1>", ("tests/report",),
      "the report's <h1> is not HTML-escaped"),
    M("report-claims-never-rendered", "report", "report/sections.py",
      "    if claims is not None:\n        sections.append((\"Claims\", claims))\n", "",
      ("tests/report",),
      "the claims section is left out of the report"),
    M("paired-wins-inverted", "report", "analysis/compare.py",
      "better = own > values if headline.larger_is_better else own < values",
      "better = own < values if headline.larger_is_better else own > values",
      ("tests/report", "tests/analysis"),
      "the paired table credits the worse policy"),
    M("report-caveat-dropped", "report", "report/templates/report.html.j2",
      "<p class=\"caveat\"><strong>Not a forecast.</strong>", "<p class=\"caveat\">",
      ("tests/report", "tests/cli"),
      "the report no longer says it is not a forecast"),
)


def apply(mutant: Mutant) -> tuple[Path, str]:
    """Put the mutant in place; return the file and its original text (to restore)."""
    path = SRC / mutant.file
    original = path.read_text()
    count = original.count(mutant.old)
    if count != 1:
        raise SystemExit(f"{mutant.id}: the text to mutate occurs {count} times in "
                         f"{path.relative_to(ROOT)} (the code moved: update the mutant)")
    path.write_text(original.replace(mutant.old, mutant.new))
    return path, original


def run(mutant: Mutant) -> tuple[bool, float]:
    """(killed, seconds): run the mutant's tests with it in place."""
    missing = [target for target in mutant.tests if not (ROOT / target).exists()]
    if missing:  # pytest fails on a missing path, which would count the mutant as killed
        raise SystemExit(f"{mutant.id}: no such tests: {', '.join(missing)}")
    path, original = apply(mutant)
    start = time.perf_counter()
    try:
        env = {**os.environ, "OFFRAMP_MUTANT": mutant.id}
        try:
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                 "--no-header", *mutant.tests],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
            killed = result.returncode != 0
        except subprocess.TimeoutExpired:
            killed = True  # a mutant that hangs the suite is caught by CI's time limit
    finally:
        path.write_text(original)
    return killed, time.perf_counter() - start


def table(results: dict[str, tuple[bool, float]], markdown: bool) -> str:
    lines = []
    if markdown:
        lines += ["| mutant | area | what it breaks | killed |", "| --- | --- | --- | --- |"]
    for mutant in MUTANTS:
        if mutant.id not in results:
            continue
        killed, seconds = results[mutant.id]
        verdict = "killed" if killed else "SURVIVED"
        if markdown:
            lines.append(f"| `{mutant.id}` | {mutant.area} | {mutant.what} | {verdict} |")
        else:
            lines.append(f"{verdict:9} {mutant.area:13} {mutant.id:34} {seconds:6.1f} s")
    lines.append("")
    for area in AREAS:
        mine = [results[m.id][0] for m in MUTANTS if m.area == area and m.id in results]
        if mine:
            lines.append(f"{'- ' if markdown else ''}{area}: {sum(mine)} of {len(mine)} killed")
    total = [killed for killed, _ in results.values()]
    lines.append(f"{'- ' if markdown else ''}all: {sum(total)} of {len(total)} killed")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only this mutant (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m.id in args.only]
    unknown = set(args.only or ()) - {m.id for m in MUTANTS}
    if unknown:
        raise SystemExit(f"unknown mutants: {', '.join(sorted(unknown))}")
    results = {}
    for mutant in chosen:
        results[mutant.id] = run(mutant)
        killed, seconds = results[mutant.id]
        print(f"{'killed' if killed else 'SURVIVED':9} {mutant.id} ({seconds:.0f} s)", flush=True)
    print()
    print(table(results, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
