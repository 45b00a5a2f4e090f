"""Re-measure docs/model.md section 8 ("Why the three kursk-2024 policies differ").

Run from the repository with the project's venv:

    .venv/bin/python docs/measurements/why_policies_differ.py            # everything
    .venv/bin/python docs/measurements/why_policies_differ.py --quick    # tables only

Prints (1) the policy table on 10,000 futures (LHS, seed 0, same futures and noise for every
policy), (2) the paired lever table on 5,000 futures (seed 0), (3) diagnostics used in the prose
(talks timing, why open talks do not settle, the de-escalation ladder, the escalation ladder,
hardening, terms by date), (4) mechanism knock-outs (diagnostic only: they change scenario
inputs, not levers) and (5) paired differences with standard errors.

The numbers in section 8 were made at commit d07fc20 (2026-12-07); the engine's results depend
only on the scenario file and the code, not on chunking or the machine (docs/model.md
section 3). The three policies of the op-eds only: `as-happened` is a replay, not an argument.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from offramp.engine import simulate
from offramp.engine.mechanisms import bargaining
from offramp.engine.state import WAR
from offramp.experiments.build import build_inputs
from offramp.experiments.sampling import sample_futures
from offramp.scenario.loader import load_scenario
from offramp.studies.behaviours import longest_talks_without_deal

SEED = 0
N_MAIN = 10_000
N_PAIRED = 5_000
POLICIES = ("negotiate-now", "arm-and-hold", "drip-feed")
QUICK = "--quick" in sys.argv

sc = load_scenario("kursk-2024").scenario


# ----------------------------------------------------------------------------- helpers
def q3(x):
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if not x.size:
        return (np.nan, np.nan, np.nan)
    return tuple(np.percentile(x, [50, 10, 90]))


def fmt_q(x, scale=1.0, digits=0):
    m, lo, hi = q3(np.asarray(x, dtype=float) / scale)
    f = f"{{:.{digits}f}}"
    return f"{f.format(m)} [{f.format(lo)}, {f.format(hi)}]"


def share(x):
    return float(np.mean(np.asarray(x, dtype=float)))


class Collector:
    """Weekly diagnostics through simulate(..., observe=...)."""

    def __init__(self, inputs, levers):
        self.issues = inputs.bargaining.issues
        self.initial_support = np.asarray(inputs.belligerents.initial_support, dtype=float)
        self.ceiling0 = bargaining.guaranteed_ceiling(self.issues, levers.security_guarantees)
        self.lifts = levers.lift_restrictions
        n = inputs.n_futures
        self.n = n
        self.rows = []  # per week dict of arrays
        self.hardened = None

    def __call__(self, state):
        if state.week == 0:
            self.hardened = np.asarray(state.bargaining.hardened).copy()
            return
        w = state.week - 1  # the week that just ended
        support = np.asarray(state.politics.support, dtype=float)
        wear = np.clip(1.0 - support / self.initial_support, 0.0, 1.0)
        iss = self.issues
        ceiling = self.ceiling0 + (1.0 - self.ceiling0) * np.minimum(iss.softening_a * wear[0], 1.0)
        demand = iss.demand_b * (1.0 - np.minimum(iss.softening_b * wear[1], 1.0))
        per_issue_ok = demand <= ceiling  # (I, n)
        self.rows.append(
            dict(
                week=w,
                status=np.asarray(state.status).copy(),
                talks=np.asarray(state.bargaining.talks_open).copy(),
                surplus=np.asarray(state.bargaining.surplus, dtype=float).copy(),
                issue_ok=per_issue_ok.copy(),
                reimposed=np.asarray(state.escalation.reimposed_weeks_left, dtype=float) > 0,
                settle_week=np.asarray(state.bargaining.settlement_week, dtype=float).copy(),
            )
        )


def run(inputs, levers, n, series=False, observe=None):
    return simulate(inputs, levers, SEED, np.arange(n), record_series=series, observe=observe)


# ----------------------------------------------------------------------------- table 1
fut = sample_futures(sc, N_MAIN, seed=SEED)
main = {}
for pol in POLICIES:
    inp, lev = build_inputs(sc, fut, pol)
    col = None if QUICK else Collector(inp, lev)
    res = run(inp, lev, N_MAIN, series=True, observe=col)
    main[pol] = (inp, lev, res.outcomes, res.series, col)


def table1_rows(o, s):
    ended = o["ended"].astype(bool)
    settled = o["end_kind"] == 1
    long_talks = longest_talks_without_deal(s["talks_open"], o["settlement_week"]) >= 12
    return [
        ("ended by week 104 (share)", f"{share(ended):.2f}"),
        ("... of which ceasefire (share of all)", f"{share(o['end_kind'] == 2):.3f}"),
        ("settled (share)", f"{share(settled):.3f}"),
        ("end week (ended futures)", fmt_q(o["end_week"][ended])),
        ("talks ever opened (share)", f"{share(o['talks_ever_opened']):.2f}"),
        ("talks open ≥ 12 weeks without a deal (share)", f"{share(long_talks):.2f}"),
        ("deadlock weeks (mean)", f"{np.mean(o['deadlock_weeks']):.1f}"),
        ("refused talks over soil (share)", f"{share(o['refused_talks_over_soil']):.2f}"),
        ("a_territory_share", fmt_q(o["a_territory_share"], digits=3)),
        ("settlement terms x* (settled)", fmt_q(o["settlement_terms"], digits=3)),
        ("issue concessions (median, settled)", fmt_q(o["issue_concessions"], digits=3)),
        ("salient km² traded (mean)", f"{np.mean(o['salient_km2_traded']):.0f}"),
        ("salient km² held at week 104 (mean)", f"{np.mean(o['salient_km2_at_end']):.0f}"),
        ("casualties a (thousand)", fmt_q(o["casualties_a"], 1e3)),
        ("casualties b (thousand)", fmt_q(o["casualties_b"], 1e3)),
        ("killed a (thousand)", fmt_q(o["killed_a"], 1e3)),
        ("killed b (thousand)", fmt_q(o["killed_b"], 1e3)),
        ("lowest generating capacity", fmt_q(o["min_generating_capacity"], digits=2)),
        ("lowest US shell stock (thousand rounds)", fmt_q(o["min_backer_shell_stock"], 1e3)),
        ("lowest US high-end stock (mean)", f"{np.mean(o['min_backer_high_end_stock']):.2f}"),
        ("rival theater opened (share)", f"{share(o['rival_opened']):.3f}"),
        ("two-front war (share)", f"{share(o['two_front_war']):.3f}"),
        ("escalation events (mean)", f"{np.mean(o['escalation_events']):.2f}"),
        (
            "highest escalation rung: nuclear signalling or above (share)",
            f"{share(o['highest_escalation_rung'] >= 2):.3f}",
        ),
        (
            "highest escalation rung: NATO threat (share)",
            f"{share(o['highest_escalation_rung'] >= 3):.3f}",
        ),
        ("highest ladder rung (mean)", f"{np.mean(o['highest_rung']):.2f}"),
        ("shells delivered to Ukraine (million)", fmt_q(o["aid_shells_delivered"], 1e6, 2)),
    ]


print(f"## Table 1: {N_MAIN} futures, seed {SEED}\n")
print("| outcome | " + " | ".join(POLICIES) + " |")
print("| --- | --- | --- | --- |")
rows = {pol: table1_rows(main[pol][2], main[pol][3]) for pol in POLICIES}
for i, (name, _) in enumerate(rows[POLICIES[0]]):
    print(f"| {name} | " + " | ".join(rows[pol][i][1] for pol in POLICIES) + " |")

# ----------------------------------------------------------------------------- table 2
PAIRED = [
    ("negotiate-now", "negotiate-now", {}),
    ("&nbsp;&nbsp;... hold not trade", "negotiate-now", {"salient_posture": "hold"}),
    ("&nbsp;&nbsp;... withdraw", "negotiate-now", {"salient_posture": "withdraw"}),
    ("&nbsp;&nbsp;... no ladder", "negotiate-now", {"pursue_ladder": False}),
    ("&nbsp;&nbsp;... initiative 1", "negotiate-now", {"talks_initiative": 1.0}),
    ("&nbsp;&nbsp;... security guarantees 1", "negotiate-now", {"security_guarantees": 1.0}),
    ("arm-and-hold", "arm-and-hold", {}),
    ("&nbsp;&nbsp;... no end-state floor", "arm-and-hold", {"end_state_floor": None}),
    ("&nbsp;&nbsp;... restrictions kept", "arm-and-hold", {"lift_restrictions": False}),
    (
        "&nbsp;&nbsp;... aid x1, surge x1",
        "arm-and-hold",
        {"aid_multiplier": 1.0, "industrial_surge": 1.0},
    ),
    ("&nbsp;&nbsp;... seek talks week 0", "arm-and-hold", {"seek_talks_from_week": 0}),
    ("&nbsp;&nbsp;... no pacific reserve", "arm-and-hold", {"pacific_reserve_share": 0.0}),
    ("drip-feed", "drip-feed", {}),
    ("&nbsp;&nbsp;... seek talks week 0", "drip-feed", {"seek_talks_from_week": 0}),
]

fut_p = sample_futures(sc, N_PAIRED, seed=SEED)
base_inputs = {pol: build_inputs(sc, fut_p, pol) for pol in POLICIES}
paired = {}  # keyed by row index: two rows share the label "seek talks week 0"
for i, (label, pol, change) in enumerate(PAIRED):
    inp, lev = base_inputs[pol]
    res = run(inp, dataclasses.replace(lev, **change), N_PAIRED, series=True)
    paired[i] = (pol, res.outcomes, res.series)
BASE_ROW = {pol: i for i, (_, pol, change) in enumerate(PAIRED) if not change}

print(f"\n## Table 2: paired lever changes, {N_PAIRED} futures, seed {SEED}\n")
print(
    "| run | ended | end week (median) | territory (median) | terms (mean, settled) "
    "| Ukrainian casualties (median) | escalations (mean) | two-front (share) |"
)
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for i, (label, _, _) in enumerate(PAIRED):
    _, o, _ = paired[i]
    print(
        f"| {label} | {share(o['ended']):.2f} | {np.nanmedian(o['end_week']):.0f} "
        f"| {np.median(o['a_territory_share']):.4f} | {np.nanmean(o['settlement_terms']):.4f} "
        f"| {np.median(o['casualties_a']) / 1000:.0f},000 | {np.mean(o['escalation_events']):.2f} "
        f"| {share(o['two_front_war']):.3f} |"
    )

print("\n### paired rows: extra columns (diagnostic)\n")
print(
    "| run | settled | ceasefire | talks>=12 no deal | deadlock wk | refused | nuclear | NATO "
    "| territory mean | issue conc. median | salient traded mean |"
)
for i, (label, _, _) in enumerate(PAIRED):
    _, o, s = paired[i]
    lt = longest_talks_without_deal(s["talks_open"], o["settlement_week"]) >= 12
    print(
        f"| {label.replace('&nbsp;', '')} | {share(o['end_kind'] == 1):.3f} "
        f"| {share(o['end_kind'] == 2):.3f} | {share(lt):.3f} "
        f"| {np.mean(o['deadlock_weeks']):.1f} | {share(o['refused_talks_over_soil']):.3f} "
        f"| {share(o['highest_escalation_rung'] >= 2):.3f} "
        f"| {share(o['highest_escalation_rung'] >= 3):.3f} "
        f"| {np.mean(o['a_territory_share']):.4f} | {np.nanmedian(o['issue_concessions']):.4f} "
        f"| {np.mean(o['salient_km2_traded']):.0f} |"
    )

print("\n### paired differences against the policy's own row (mean ± 2 SE, paired)\n")
for i, (label, pol, change) in enumerate(PAIRED):
    if not change:
        continue
    _, ob, _ = paired[BASE_ROW[pol]]
    _, o, _ = paired[i]
    out = []
    for key in ("ended", "a_territory_share", "casualties_a", "escalation_events", "two_front_war"):
        d = np.asarray(o[key], dtype=float) - np.asarray(ob[key], dtype=float)
        out.append(f"{key} {d.mean():+.4f}±{2 * d.std(ddof=1) / np.sqrt(d.size):.4f}")
    both = ~np.isnan(o["settlement_terms"]) & ~np.isnan(ob["settlement_terms"])
    d = o["settlement_terms"][both] - ob["settlement_terms"][both]
    out.append(
        f"terms(both settled, n={both.sum()}) {d.mean():+.4f}±"
        f"{2 * d.std(ddof=1) / np.sqrt(max(d.size, 2)):.4f}"
    )
    print(f"- {pol} {label.replace('&nbsp;', '')}: " + "; ".join(out))

if QUICK:
    sys.exit(0)

# ----------------------------------------------------------------------------- diagnostics
print("\n## Diagnostics (10,000 futures)\n")
for pol in POLICIES:
    inp, lev, o, s, col = main[pol]
    n = N_MAIN
    talks = np.asarray(s["talks_open"], dtype=bool)[1:]  # (weeks, n)
    any_t = talks.any(axis=0)
    first = np.where(any_t, talks.argmax(axis=0), np.nan)
    ended = o["ended"].astype(bool)
    settled = o["end_kind"] == 1
    print(f"### {pol}")
    print(
        f"first week talks open: median {np.nanmedian(first):.0f}, p10 {np.nanpercentile(first, 10):.0f}, "
        f"p90 {np.nanpercentile(first, 90):.0f} (of {any_t.mean():.2f} with talks)"
    )
    sw = o["settlement_week"]
    print(
        f"settlement week (settled): {fmt_q(sw[settled])}; before week 22: {share(sw < 22):.3f}; "
        f"before 52: {share(sw < 52):.3f}"
    )
    print(
        f"talks open weeks mean {np.mean(o['talks_open_weeks']):.1f}; deadlock weeks mean "
        f"{np.mean(o['deadlock_weeks']):.1f}; deadlock>=12 {share(o['deadlock_weeks'] >= 12):.3f}"
    )
    # classify talks-open weeks
    R = col.rows
    cls = dict(deal=0, deadlock=0, neg_surplus=0, waiting=0)
    per_issue_block = np.zeros(2)
    both_block = 0
    neg_given_ok = 0
    at_war_weeks = 0
    reimposed_war = 0
    for r in R:
        t = r["talks"]
        deal = r["settle_week"] == r["week"]
        ok = r["issue_ok"].all(axis=0)
        cls["deal"] += int((t & deal).sum())
        nd = t & ~deal
        cls["deadlock"] += int((nd & ~ok).sum())
        cls["neg_surplus"] += int((nd & ok & (r["surplus"] < 0)).sum())
        cls["waiting"] += int((nd & ok & (r["surplus"] >= 0)).sum())
        per_issue_block += (nd[None] & ~r["issue_ok"]).sum(axis=1)
        both_block += int((nd & ~r["issue_ok"].any(axis=0)).sum())
        war = r["status"] == WAR
        at_war_weeks += int(war.sum())
        reimposed_war += int((war & r["reimposed"]).sum())
    tot = sum(cls.values())
    print(
        "talks-open weeks: "
        + ", ".join(f"{k} {v / tot:.3f}" for k, v in cls.items())
        + f" (total {tot})"
    )
    nd_tot = tot - cls["deal"]
    print(
        f"  of no-deal talk weeks: security blocks {per_issue_block[0] / nd_tot:.3f}, "
        f"sanctions blocks {per_issue_block[1] / nd_tot:.3f}, both {both_block / nd_tot:.3f}"
    )
    if lev.lift_restrictions:
        print(f"at-war weeks with restrictions reimposed: {reimposed_war / at_war_weeks:.3f}")
    # state of the range among futures at war at given weeks
    for wk in (0, 4, 12, 26, 52, 78):
        r = R[wk]
        war = r["status"] == WAR
        ok = r["issue_ok"].all(axis=0)
        sec = r["issue_ok"][0]
        san = r["issue_ok"][1]
        pos = r["surplus"] >= 0
        print(
            f"  week {wk:3d}: at war {war.mean():.3f}; among them issues agree {ok[war].mean():.3f} "
            f"(security {sec[war].mean():.3f}, sanctions {san[war].mean():.3f}), surplus>=0 "
            f"{pos[war].mean():.3f}, both {(ok & pos)[war].mean():.3f}, talks open "
            f"{r['talks'][war].mean():.3f}"
        )
    # hardening
    h = col.hardened
    print(
        f"hardened futures {h.mean():.3f}; ended | hardened {ended[h].mean():.3f}, "
        f"| not hardened {ended[~h].mean():.3f}; settled-week median hardened "
        f"{np.nanmedian(sw[h]):.0f} vs not {np.nanmedian(sw[~h]):.0f}"
    )
    sal = np.asarray(s["salient_km2"], dtype=float)
    lost_week = np.where((sal[1:] <= 0).any(axis=0), (sal[1:] <= 0).argmax(axis=0), np.nan)
    print(
        f"  salient lost in war (before any deal) share {np.mean(~np.isnan(lost_week) & (np.isnan(sw) | (lost_week < sw))):.3f}; "
        f"hardened & refused {o['refused_talks_over_soil'][h].mean():.3f}"
    )
    hs = h & settled
    print(
        f"  hardened & settled: {hs.mean():.3f}; salient traded mean when hardened & settled "
        f"{o['salient_km2_traded'][hs].mean() if hs.any() else np.nan:.0f}"
    )
    # terms by settlement date
    bins = [(0, 13), (13, 26), (26, 52), (52, 104)]
    tx = o["settlement_terms"]
    print(
        "  mean terms by settlement week: "
        + ", ".join(
            f"[{a},{b}) {np.nanmean(tx[(sw >= a) & (sw < b)]):.4f} (n={int(((sw >= a) & (sw < b)).sum())})"
            for a, b in bins
        )
    )
    print("  terms minus line at the week of settlement (km2-equivalent via 603,550): ", end="")
    qrow = np.asarray(s["a_territory_share"], dtype=float)
    # line just before the settlement week: row = settlement_week (end of week w-1)
    idx = np.where(settled, sw, 0).astype(int)
    line_before = qrow[idx, np.arange(n)]
    gap = (tx - line_before)[settled]
    print(
        f"median {np.median(gap):+.4f} ({np.median(gap) * 603550:+.0f} km2), share above line "
        f"{(gap > 0).mean():.2f}"
    )
    print(f"  issue concessions (settled) {fmt_q(o['issue_concessions'][settled], digits=3)}")
    # ladder
    hr = o["highest_rung"]
    print(
        "  de-escalation ladder highest rung distribution: "
        + ", ".join(f"{k}:{(hr == k).mean():.3f}" for k in range(0, 7))
    )
    if lev.pursue_ladder:
        lr = np.asarray(s["ladder_rung"], dtype=float)[1:]  # (weeks, n) highest rung in force
        for k, name in enumerate(
            ("shipping", "energy ban", "rear areas", "disengagement", "no incursions", "ceasefire"),
            start=1,
        ):
            reached = (lr >= k).any(axis=0)
            wk = np.where(reached, (lr >= k).argmax(axis=0), np.nan)
            print(
                f"  ladder rung {k} ({name}) first in force: share {reached.mean():.3f}, "
                f"median week {np.nanmedian(wk):.0f}"
            )
        war_rows = np.array([r["status"] == WAR for r in R])
        print(
            f"  share of at-war weeks with rung >= 3 (rear areas) in force "
            f"{(lr[war_rows] >= 3).mean():.3f}; with shipping in force {(lr[war_rows] >= 1).mean():.3f}"
        )
    her = o["highest_escalation_rung"]
    print(
        "  escalation ladder highest rung distribution: "
        + ", ".join(f"{k}:{(her == k).mean():.3f}" for k in range(0, 4))
    )
    print(
        f"  escalation events mean {np.mean(o['escalation_events']):.2f}; any event "
        f"{share(o['escalation_events'] > 0):.3f}"
    )
    # weeks at war
    war_weeks = np.array([(r["status"] == WAR) for r in R]).sum(axis=0)
    print(f"  weeks at war mean {war_weeks.mean():.1f}, median {np.median(war_weeks):.0f}")
    # nuclear signalling among futures with any event, and timing relative to the end
    print()

# ------------------------------------------------------------------- mechanism knock-outs
print("\n## Knock-outs (diagnostic; scenario inputs changed, 5,000 futures)\n")


def knock(inp, what):
    b = inp.belligerents
    if what == "no issues (B5b)":
        return dataclasses.replace(inp, bargaining=dataclasses.replace(inp.bargaining, issues=None))
    if what == "no commitment premiums (B4)":
        return dataclasses.replace(
            inp,
            belligerents=dataclasses.replace(
                b, commitment_premium=np.zeros_like(b.commitment_premium)
            ),
        )
    if what == "no hardening (B8)":
        return dataclasses.replace(
            inp,
            belligerents=dataclasses.replace(
                b, hardens_while_soil_held=np.zeros_like(b.hardens_while_soil_held)
            ),
        )
    if what == "no line focality (B9)":
        return dataclasses.replace(
            inp, bargaining=dataclasses.replace(inp.bargaining, line_focality=0.0)
        )
    if what == "no escalation rungs (4.9)":
        return dataclasses.replace(inp, escalation=dataclasses.replace(inp.escalation, rungs=None))
    if what == "no pre-talks escalation (B11)":
        esc = inp.escalation
        return dataclasses.replace(
            inp,
            escalation=dataclasses.replace(
                esc, pre_talks_multiplier=np.zeros_like(esc.pre_talks_multiplier)
            ),
        )
    if what in ("no shipping rung", "no disengagement rung"):
        row = inp.ladder.effects.index(
            "shipping" if what == "no shipping rung" else "disengagement"
        )
        strength = np.array(inp.ladder.strength, copy=True)
        strength[row] = 0.0
        return dataclasses.replace(inp, ladder=dataclasses.replace(inp.ladder, strength=strength))
    if what == "none of B4, B5b, B8":
        x = knock(
            knock(knock(inp, "no issues (B5b)"), "no commitment premiums (B4)"), "no hardening (B8)"
        )
        return x
    raise ValueError(what)


KNOCKS = (
    "no issues (B5b)",
    "no commitment premiums (B4)",
    "no hardening (B8)",
    "no line focality (B9)",
    "no escalation rungs (4.9)",
    "no pre-talks escalation (B11)",
    "none of B4, B5b, B8",
)
print(
    "| policy | knock-out | ended | settled | end week med | territory med | terms mean "
    "| casualties a med | nuclear | NATO | escalations |"
)
for pol in POLICIES:
    inp, lev = base_inputs[pol]
    extra = ("no shipping rung", "no disengagement rung") if pol == "negotiate-now" else ()
    variants = [("(as is)", {})] + [(k, {}) for k in KNOCKS + extra]
    if pol == "arm-and-hold":
        variants += [
            ("seek talks week 0", {"seek_talks_from_week": 0}),
            ("seek talks week 0 + no pre-talks escalation (B11)", {"seek_talks_from_week": 0}),
        ]
    for what, change in variants:
        base_what = what.replace("seek talks week 0 + ", "").replace("seek talks week 0", "(as is)")
        x = inp if base_what == "(as is)" else knock(inp, base_what)
        o = run(x, dataclasses.replace(lev, **change), N_PAIRED).outcomes
        print(
            f"| {pol} | {what} | {share(o['ended']):.3f} | {share(o['end_kind'] == 1):.3f} "
            f"| {np.nanmedian(o['end_week']):.0f} | {np.median(o['a_territory_share']):.4f} "
            f"| {np.nanmean(o['settlement_terms']):.4f} | {np.median(o['casualties_a']) / 1e3:.0f}k "
            f"| {share(o['highest_escalation_rung'] >= 2):.3f} "
            f"| {share(o['highest_escalation_rung'] >= 3):.3f} | {np.mean(o['escalation_events']):.2f} |"
        )

# held soil: posture x hardening (negotiate-now and arm-and-hold)
print("\n## Salient posture by hardening (5,000 futures)\n")
for pol in ("negotiate-now", "arm-and-hold"):
    inp, lev = base_inputs[pol]
    col0 = Collector(inp, lev)
    run(inp, lev, N_PAIRED, observe=col0)
    h = col0.hardened
    for post in ("trade", "hold", "withdraw"):
        o = run(inp, dataclasses.replace(lev, salient_posture=post), N_PAIRED).outcomes
        print(
            f"{pol} {post}: ended all {o['ended'].mean():.3f}, territory mean all "
            f"{o['a_territory_share'].mean():.4f}; ended hardened {o['ended'][h].mean():.3f} / not {o['ended'][~h].mean():.3f}; "
            f"terms mean hardened {np.nanmean(o['settlement_terms'][h]):.4f} / not "
            f"{np.nanmean(o['settlement_terms'][~h]):.4f}; territory mean hardened "
            f"{o['a_territory_share'][h].mean():.4f} / not {o['a_territory_share'][~h].mean():.4f}; "
            f"end week med hardened {np.nanmedian(o['end_week'][h]):.0f} / not "
            f"{np.nanmedian(o['end_week'][~h]):.0f}"
        )

# talks timing under arm-and-hold and drip-feed: who gains from seeking talks at week 0
print("\n## Seeking talks at week 0, by hardening (5,000 futures)\n")
for pol in ("arm-and-hold", "drip-feed"):
    inp, lev = base_inputs[pol]
    changes = ({}, {"seek_talks_from_week": 0}) + (
        ({"seek_talks_from_week": 26},) if pol == "drip-feed" else ()
    )
    for change in changes:
        lev2 = dataclasses.replace(lev, **change)
        col2 = Collector(inp, lev2)
        res = run(inp, lev2, N_PAIRED, series=True, observe=col2)
        o, h = res.outcomes, col2.hardened
        talks = np.asarray(res.series["talks_open"], dtype=bool)[1:]
        first = np.where(talks.any(axis=0), talks.argmax(axis=0), np.nan)
        print(
            f"{pol} {change}: ended {o['ended'].mean():.3f} (hardened {o['ended'][h].mean():.3f}, "
            f"not {o['ended'][~h].mean():.3f}); talks ever {o['talks_ever_opened'].mean():.3f}; "
            f"first open median {np.nanmedian(first):.0f}; talks-open weeks mean "
            f"{o['talks_open_weeks'].mean():.1f}; deadlock weeks mean {o['deadlock_weeks'].mean():.1f}; "
            f"escalation events {o['escalation_events'].mean():.2f}"
        )
