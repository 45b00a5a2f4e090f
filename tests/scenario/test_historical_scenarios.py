"""The historical hindcast scenarios: the Polish-Soviet War (1920) and the Winter War (1939-40).

Both wars are cited by seed 003 as evidence that holding the enemy's soil decides the terms. The
scenarios must validate, carry a unit and source on every number, offer policies to compare, and
cover the historical ending with their start date and horizon. The historical dates below are
copied from shared/data/war_termination_cases.csv (row named in each comment: case, quantity,
status) and WAR_TERMINATION_CASES.md; nothing here is typed from memory.
"""

from __future__ import annotations

import datetime as dt

import pytest

from offramp.scenario.loader import load_scenario
from offramp.scenario.walk import scenario_parameters

POLISH_SOVIET = "polish-soviet-1920"
WINTER_WAR = "winter-war-1939"
NAMES = (POLISH_SOVIET, WINTER_WAR)

# polish_soviet,war_start_COW,1919-02-14 (COW v4.0 WarNum 109, verified-dataset)
PS_WAR_START_COW = dt.date(1919, 2, 14)
# polish_soviet,war_end_COW,1920-10-18 (COW v4.0 WarNum 109, verified-dataset; = ceasefire)
PS_WAR_END_COW = dt.date(1920, 10, 18)
# polish_soviet,armistice_and_preliminary_peace_signed,1920-10-12 (verified-secondary-page)
PS_ARMISTICE_SIGNED = dt.date(1920, 10, 12)
# polish_soviet,ceasefire_effective,1920-10-18 (verified-secondary-page)
PS_CEASEFIRE = dt.date(1920, 10, 18)
# polish_soviet,treaty_signed,1921-03-18 (verified-secondary-page)
PS_TREATY = dt.date(1921, 3, 18)
# polish_soviet,negotiation_timeline: talks opened in Minsk 17 Aug 1920 (verified-secondary-page)
PS_TALKS_OPENED = dt.date(1920, 8, 17)

# winter_war,war_start_COW,1939-11-30 (COW v4.0 WarNum 142, verified-dataset)
WW_WAR_START_COW = dt.date(1939, 11, 30)
# winter_war,war_end_COW,1940-03-12 (COW v4.0 WarNum 142, verified-dataset)
WW_WAR_END_COW = dt.date(1940, 3, 12)
# winter_war,treaty_signed,1940-03-12 (verified-secondary-page)
WW_TREATY = dt.date(1940, 3, 12)
# winter_war,ceasefire_effective,1940-03-13 11:00 (Finnish time) (verified-secondary-page)
WW_CEASEFIRE = dt.date(1940, 3, 13)
# WAR_TERMINATION_CASES.md, Winter War table, row "talks": Finland began peace talks 29 Feb 1940
# (status read: piglix.com/piglix/Peace_of_Moscow)
WW_TALKS_BEGAN = dt.date(1940, 2, 29)

# (first day of the war per COW, dates the horizon must cover) per scenario
HISTORICAL_DATES = {
    POLISH_SOVIET: (PS_WAR_START_COW, (PS_ARMISTICE_SIGNED, PS_CEASEFIRE, PS_WAR_END_COW,
                                       PS_TREATY)),
    WINTER_WAR: (WW_WAR_START_COW, (WW_WAR_END_COW, WW_TREATY, WW_CEASEFIRE)),
}

# Record of losses used to check the killed-share priors (same csv / md):
# polish_soviet,casualties_Poland_other: 47,551 dead; 113,518 wounded (verified-secondary-page)
PS_POLISH_DEAD, PS_POLISH_WOUNDED = 47_551, 113_518
# winter_war,casualties_Finland_other: 25,904 dead or missing; 43,557 wounded
WW_FINNISH_DEAD, WW_FINNISH_WOUNDED = 25_904, 43_557

# Engine workaround kept in winter-war-1939 (docs/historical-scenarios.md): Finland starts with a
# token foothold on Soviet soil for its counterfactual policy, below this size.
FINNISH_FOOTHOLD_MAX_KM2 = 50
# The Red Army holds only the border ground of the first day of the Winter War at week 0.
FIRST_DAY_MAX_KM2 = 500


def week_of(name: str, day: dt.date) -> float:
    meta = load_scenario(name).scenario.scenario
    return (day - meta.start_date).days / meta.step_days


@pytest.mark.parametrize("name", NAMES)
def test_scenario_validates(name):
    scenario = load_scenario(name).scenario
    assert scenario.scenario.name == name
    assert {b.side for b in scenario.belligerents.values()} == {"a", "b"}


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_has_a_unit_and_a_source(name):
    params = scenario_parameters(load_scenario(name).scenario)
    assert len(params) > 50
    for path, param in params.items():
        assert param.unit.strip(), path
        assert param.source.strip(), path
    # The record is used, not only assumptions.
    cited = [p for p in params.values() if not p.source.lower().startswith("assumption")]
    assert len(cited) >= 15, f"only {len(cited)} parameters cite a seed or a publication"


@pytest.mark.parametrize("name", NAMES)
def test_at_least_two_policies_with_description_and_source(name):
    policies = load_scenario(name).scenario.policies
    assert len(policies) >= 2
    assert "as-fought" in policies
    for key, policy in policies.items():
        assert policy.description.strip(), key
        assert policy.source.strip(), key


@pytest.mark.parametrize("name", NAMES)
def test_start_and_horizon_cover_the_historical_ending(name):
    meta = load_scenario(name).scenario.scenario
    war_start, endings = HISTORICAL_DATES[name]
    last_day = meta.start_date + dt.timedelta(days=meta.step_days * meta.horizon_weeks)
    assert war_start <= meta.start_date, "the scenario starts before the war"
    for ending in endings:
        assert meta.start_date < ending <= last_day, (ending, meta.start_date, last_day)


