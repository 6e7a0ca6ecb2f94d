"""Malformed instances, through the command line: exit 2, one message naming the file,
the place and the line, no traceback, nothing written.

Each case edits one line of BASE (a valid instance) or sets up a file situation,
and names a fragment the message must hold and the line it must point at.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from optimiser.cli import app

BASE = """\
name: Test place
start_year: 2010
years: 2
discount_rate: 0.035
objective: net_benefit
agencies:
  council:
    name: Council
  nhs:
    name: NHS
    max_net_cost: 0
streams:
  asc:
    agency: council
    budget: 100
    pool_share: 0.5
  nhs_budget:
    agency: nhs
    budget: [1000, 1000]
interventions:
  prevention:
    agency: council
    unit_cost: 10
    max_units: 50
    effects: {adm: 1}
    savings: {nhs: 40}
    lag: 0
    deadweight: 0.1
    optimism_bias: 0.1
  beds:
    agency: nhs
    unit_cost: 100
    min_units: 0
    max_units: 5
outcomes:
  adm:
    name: Admissions avoided
    target: 5
scenarios:
  ring_fenced: {pooling: false}
  pooled: {pooling: true}
  fair: {pooling: true, incentives: no_worse_off, reference: ring_fenced, transfers: true}
  half: {pooling: true, pool_share: {asc: 0.25}}
  bigger: {pooling: true, overrides: {interventions.prevention.max_units: 80}}
