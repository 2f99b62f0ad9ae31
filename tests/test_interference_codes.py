"""Interference messages taken by code: each cell gets the message of its own text, blanks and missing none."""

from __future__ import annotations

import pandas as pd

from markers.ingest.interferences import interference_messages


def test_each_cell_its_own_message_blank_and_missing_none():
    levodopa = interference_messages(pd.Series(["on L-DOPA"]))[0]
    banana = interference_messages(pd.Series(["ate a banana"]))[0]
    assert levodopa.startswith("levodopa: ") and banana.startswith("banana: ")
    cells = pd.Series(pd.array(["", "on L-DOPA", None, "ate a banana", "  ", "on L-DOPA", "nothing"], dtype="str"))
    assert interference_messages(cells).tolist() == ["", levodopa, "", banana, "", levodopa, ""]
    assert interference_messages(pd.Series([], dtype="str")).tolist() == []