def test_winter_war_starts_on_the_first_day_of_the_war():
    assert load_scenario(WINTER_WAR).scenario.scenario.start_date == WW_WAR_START_COW


def test_every_contested_area_is_an_assumption():
    # The area held at each ceasefire is MISSING in the record: no area may claim a source.
    for name in NAMES:
        for key, theater in load_scenario(name).scenario.theaters.items():
            source = theater.contested_area_km2.source.lower()
            assert source.startswith("assumption"), (name, key)


@pytest.mark.parametrize("name", NAMES)
def test_initial_share_is_consistent_with_the_ground_held(name):
    # The schema draws side a's share and the theaters' held ground independently: their
    # ranges must at least agree (lost share x area covers the enemy-held ground).
    scenario = load_scenario(name).scenario
    side_a = scenario.side("a")
    a = scenario.belligerents[side_a]
    share_low, share_high = a.initial_territory_share.support()
    area_low, area_high = a.national_area_km2.support()
    held = [t.initial_enemy_held_km2.support() for t in scenario.theaters.values()
            if t.soil_of == side_a]
    held_low, held_high = sum(h[0] for h in held), sum(h[1] for h in held)
    assert (1.0 - share_high) * area_low <= held_low
    assert held_high <= (1.0 - share_low) * area_high


def test_polish_soviet_soil_mapping():
    scenario = load_scenario(POLISH_SOVIET).scenario
    poland, soviet = scenario.side("a"), scenario.side("b")
    on_b_soil = [t for t in scenario.theaters.values() if t.soil_of == soviet]
    on_a_soil = [t for t in scenario.theaters.values() if t.soil_of == poland]
    assert len(on_b_soil) == 1 and on_a_soil
    beyond = on_b_soil[0]
    # Poland held none of it in August 1920, and had no forces there: the theater opens once
    # the Red Army holds little of the front on Polish soil (the advance carries across).
    assert beyond.initial_enemy_held_km2.support() == (0.0, 0.0)
    assert beyond.initial_forces[poland].support() == (0.0, 0.0)
    assert beyond.opens_after is not None
    assert scenario.theaters[beyond.opens_after.theater].soil_of == poland
    # The Red Army held part of Poland's pie at week 0.
    assert scenario.belligerents[poland].initial_territory_share.support()[1] < 1.0
    assert all(t.initial_enemy_held_km2.support()[0] > 0 for t in on_a_soil)


def test_winter_war_soil_mapping():
    scenario = load_scenario(WINTER_WAR).scenario
    finland, soviet = scenario.side("a"), scenario.side("b")
    # Week 0 is the first day of the war: almost nothing has changed hands.
    assert scenario.belligerents[finland].initial_territory_share.support()[0] >= 0.997
    assert scenario.belligerents[soviet].initial_territory_share.support() == (1.0, 1.0)
    for theater in scenario.theaters.values():
        if theater.soil_of == finland:
            low, high = theater.initial_enemy_held_km2.support()
            assert low > 0 and high <= FIRST_DAY_MAX_KM2, theater.name
    salients = [t for t in scenario.theaters.values() if t.soil_of == soviet]
    assert len(salients) == 1
    # A small strip only: it exists for the counterfactual policy; Finland held no Soviet soil
    # beyond the engine's token foothold, which the as-fought posture `withdraw` empties.
    assert salients[0].contested_area_km2.support()[1] <= 10_000
    assert salients[0].initial_enemy_held_km2.support()[1] <= FINNISH_FOOTHOLD_MAX_KM2
    assert not scenario.backers and not scenario.rivals


def test_polish_policies_follow_the_record_and_isolate_the_soil():
    policies = load_scenario(POLISH_SOVIET).scenario.policies
    as_fought = policies["as-fought"]
    # Talks were open within a week of the start, so Poland sought them from week 0 or 1.
    assert as_fought.seek_talks_from_week is not None
    assert as_fought.seek_talks_from_week <= week_of(POLISH_SOVIET, PS_TALKS_OPENED)
    assert as_fought.salient_posture == "hold"  # Poland held Minsk until the treaty
    # The soil counterfactual changes the posture and nothing else.
    stop = policies["stop-at-the-frontier"].model_dump()
    fought = as_fought.model_dump()
    changed = {key for key in fought if fought[key] != stop[key]}
    assert changed == {"salient_posture", "description", "source"}
    assert stop["salient_posture"] == "withdraw"


def test_winter_war_policies_follow_the_record_and_isolate_the_soil():
    policies = load_scenario(WINTER_WAR).scenario.policies
    as_fought = policies["as-fought"]
    assert as_fought.seek_talks_from_week == int(week_of(WINTER_WAR, WW_TALKS_BEGAN)) == 13
    assert as_fought.salient_posture == "withdraw"  # Finland held no Soviet soil
    hold = policies["hold-soviet-soil"].model_dump()
    fought = as_fought.model_dump()
    changed = {key for key in fought if fought[key] != hold[key]}
    assert changed == {"salient_posture", "description", "source"}
    assert hold["salient_posture"] == "hold"


@pytest.mark.parametrize(
    ("name", "dead", "wounded"),
    [
        (POLISH_SOVIET, PS_POLISH_DEAD, PS_POLISH_WOUNDED),
        (WINTER_WAR, WW_FINNISH_DEAD, WW_FINNISH_WOUNDED),
    ],
)
def test_killed_share_prior_contains_the_recorded_ratio(name, dead, wounded):
    low, high = load_scenario(name).scenario.combat.killed_share.support()
    assert low <= dead / (dead + wounded) <= high