"""


def edit(old: str, new: str) -> str:
    """BASE with the one occurrence of `old` replaced by `new`."""
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


# (case id, instance text, fragment of the message, line the message names)
CASES: list[tuple[str, str, str, int | None]] = [
    # agreements (on line 43, the pooled scenario 'half')
    (
        "agreement naming an unknown agency",
        edit("{asc: 0.25}}", "{asc: 0.25}, agreement: {risk_share: {council: 0.5, nsh: 0.5}}}"),
        "at scenarios.half.agreement.risk_share.nsh: unknown agency 'nsh'; did you mean 'nhs'?",
        43,
    ),
    (
        "risk shares not adding up to 1",
        edit("{asc: 0.25}}", "{asc: 0.25}, agreement: {risk_share: {council: 0.5, nhs: 0.4}}}"),
        "at scenarios.half.agreement.risk_share: the shares must add up to 1 (they add up to 0.9)",
        43,
    ),
    (
        "risk shares adding up to 1 only to 1e-8",
        edit("{asc: 0.25}}",
             "{asc: 0.25}, agreement: {risk_share: {council: 0.5, nhs: 0.50000001}}}"),
        "the shares must add up to 1",
        43,
    ),
    (
        "a negative risk share",
        edit("{asc: 0.25}}", "{asc: 0.25}, agreement: {risk_share: {council: 1.5, nhs: -0.5}}}"),
        "at scenarios.half.agreement.risk_share.nhs: a share cannot be negative (got -0.5)",
        43,
    ),
    (
        "agreement on a scenario without pooling",
        edit("ring_fenced: {pooling: false}",
             "ring_fenced: {pooling: false, agreement: gain_share}"),
        "at scenarios.ring_fenced.agreement: an agreement shares what pooling gains or costs, and "
        "this scenario does not pool",
        40,
    ),
    (
        "an agreement nobody knows",
        edit("{asc: 0.25}}", "{asc: 0.25}, agreement: fair_share}"),
        "at scenarios.half.agreement: unknown agreement 'fair_share'; did you mean "
        "'fair_shares'?",
        43,
    ),
    (
        "a misspelt risk share",
        edit("{asc: 0.25}}", "{asc: 0.25}, agreement: {risk_shares: {council: 1}}}"),
        "unknown field 'risk_shares' (misspelt?); did you mean 'risk_share'?",
        43,
    ),
    (
        "transfers with another agreement",
        edit("{asc: 0.25}}", "{asc: 0.25}, transfers: true, agreement: fair_shares}"),
        "transfers: true is the gain_share agreement",
        43,
    ),
    # not YAML, the wrong top-level type, empty, binary
    ("not yaml", "name: x\nagencies: {a: [1, 2}\n", "invalid YAML", 2),
    ("tab indentation", "name: x\nagencies:\n\tcouncil: 1\n", "invalid YAML", 3),
    ("top-level list", "- name: x\n- years: 2\n", "top level must be a mapping", 1),
    ("top-level scalar", "just some words\n", "top level must be a mapping", 1),
    ("empty", "", "the file is empty", None),
    ("only comments", "# nothing here\n\n", "the file is empty", None),
    ("several documents", BASE + "---\nname: again\n", "invalid YAML", 45),
    # numbers no figure can be, and text that is not text
    ("an integer beyond any float, in hex",
     edit("    budget: 100\n", "    budget: 0x" + "f" * 5000 + "\n"),
     "at streams.asc.budget: 0xffffffffffffff... (5002 characters) is too large a number", 15),
    ("an integer beyond any float, in binary (YAML 1.1's, text in YAML 1.2)",
     edit("    budget: 100\n", "    budget: 0b1" + "0" * 1100 + "\n"),
     "(1103 characters) is a binary number in YAML 1.1 and text in YAML 1.2; write it in "
     "decimal digits", 15),
    ("a start year beyond the calendar",
     edit("start_year: 2010", "start_year: 1" + "0" * 30), "at start_year: must be at most 9999",
     2),
    ("half a character escaped in a figure's unit",
     edit("objective: net_benefit\n", 'objective: net_benefit\nfigures:\n  cost:\n'
          '    value: 10\n    unit: "per \\ud800 unit"\n    assumption: made up\n'),
     "half of a character", 9),
    # missing and misspelt fields
    ("missing name", edit("name: Test place\n", ""), "name: is required but missing", 1),
    ("missing unit_cost", edit("    unit_cost: 100\n", ""), "unit_cost: is required", 30),
    ("missing agencies", BASE.split("agencies:")[0] + "streams: {}\n", "agencies: is required", 1),
    ("misspelt top field", edit("years: 2", "yeers: 2"), "did you mean 'years'?", 3),
    (
        "misspelt intervention field",
        edit("unit_cost: 10\n", "unit_cots: 10\n"),
        "unknown field 'unit_cots' (misspelt?); did you mean 'unit_cost'?",
        23,
    ),
    ("misspelt agency field", edit("max_net_cost: 0", "max_netcost: 0"), "max_net_cost", 11),
    ("misspelt scenario field", edit("{pooling: true}", "{poolling: true}"), "'pooling'", 41),
    (
        "unknown field",
        edit("    lag: 0\n", "    lag: 0\n    colour: red\n"),
        "unknown field 'colour'",
        28,
    ),
    # unknown ids, wherever an id is named
    (
        "unknown stream agency",
        edit("    agency: council\n    budget", "    agency: counsil\n    budget"),
        "unknown agency 'counsil'; did you mean 'council'?",
        14,
    ),
    (
        "unknown intervention agency",
        edit("    agency: nhs\n    unit_cost", "    agency: nsh\n    unit_cost"),
        "unknown agency 'nsh'",
        31,
    ),
    (
        "unknown effect outcome",
        edit("effects: {adm: 1}", "effects: {admissions: 1}"),
        "unknown outcome 'admissions'",
        25,
    ),
    (
        "unknown savings agency",
        edit("savings: {nhs: 40}", "savings: {police: 40}"),
        "unknown agency 'police'",
        26,
    ),
    (
        "unknown ring-fence member",
        edit("    pool_share: 0.5\n", "    ring_fence: [prevent]\n"),
        "unknown intervention 'prevent'; did you mean 'prevention'?",
        16,
    ),
    ("unknown pool_share stream", edit("{asc: 0.25}", "{acs: 0.25}"), "unknown stream 'acs'", 43),
    (
        "unknown reference",
        edit("reference: ring_fenced", "reference: ringfenced"),
        "unknown scenario 'ringfenced'; did you mean 'ring_fenced'?",
        42,
    ),
    (
        "own reference",
        edit("reference: ring_fenced", "reference: fair"),
        "cannot be its own reference",
        42,
    ),
    (
        "unknown override id",
        edit("interventions.prevention.max_units", "interventions.prevent.max_units"),
        "there is no 'prevent' in interventions; did you mean 'prevention'?",
        44,
    ),
    (
        "unknown override section",
        edit("interventions.prevention.max_units", "intervention.prevention.max_units"),
        "there is no 'intervention'",
        44,
    ),
    (
        "misspelt override field",
        edit("prevention.max_units: 80", "prevention.max_unit: 80"),
        "did you mean 'max_units'?",
        44,
    ),
    (
        "invalid override value",
        edit("max_units: 80}", "max_units: -80}"),
        "must not be negative (got -80)",
        44,
    ),
    ("override to a text", edit("max_units: 80}", "max_units: lots}"), "must be a number", 44),
    (
        "override of scenarios",
        edit("interventions.prevention.max_units: 80", "scenarios.pooled.pooling: false"),
        "cannot be overridden",
        44,
    ),
    # duplicate keys, odd ids
    (
        "duplicate key",
        edit("    lag: 0\n", "    lag: 0\n    lag: 1\n"),
        "duplicate key 'lag' (first on line 27, again on line 28)",
        28,
    ),
    ("duplicate id", edit("  beds:\n", "  prevention:\n"), "duplicate key 'prevention'", 30),
    (
        "id with capitals",
        edit("  nhs:\n    name: NHS", "  NHS:\n    name: NHS"),
        "'NHS' is not a valid id",
        9,
    ),
    (
        "id with a hyphen",
        edit("  asc:\n", "  adult-care:\n"),
        "'adult-care' is not a valid id: ids use only lower-case letters, digits and underscores "
        "(e.g. 'adult_care')",
        13,
    ),
    (
        "id with a space",
        edit("  beds:\n", "  hospital beds:\n"),
        "'hospital beds' is not a valid id",
        30,
    ),
    ("number as id", edit("  beds:\n", "  12:\n"), "12 is not a valid id", 30),
    (
        "odd id as a reference",
        edit("    agency: council\n    budget", "    agency: Council!\n    budget"),
        "'Council!' is not a valid id",
        14,
    ),
    ("odd scenario name", edit("  half:", "  half-pooled:"), "'half-pooled' is not a valid id", 43),
    # per-year lists
    (
        "list too long",
        edit("budget: [1000, 1000]", "budget: [1000, 1000, 1000]"),
        "has 3 figures; give one figure, or a list of 2 (one per year)",
        19,
    ),
    ("list too short", edit("budget: [1000, 1000]", "budget: [1000]"), "has 1 figure;", 19),
    ("empty list", edit("budget: [1000, 1000]", "budget: []"), "has 0 figures", 19),
    (
        "bad figure in a list",
        edit("budget: [1000, 1000]", "budget: [1000, -5]"),
        "must not be negative (got -5)",
        19,
    ),
    (
        "text in a list",
        edit("budget: [1000, 1000]", "budget: [1000, lots]"),
        "must be a number (got 'lots')",
        19,
    ),
    (
        "list for a single figure",
        edit("    lag: 0\n", "    lag: [0, 1]\n"),
        "must be a whole number of years",
        27,
    ),
    # NaN and infinities
    ("nan budget", edit("budget: 100", "budget: .nan"), "not NaN or infinity (got .nan)", 15),
    (
        "infinite cost",
        edit("unit_cost: 10\n", "unit_cost: .inf\n"),
        "not NaN or infinity (got .inf)",
        23,
    ),
    (
        "minus infinity saving",
        edit("savings: {nhs: 40}", "savings: {nhs: -.inf}"),
        "not NaN or infinity (got -.inf)",
        26,
    ),
    ("nan in a list", edit("budget: [1000, 1000]", "budget: [1000, .NaN]"), "not NaN", 19),
    ("overflowing number", edit("budget: 100", "budget: 1e400"), "not NaN or infinity", 15),
    ("implausibly large", edit("budget: 100", "budget: 1e25"), "too large to be a real figure", 15),
    ("nan discount rate", edit("discount_rate: 0.035", "discount_rate: .nan"), "not NaN", 4),
    # negative money or units
    ("negative budget", edit("budget: 100", "budget: -100"), "must not be negative (got -100)", 15),
    ("negative cost", edit("unit_cost: 10\n", "unit_cost: -10\n"), "must not be negative", 23),
    ("negative max_units", edit("max_units: 5\n", "max_units: -5\n"), "must not be negative", 34),
    ("negative min_units", edit("min_units: 0", "min_units: -1"), "must not be negative", 33),
    ("negative target", edit("target: 5", "target: -5"), "must not be negative", 38),
    (
        "negative max_net_cost",
        edit("max_net_cost: 0", "max_net_cost: -10"),
        "must not be negative (got -10)",
        11,
    ),
    ("text budget", edit("budget: 100", "budget: lots"), "must be a number (got 'lots')", 15),
    ("true as a budget", edit("budget: 100", "budget: yes"), "must be a number (got true)", 15),
    # shares, deadweight, optimism bias outside [0, 1]
    (
        "pool_share above 1",
        edit("pool_share: 0.5", "pool_share: 1.5"),
        "must be a share between 0 and 1 (got 1.5)",
        16,
    ),
    ("negative pool_share", edit("pool_share: 0.5", "pool_share: -0.5"), "between 0 and 1", 16),
    (
        "scenario pool_share above 1",
        edit("{asc: 0.25}", "{asc: 25}"),
        "between 0 and 1 (got 25)",
        43,
    ),
    (
        "deadweight above 1",
        edit("deadweight: 0.1", "deadweight: 10"),
        "between 0 and 1 (got 10)",
        28,
    ),
    (
        "negative optimism bias",
        edit("optimism_bias: 0.1", "optimism_bias: -0.1"),
        "between 0 and 1 (got -0.1)",
        29,
    ),
    (
        "percentage as a share",
        edit("deadweight: 0.1", "deadweight: 10%"),
        "must be a number (got '10%')",
        28,
    ),
    # lags, years, rates
    ("fractional lag", edit("lag: 0", "lag: 1.5"), "must be a whole number of years (got 1.5)", 27),
    ("negative lag", edit("lag: 0", "lag: -1"), "must not be negative (got -1)", 27),
    ("zero years", edit("years: 2", "years: 0"), "must be at least 1 (got 0)", 3),
    ("fractional years", edit("years: 2", "years: 2.5"), "whole number of years (got 2.5)", 3),
    (
        "discount rate of -1",
        edit("discount_rate: 0.035", "discount_rate: -1"),
        "must be above -1",
        4,
    ),
    (
        "discount rate below -1",
        edit("discount_rate: 0.035", "discount_rate: -2.5"),
        "(got -2.5)",
        4,
    ),
    (
        "discount rate as text",
        edit("discount_rate: 0.035", "discount_rate: 3.5%"),
        "must be a number (got '3.5%'); write 3.5% as 0.035",
        4,
    ),
    (
        "date as the start year",
        edit("start_year: 2010", "start_year: 2010-04-01"),
        "dates are not allowed",
        2,
    ),
    # min above max
    (
        "min above max",
        edit("min_units: 0", "min_units: 6"),
        "min_units 6 is above max_units 5 in 2010",
        33,
    ),
    (
        "min above max in one year",
        edit("min_units: 0", "min_units: [0, 7]"),
        "min_units 7 is above max_units 5 in 2011",
        33,
    ),
    (
        "override makes min above max",
        edit("max_units: 80}", "max_units: 80, interventions.beds.min_units: 9}"),
        "min_units 9 is above max_units 5",
        44,
    ),
    # unknown objectives and incentives
    (
        "unknown objective",
        edit("objective: net_benefit", "objective: profit"),
        "must be one of: net_benefit, outcomes, cost (got 'profit')",
        5,
    ),
    (
        "misspelt objective",
        edit("objective: net_benefit", "objective: net_benefits"),
        "did you mean 'net_benefit'?",
        5,
    ),
    (
        "unknown incentives",
        edit("incentives: no_worse_off", "incentives: fair_shares"),
        "must be one of: none, no_worse_off (got 'fair_shares')",
        42,
    ),
    ("pooling as text", edit("{pooling: true}", "{pooling: maybe}"), "must be true or false", 41),
    (
        "no_worse_off without a reference",
        BASE.replace("  ring_fenced: {pooling: false}\n", "").replace(
            "reference: ring_fenced, ", ""
        ),
        "needs a reference scenario",
        41,
    ),
    # wrong shapes
    (
        "agencies as a list",
        edit(
            "agencies:\n  council:\n    name: Council\n  nhs:\n    name: NHS\n"
            "    max_net_cost: 0\n",
            "agencies: [council, nhs]\n",
        ),
        "must be a mapping",
        6,
    ),
    (
        "no agencies",
        edit(
            "agencies:\n  council:\n    name: Council\n  nhs:\n    name: NHS\n"
            "    max_net_cost: 0\n",
            "agencies: {}\n",
        ),
        "at least one",
        6,
    ),
    (
        "empty intervention",
        edit(
            "  beds:\n    agency: nhs\n    unit_cost: 100\n    min_units: 0\n    max_units: 5\n",
            "  beds:\n",
        ),
        "must be a mapping (key: value lines) (got nothing)",
        30,
    ),
    (
        "ring_fence not a list",
        edit("    pool_share: 0.5\n", "    ring_fence: prevention\n"),
        "must be a list",
        16,
    ),
    ("empty name", edit("name: Test place", "name: ''"), "must not be empty", 1),
    (
        "currency in words",
        edit("name: Test place\n", "name: Test place\ncurrency: pounds\n"),
        "three-letter currency code",
        2,
    ),
    # YAML that would construct objects, alias bombs
    (
        "python tag",
        edit("budget: 100", "budget: !!python/object/apply:os.system [echo hi]"),
        "the tag '!!python/object/apply:os.system' is not allowed",
        15,
    ),
    (
        "custom tag",
        edit("budget: 100", "budget: !money 100"),
        "the tag '!money' is not allowed",
        15,
    ),
    ("set tag", edit("    lag: 0\n", "    lag: !!set {a: null}\n"), "is not allowed", 27),
    (
        "alias bomb",
        "name: x\n"
        + "\n".join(
            ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
            + [
                f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]"
                for p, n in zip("abcdefgh", "bcdefghi", strict=True)
            ]
        )
        + "\n",
        "too many values (alias bomb?)",
        None,
    ),
    ("recursive alias", "name: x\nloop: &a [1, *a]\n", "recursive alias", 2),
    # YAML 1.1 numbers YAML 1.2 and spreadsheets read otherwise (issue 15: 0100 was 64)
    ("octal budget", edit("budget: 100", "budget: 0100"),
     "0100 starts with a zero, which YAML 1.1 reads as an octal number; write 100", 15),
    ("octal unit cost", edit("unit_cost: 10\n", "unit_cost: 010\n"), "write 10", 23),
    ("octal in a list", edit("budget: [1000, 1000]", "budget: [1000, 01000]"), "write 1000",
     19),
    ("zero padded target", edit("target: 5", "target: 005"), "write 5 (or quote it", 38),
    ("base 60 budget", edit("budget: 100", "budget: 1:40"), "reads as a base-60 number", 15),
    # YAML 1.1 numbers YAML 1.2 reads as text, and the other way round
    ("grouped budget", edit("budget: 100", "budget: 1_000"),
     "1_000 has '_' between digits, which YAML 1.1 reads as a number and YAML 1.2 as text; "
     "write 1000 (or quote it, '1_000', if it is text)", 15),
    ("grouped unit cost", edit("unit_cost: 10\n", "unit_cost: 1_0.5\n"), "write 10.5", 23),
    ("binary unit cost", edit("unit_cost: 10\n", "unit_cost: 0b1010\n"),
     "0b1010 is a binary number in YAML 1.1 and text in YAML 1.2; write 10", 23),
    ("YAML 1.2 octal target", edit("target: 5", "target: 0o5"),
     "0o5 is an octal number in YAML 1.2 and text in YAML 1.1; write 5", 38),
    ("base 60 fraction", edit("unit_cost: 10\n", "unit_cost: 1:40.5\n"), "base-60", 23),
    ("yes and 1 as keys",
     edit("  ring_fenced: {pooling: false}\n",
          "  ring_fenced: {pooling: false}\n  yes: {pooling: true}\n  1: {pooling: true}\n"),
     "the keys 'yes' (line 41) and '1' (line 42) are the same key: YAML reads 'yes' as true "
     "and '1' as 1",
     42),
    (".nan and .NaN as keys",
     edit("  ring_fenced: {pooling: false}\n",
          "  ring_fenced: {pooling: false}\n  .nan: {pooling: true}\n  .NaN: {pooling: true}\n"),
     "the keys '.nan' (line 41) and '.NaN' (line 42) are the same key: YAML reads '.nan' as "
     "nan and '.NaN' as nan", 42),
    ("missing years", edit("years: 2\n", ""), "years: is required but missing", 1),
    # limits checked before any work (issue 15: lag 1e12 ran out of memory, 1e15 x 1 and
    # -0.5 over 100 years were internal errors)
    ("lag beyond the plan", edit("lag: 0", "lag: 3"),
     "lag 3 is longer than the plan (2 years)", 27),
    ("enormous lag", edit("lag: 0", "lag: 1000000000000"), "must be at most 100", 27),
    ("too many years", edit("years: 2", "years: 101"), "must be at most 100 (got 101)", 3),
    ("a unit beyond any budget", edit("unit_cost: 100\n", "unit_cost: 1e15\n"),
     "unit_cost 1e+15: the place's whole budget over the plan (2200) buys less than 1e-09 "
     "of one unit", 32),
    ("tiny target", edit("target: 5", "target: 1e-8"),
     "a target of 1e-08 is below 1e-06, what a plan can tell from nothing", 38),
    ("extreme discounting",
     BASE.replace("years: 2", "years: 100").replace("budget: [1000, 1000]", "budget: 1000")
     .replace("discount_rate: 0.035", "discount_rate: -0.5"),
     "discount_rate -0.5 over 100 years makes money in one year worth 10^30 times", 4),
    # set-up costs, minimum scales, tiers and carry-over (line 28 is the added line)
    ("min_scale above max_units", edit("    lag: 0\n", "    lag: 0\n    min_scale: 60\n"),
     "min_scale 60 is above max_units 50 in 2010", 28),
    ("negative setup_cost", edit("    lag: 0\n", "    lag: 0\n    setup_cost: -5\n"),
     "setup_cost: must not be negative (got -5", 28),
    ("negative min_scale", edit("    lag: 0\n", "    lag: 0\n    min_scale: -1\n"),
     "min_scale: must not be negative (got -1", 28),
    ("tier scales rising",
     edit("    lag: 0\n", "    lag: 0\n    tiers: [{units: 10, scale: 0.5}, {scale: 0.8}]\n"),
     "scale 0.8 is above the band before's 0.5", 28),
    ("tier scale above 1",
     edit("    lag: 0\n", "    lag: 0\n    tiers: [{units: 10, scale: 1.5}, {scale: 0.5}]\n"),
     "must be a share between 0 and 1 (got 1.5)", 28),
    ("tier scale below 0",
     edit("    lag: 0\n", "    lag: 0\n    tiers: [{units: 10, scale: 1}, {scale: -0.1}]\n"),
     "must be a share between 0 and 1 (got -0.1)", 28),
    ("band of no units",
     edit("    lag: 0\n", "    lag: 0\n    tiers: [{units: 0, scale: 1}, {scale: 0.5}]\n"),
     "a band needs more than 0 units (got 0)", 28),
    ("band of negative units",
     edit("    lag: 0\n", "    lag: 0\n    tiers: [{units: -10, scale: 1}, {scale: 0.5}]\n"),
     "a band needs more than 0 units (got -10)", 28),
    ("last band with units",
     edit("    lag: 0\n",
          "    lag: 0\n    tiers: [{units: 10, scale: 1}, {units: 5, scale: 0.5}]\n"),
     "the last band has no units: it runs to max_units", 28),
    ("middle band without units",
     edit("    lag: 0\n", "    lag: 0\n    tiers: [{scale: 1}, {scale: 0.5}]\n"),
     "every band but the last needs units", 28),
    ("carry_over on an intervention", edit("    lag: 0\n", "    lag: 0\n    carry_over: true\n"),
     "carry_over belongs on a stream", 28),
    ("carry_over on an agency",
     edit("    max_net_cost: 0\n", "    max_net_cost: 0\n    carry_over: true\n"),
     "carry_over belongs on a stream", 12),
    ("carry_over not true or false",
     edit("    pool_share: 0.5\n", "    pool_share: 0.5\n    carry_over: sometimes\n"),
     "must be true or false", 17),
    ("free unit switched without max_units",
     edit("    unit_cost: 100\n    min_units: 0\n    max_units: 5\n",
          "    unit_cost: 0\n    setup_cost: 50\n"),
     "needs max_units", 30),
]

SITUATIONS: dict[str, Callable[[Path], tuple[Path, str]]] = {}


def situation(fn: Callable[[Path], tuple[Path, str]]) -> Callable[[Path], tuple[Path, str]]:
    SITUATIONS[fn.__name__] = fn
    return fn


@situation
def missing_file(tmp: Path) -> tuple[Path, str]:
    return tmp / "nowhere.yaml", "no such file"


@situation
def directory(tmp: Path) -> tuple[Path, str]:
    (tmp / "places").mkdir()
    return tmp / "places", "this is a directory, not an instance file"


@situation
def binary_file(tmp: Path) -> tuple[Path, str]:
    (tmp / "place.yaml").write_bytes(bytes(range(256)) * 4)
    return tmp / "place.yaml", "not a text file"


@situation
def spreadsheet_renamed(tmp: Path) -> tuple[Path, str]:
    (tmp / "place.yaml").write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"\xff\xfe" * 50)
    return tmp / "place.yaml", "not a text file"


@situation
def latin1_file(tmp: Path) -> tuple[Path, str]:
    (tmp / "place.yaml").write_bytes(BASE.replace("Test place", "Caf\xe9").encode("latin-1"))
    return tmp / "place.yaml", "not UTF-8"


@situation
def fifo(tmp: Path) -> tuple[Path, str]:
    os.mkfifo(tmp / "place.yaml")
    return tmp / "place.yaml", "this is a pipe (FIFO), not a file"


@situation
def link_to_dev_zero(tmp: Path) -> tuple[Path, str]:
    (tmp / "place.yaml").symlink_to("/dev/zero")
    return tmp / "place.yaml", "this is a device (a link to /dev/zero), not a file"


@situation
def dangling_link(tmp: Path) -> tuple[Path, str]:
    (tmp / "place.yaml").symlink_to(tmp / "gone.yaml")
    return tmp / "place.yaml", f"a link to nothing (it points to {tmp / 'gone.yaml'})"


@situation
def huge_yaml(tmp: Path) -> tuple[Path, str]:
    (tmp / "place.yaml").write_text(BASE + "#" * (4 * 2**20) + "\n")
    return tmp / "place.yaml", "the file is larger than 4 MB"


runner = CliRunner()


def rejected(path: Path, out: Path, *fragments: str, line: int | None = None) -> str:
    """Run the CLI in-process; assert exit 2, one message naming the file and line."""
    done = runner.invoke(app, [str(path), "--out", str(out)])
    err = done.stderr
    assert done.exit_code == 2, (done.exit_code, done.output)
    assert "Traceback" not in done.output
    assert err.startswith("optimise: "), err
    assert str(path) in err, err
    for fragment in fragments:
        assert fragment in err, err
    if line is not None:
        assert f"line {line}," in err or f"line {line}:" in err, err
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir())
    return err


def test_base_is_valid(tmp_path: Path) -> None:
    (tmp_path / "place.yaml").write_text(BASE)
    done = runner.invoke(app, [str(tmp_path / "place.yaml"), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "out" / "results.json").is_file()


@pytest.mark.parametrize(
    ("text", "fragment", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_instance(tmp_path: Path, text: str, fragment: str, line: int | None) -> None:
    path = tmp_path / "place.yaml"
    path.write_text(text, encoding="utf-8")
    err = rejected(path, tmp_path / "out", fragment, line=line)
    assert err.count("\n") == 1, "one problem, one line"


@pytest.mark.parametrize("name", sorted(SITUATIONS))
def test_file_situation(tmp_path: Path, name: str) -> None:
    path, fragment = SITUATIONS[name](tmp_path)
    rejected(path, tmp_path / "out", fragment)


def test_several_problems_listed_together(tmp_path: Path) -> None:
    path = tmp_path / "place.yaml"
    path.write_text(edit("budget: 100", "budget: -100").replace("lag: 0", "lag: 0.5"))
    rejected(
        path,
        tmp_path / "out",
        "2 problems in the instance",
        "line 15, at streams.asc.budget: must not be negative",
        "line 27, at interventions.prevention.lag: must be a whole number",
    )


def test_out_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "place.yaml"
    path.write_text(BASE)
    (tmp_path / "taken").write_text("keep me")
    done = runner.invoke(app, [str(path), "--out", str(tmp_path / "taken")])
    assert done.exit_code == 2
    assert f"--out {tmp_path / 'taken'}: is a file, not a folder" in done.stderr
    assert (tmp_path / "taken").read_text() == "keep me"
    done = runner.invoke(app, [str(path), "--out", str(tmp_path / "taken" / "sub")])
    assert done.exit_code == 2
    assert "is a file, not a folder" in done.stderr


def test_out_is_a_folder_of_other_files(tmp_path: Path) -> None:
    """The report replaces its folder whole: a folder of someone's files is refused, not wiped."""
    path = tmp_path / "place.yaml"
    path.write_text(BASE)
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "budget.xlsx").write_text("precious")
    done = runner.invoke(app, [str(path), "--out", str(tmp_path / "documents")])
    assert done.exit_code == 2
    assert "is a folder of other files" in done.stderr
    assert (tmp_path / "documents" / "budget.xlsx").read_text() == "precious"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optimiser", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_real_process_message(tmp_path: Path) -> None:
    """The same through a real process: exit 2, exactly one line on stderr, nothing on stdout."""
    path = tmp_path / "bad.yaml"
    path.write_text(edit("pool_share: 0.5", "pool_share: 1.5"))
    done = cli(path, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"optimise: {path}, line 16, at streams.asc.pool_share: must be a "
                           "share between 0 and 1 (got 1.5)\n")
    assert done.stdout == ""
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(edit("years: 2", "years: 0"))
    done = cli(tmp_path / "bad.yaml", "--out", tmp_path / "out", "--debug")
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "InstanceError" in done.stderr


