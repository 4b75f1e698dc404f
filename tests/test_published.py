"""The shipped transcription of thesis Tables 5.3-5.12 against the thesis text itself."""

import re

from hmogbench.registry.published import load_published

CELL = re.compile(r"(\d+\.\d+)\s*(?:±|\\pm)\s*(\d+\.\d+)")


def _thesis_rows(text):
    """Every table row of the thesis text: (line number, model, six numbers as printed, parameter count)."""
    rows = []
    for number, line in enumerate(text.splitlines()):
        cells = line.split("\t")
        if len(cells) != 5 or not CELL.search(cells[1]):
            continue
        values = tuple(v for cell in cells[1:4] for v in CELL.search(cell).groups())
        params = re.sub(r"[$\s]|\\mathrm\{|\}", "", cells[4])
        rows.append((number, cells[0].replace(" (baseline)", ""), values, params))
    return rows


def test_every_published_row_is_in_the_thesis_text_and_tables_are_contiguous(shared_seeds):
    text = (shared_seeds / "thesis_hierarchical_mixtures_of_generators.txt").read_text(encoding="utf-8")
    thesis = _thesis_rows(text)
    assert len(thesis) == 150
    candidates = {}
    for row in load_published():
        values = tuple(row[k] for k in ("nn_real_mean", "nn_real_std", "nn_fake_mean", "nn_fake_std",
                                        "fid_mean", "fid_std"))
        matches = [i for i, (_, model, printed, params) in enumerate(thesis)
                   if (model, printed, params) == (row["model"], values, row["params_printed"])]
        assert matches, f"table {row['table']} {row['model']}: {values} {row['params_printed']} not in the thesis"
        candidates[(row["table"], row["model"])] = matches
    position = {}
    for table in sorted({t for t, _ in candidates}):
        keys = [k for k in candidates if k[0] == table]
        anchor = min(candidates[k][0] for k in keys if len(candidates[k]) == 1)
        for k in keys:  # a row printed in two tables (the FC baseline): the copy next to this table's rows
            position[k] = min(candidates[k], key=lambda i: abs(i - anchor))
        lines = sorted(position[k] for k in keys)
        assert lines == list(range(lines[0], lines[0] + len(keys))), f"table {table} is not one block of the text"
    assert sorted(position.values()) == list(range(150))  # one to one: every thesis row used exactly once
