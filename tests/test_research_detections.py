"research/detections: its committed table is what its table builder makes of its committed evaluations."
import pandas as pd
import pytest

from conftest import ROOT

def test_box_costs_table_is_built_from_its_committed_runs():
    from research.detections.box_costs import VARIANTS, table
    tables = ROOT / "research" / "detections" / "tables"
    runs = pd.read_csv(tables / "box_costs_runs.csv")
    assert set(runs.boxes) == set(VARIANTS) and len(runs) == len(VARIANTS) * 2 * runs.seed.nunique()
    pd.testing.assert_frame_equal(table(runs), pd.read_csv(tables / "box_costs.csv"), check_dtype=False)

@pytest.mark.parametrize("shift", [0.1, 0.05])
def test_box_shift_tables_are_built_from_their_committed_runs(shift):
    from research.detections.box_shift import BOXES, shift_table
    tables = ROOT / "research" / "detections" / "tables"
    ours = pd.read_csv(tables / f"box_shift_{shift:g}_runs.csv")
    assert set(ours.boxes) == set(BOXES) and len(ours) == len(BOXES) * 2 * ours.seed.nunique()
    built = shift_table(pd.read_csv(tables / "box_costs_runs.csv"), ours, shift)
    pd.testing.assert_frame_equal(built, pd.read_csv(tables / f"box_shift_{shift:g}.csv"), check_dtype=False)