# ---------------------------------------------------------------- the output folder
# optimise removes or replaces only files it wrote (the manifest of each report says which).


def first_run(tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "place.yaml"
    path.write_text(BASE)
    out = tmp_path / "work"
    assert runner.invoke(app, [str(path), "--out", str(out)]).exit_code == 0
    return path, out


def test_report_keeps_a_manifest_of_its_files(tmp_path: Path) -> None:
    import json

    _, out = first_run(tmp_path)
    manifest = json.loads((out / ".optimise-manifest.json").read_text())
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                     if p.name != ".optimise-manifest.json")
    assert manifest["tool"] == "optimise" and manifest["files"] == written
    assert {"results.json", "report.xlsx", "summary.md"} <= set(written)


def test_rerun_replaces_its_own_report(tmp_path: Path) -> None:
    path, out = first_run(tmp_path)
    path.write_text(edit("max_units: 50", "max_units: 40"))
    before = (out / "results.json").read_text()
    assert runner.invoke(app, [str(path), "--out", str(out)]).exit_code == 0
    assert (out / "results.json").read_text() != before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".work.")]


def test_users_notes_in_an_earlier_report_are_kept(tmp_path: Path) -> None:
    """The probe: the user kept work/my_notes.txt beside an earlier report."""
    path, out = first_run(tmp_path)
    (out / "my_notes.txt").write_text("precious")
    before = sorted(p.name for p in out.iterdir())
    done = runner.invoke(app, [str(path), "--out", str(out)])
    assert done.exit_code == 2, done.output
    assert "holds files optimise did not write (my_notes.txt)" in done.stderr
    assert done.stderr.count("\n") == 1
    assert (out / "my_notes.txt").read_text() == "precious"
    assert sorted(p.name for p in out.iterdir()) == before


