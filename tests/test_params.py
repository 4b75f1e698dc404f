"""The head parameter counts reproduce every 'Param.' entry of thesis Tables 5.3-5.12."""

import pytest

from hmogbench.cli import main
from hmogbench.models import ModelSpec
from hmogbench.models.params import format_count, head_parameter_count, parameter_rows
from hmogbench.registry.published import load_published


def test_every_table_row_matches_the_printed_count():
    rows = parameter_rows()
    assert len(rows) == 150  # 5 tables x 9 rows + 5 tables x 21 rows
    mismatches = [(r.table, r.model, r.count, r.ours, r.printed) for r in rows if not r.matches]
    assert mismatches == []


@pytest.mark.parametrize("count,printed", [(413_696, "413K"), (268_507, "268K"), (1_655_087, "1.65M"),
                                           (1_687_552, "1.68M"), (13_241_403, "13.24M"), (27_000_832, "27.00M"),
                                           (999_999, "999K")])
def test_format_truncates_like_the_thesis(count, printed):
    assert format_count(count) == printed


@pytest.mark.parametrize("name,size,count", [("HME-6", 32, 268_507), ("ME-L-4", 64, 3_309_972),
                                             ("MEGAN-4", 64, 4_196_408), ("MGAN-32", 32, 13_500_416)])
def test_counts_equal_the_closed_form(name, size, count):
    assert head_parameter_count(ModelSpec.parse(name), size) == count


def test_published_table_has_every_row_once():
    rows = load_published()
    keys = [(r["table"], r["model"]) for r in rows]
    assert len(keys) == len(set(keys)) == 150
    mnist_fc = next(r for r in rows if r["table"] == "5.3" and r["model"] == "FC")
    assert (mnist_fc["fid_mean"], mnist_fc["fid_std"], mnist_fc["params_printed"]) == ("11.13", "0.44", "413K")


def test_params_command_exits_zero_and_prints_every_row(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "150 of 150 rows match" in out and "27.92M" in out
