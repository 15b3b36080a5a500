"research/detections: its committed table is what its table builder makes of its committed evaluations."
import pandas as pd

from conftest import ROOT

def test_box_costs_table_is_built_from_its_committed_runs():
    from research.detections.box_costs import VARIANTS, table
    tables = ROOT / "research" / "detections" / "tables"
    runs = pd.read_csv(tables / "box_costs_runs.csv")
    assert set(runs.boxes) == set(VARIANTS) and len(runs) == len(VARIANTS) * 2 * runs.seed.nunique()
    pd.testing.assert_frame_equal(table(runs), pd.read_csv(tables / "box_costs.csv"), check_dtype=False)