def test_instance_inside_out_is_refused(tmp_path: Path) -> None:
    """The probe: the user copied their instance into the report folder and ran it there."""
    _, out = first_run(tmp_path)
    inside = out / "place.yaml"
    inside.write_text(BASE)
    for target in (out, tmp_path):  # the folder itself, or one above it
        done = runner.invoke(app, [str(inside), "--out", str(target)])
        assert done.exit_code == 2, done.output
        assert f"holds {inside}, which this run reads" in done.stderr
        assert inside.read_text() == BASE


def test_table_inside_out_is_refused(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "outcomes.csv").write_text("id,name,target\nadm,Admissions avoided,5\n")
    path = tmp_path / "place.yaml"
    path.write_text(edit("outcomes:\n  adm:\n    name: Admissions avoided\n    target: 5\n",
                         "outcomes: work/outcomes.csv\n"))
    done = runner.invoke(app, [str(path), "--out", str(tmp_path / "work")])
    assert done.exit_code == 2, done.output
    assert "outcomes.csv" in done.stderr
    assert (tmp_path / "work" / "outcomes.csv").exists()
    # a table that sits in an earlier report's folder under a report's name
    (tmp_path / "again").mkdir()
    _, out = first_run(tmp_path / "again")
    path.write_text(edit("outcomes:\n  adm:\n    name: Admissions avoided\n    target: 5\n",
                         f"outcomes: {out / 'outcomes.csv'}\n"))
    (out / "outcomes.csv").write_text("id,name,target\nadm,Admissions avoided,5\n")
    done = runner.invoke(app, [str(path), "--out", str(out)])
    assert done.exit_code == 2, done.output
    assert "outcomes.csv, which this run reads" in done.stderr


def test_a_file_put_in_out_during_the_run_is_kept(tmp_path: Path) -> None:
    """Between the check and the swap, a file appears in the old report: it stays (the old
    report's own files go)."""
    from optimiser.reports import write as reports

    path, out = first_run(tmp_path)

    def meanwhile(result: object, folder: Path) -> None:
        (out / "late_note.txt").write_text("written while the run went on")

    saved = list(reports.WRITERS)
    reports.WRITERS[:] = [saved[0], meanwhile]
    try:
        assert runner.invoke(app, [str(path), "--out", str(out)]).exit_code == 0
    finally:
        reports.WRITERS[:] = saved
    kept = [p for p in tmp_path.rglob("late_note.txt")]
    assert len(kept) == 1 and kept[0].read_text() == "written while the run went on"
    assert kept[0].parent != out and sorted(p.name for p in kept[0].parent.iterdir()) == [
        "late_note.txt"]


def test_report_from_before_manifests_is_replaced(tmp_path: Path) -> None:
    """A folder an earlier optimise wrote (results.json from optimise, report names only)."""
    from optimiser.reports.write import EARLIER_NAMES

    path, out = first_run(tmp_path)
    for written in out.iterdir():  # as an earlier optimise left it: its files, no manifest
        if written.name not in EARLIER_NAMES:
            written.unlink()
    assert runner.invoke(app, [str(path), "--out", str(out)]).exit_code == 0
    (out / ".optimise-manifest.json").unlink()
    (out / "budget.xlsx").write_text("precious")
    done = runner.invoke(app, [str(path), "--out", str(out)])
    assert done.exit_code == 2 and "budget.xlsx" in done.stderr
    assert (out / "budget.xlsx").read_text() == "precious"


@pytest.mark.parametrize("where", ["/proc/x", "/proc/self/x/y", "/dev/null/x"])
def test_out_where_nothing_can_be_written(tmp_path: Path, where: str) -> None:
    path = tmp_path / "place.yaml"
    path.write_text(BASE)
    done = runner.invoke(app, [str(path), "--out", where])
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith(f"optimise: --out {where}: "), done.stderr


@pytest.mark.parametrize(("cell", "fragment"), [
    ("€1.200", "'€1.200' is ambiguous"), ("1.200,50", "'1.200,50' is ambiguous"),
    ("2.500.000", "is ambiguous"), ("1,5", "'1,5' is not a number")])
def test_european_figures_in_a_table_are_refused(tmp_path: Path, cell: str,
                                                  fragment: str) -> None:
    """The probe: a table's `€1.200` (European thousands) was read as 1.2."""
    (tmp_path / "streams.csv").write_text(
        f'id,agency,budget\nasc,council,"{cell}"\nnhs_budget,nhs,1000\n', encoding="utf-8")
    text = edit("streams:\n  asc:\n    agency: council\n    budget: 100\n    pool_share: 0.5\n"
                "  nhs_budget:\n    agency: nhs\n    budget: [1000, 1000]\n",
                "streams: streams.csv\n")
    path = tmp_path / "place.yaml"
    path.write_text(text, encoding="utf-8")
    done = runner.invoke(app, [str(path), "--out", str(tmp_path / "out")])
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith(f"optimise: {tmp_path / 'streams.csv'}, row 2, column C "
                                  "(budget), at streams.asc.budget: "), done.stderr
    assert fragment in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------- tables: limits, paths


STREAMS = ("streams:\n  asc:\n    agency: council\n    budget: 100\n    pool_share: 0.5\n"
           "  nhs_budget:\n    agency: nhs\n    budget: [1000, 1000]\n")


def table_refused(tmp_path: Path, reference: str, *fragments: str,
                  absent: str = "") -> str:
    path = tmp_path / "place.yaml"
    path.write_text(edit(STREAMS, f"streams: {reference}\n"), encoding="utf-8")
    started = time.perf_counter()
    done = runner.invoke(app, [str(path), "--out", str(tmp_path / "out")])
    assert time.perf_counter() - started < 30
    assert done.exit_code == 2, done.output
    assert done.stderr.count("\n") == 1, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    assert not absent or absent not in done.stderr
    assert not (tmp_path / "out").exists()
    return done.stderr


def test_csv_with_too_many_columns(tmp_path: Path) -> None:
    """The probe: a CSV with 18,279 columns was an internal error."""
    (tmp_path / "streams.csv").write_text(",".join(["id", *(f"c{n}" for n in range(18_278))])
                                          + "\n")
    table_refused(tmp_path, "streams.csv", "18,279 columns, more than a spreadsheet's 16,384")


def workbook_bytes(sheet_xml: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal XLSX whose first sheet is `sheet_xml`."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "streams"
    book.active.append(["id", "agency", "budget"])
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w",
                                                            zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            target.writestr(info.filename, (extra or {}).get(info.filename, data))
    return out.getvalue()


def test_workbook_with_entities(tmp_path: Path) -> None:
    """The probe: XXE and entity workbooks gave 'could not read worksheets from None'."""
    sheet = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b"<sheetData><row><c t=\"inlineStr\"><is><t>&e;</t></is></c></row></sheetData>"
             b"</worksheet>")
    (tmp_path / "streams.xlsx").write_bytes(workbook_bytes(sheet))
    table_refused(tmp_path, "streams.xlsx", "xl/worksheets/sheet1.xml declares a DOCTYPE or "
                  "entities", absent="root:")


def test_workbook_zip_bomb(tmp_path: Path) -> None:
    """The probe: a 488 KB workbook was read for 252 s and 1.4 GB before 'too large'."""
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n)
                    for n in range(1, 600_001))
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData>' + rows + b"</sheetData></worksheet>")
    (tmp_path / "streams.xlsx").write_bytes(workbook_bytes(sheet))
    assert (tmp_path / "streams.xlsx").stat().st_size < 4_000_000
    table_refused(tmp_path, "streams.xlsx", "the table is too large (more than 200,000 cells")


def test_workbook_declaring_a_huge_unzip(tmp_path: Path) -> None:
    sheet = b"<worksheet/>" + b" " * (60 * 2**20)
    (tmp_path / "streams.xlsx").write_bytes(workbook_bytes(sheet))
    table_refused(tmp_path, "streams.xlsx", "the workbook unzips to more than 50 MB")


@pytest.mark.parametrize("where", ["../outside.csv", "ABSOLUTE"])
def test_tables_outside_the_instance_folder_are_refused(tmp_path: Path, where: str) -> None:
    """Tables are read from the instance's folder or below (README, 'Bad input')."""
    (tmp_path / "outside.csv").write_text("id,agency,budget\nasc,council,100\n")
    (tmp_path / "place").mkdir()
    reference = str(tmp_path / "outside.csv") if where == "ABSOLUTE" else where
    table_refused(tmp_path / "place", reference, "tables are read from the instance's folder")


def test_a_file_that_is_not_a_table_is_never_quoted(tmp_path: Path) -> None:
    (tmp_path / "streams.csv").write_text("root:x:0:0:secret-token:/root:/bin/bash\n"
                                          "daemon:x:1:1:another-secret\n")
    table_refused(tmp_path, "streams.csv", "there is no 'id' column", absent="secret")


def test_template_never_writes_through_a_link(tmp_path: Path) -> None:
    """The probe: `optimise template DIR` wrote through a dangling link at DIR/place.yaml."""
    from optimiser.cli import main

    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "place.yaml").symlink_to(tmp_path / "outside.yaml")
    for force in ([], ["--force"]):
        with pytest.raises(SystemExit) as done:
            main(["template", str(tmp_path / "dir"), *force])
        assert done.value.code == 2
        assert not (tmp_path / "outside.yaml").exists()
        assert (tmp_path / "dir" / "place.yaml").is_symlink()


def test_ctrl_c_while_loading_is_quiet(tmp_path: Path) -> None:
    """The probe: Ctrl-C during the imports printed a traceback."""
    driver = ("import builtins, runpy\n"
              "real = builtins.__import__\n"
              "def interrupted(name, *args, **kwargs):\n"
              "    if name == 'optimiser.cli':\n"
              "        raise KeyboardInterrupt\n"
              "    return real(name, *args, **kwargs)\n"
              "builtins.__import__ = interrupted\n"
              "runpy.run_module('optimiser', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", driver, "x.yaml"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "optimise: interrupted\n"


def test_internal_error_says_how_to_report(tmp_path: Path, monkeypatch: Any) -> None:
    """Exit 3 is for bugs only, and says so."""
    from optimiser import cli as command

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(command, "run", broken)
    path = tmp_path / "place.yaml"
    path.write_text(BASE)
    done = runner.invoke(app, [str(path), "--out", str(tmp_path / "out")])
    assert done.exit_code == 3
    assert "This is a bug in optimise" in done.stderr and "--debug" in done.stderr


def test_a_missed_target_is_never_optimal() -> None:
    """A plan HiGHS calls optimal with a target missed beyond its rounding is refused."""
    import pandas as pd

    from optimiser.pipeline import check_targets
    from optimiser.solving.highs import SolverError

    class Solved:
        name = "pooled"
        outcomes = pd.DataFrame({"outcome": ["adm", "adm"], "year": [2010, 2011],
                                 "achieved": [400.0, 0.0], "target": [400.0 * (1 - 1e-9),
                                                                      2e-6]})

    with pytest.raises(SolverError, match="reaches 0 of the adm target of 2e-06 in 2011"):
        check_targets(Solved())  # type: ignore[arg-type]
    Solved.outcomes = Solved.outcomes.iloc[:1]
    check_targets(Solved())  # type: ignore[arg-type]  # met to its rounding
