"""Known optima beside a user's file: ``OPTIMA.csv`` (TSPLIB), ``BEST_KNOWN.csv`` (Gset)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cem._cli import main
from cem.errors import DataFormatError
from cem.problems.maxcut.problem import GSET_DIR, MaxCut, weights_digest
from cem.problems.optima import read_table
from cem.problems.tsp import TSP
from cem.problems.tsp.tsplib import DATA_DIR, distances_digest, read_tsplib

#: The columns of the TSPLIB table shipped with the public data (no digests).
HEADER = "name,type,dimension,optimum,source"


def _copy_tsplib(folder, name, as_name, edit=None):
    """A copy of a bundled TSPLIB file, renamed (``NAME:`` too), optionally edited."""
    text = (DATA_DIR / f"{name}.tsp").read_text()
    text = re.sub(r"^NAME\s*:.*$", f"NAME : {as_name}", text, count=1, flags=re.M)
    path = folder / f"{as_name}.tsp"
    path.write_text(edit(text) if edit else text)
    return path


def test_a_users_tsplib_file_gets_the_optimum_listed_beside_it_by_name(tmp_path):
    path = _copy_tsplib(tmp_path, "eil51", "myeil")
    assert TSP.from_tsplib(path).known_optimum is None  # not listed anywhere
    (tmp_path / "OPTIMA.csv").write_text(f"{HEADER}\nmyeil,TSP,51,426,a copy of eil51\n")
    prob = TSP.from_tsplib(path)
    assert prob.known_optimum == 426
    assert "by name in" in prob.describe() and "content is not checked" in prob.describe()
    assert str(tmp_path / "OPTIMA.csv") in prob.describe()
    assert TSP.from_config(file=str(path)).known_optimum == 426  # the config route too


def test_a_listed_digest_is_checked_for_a_users_file(tmp_path):
    path = _copy_tsplib(tmp_path, "eil51", "myeil")
    digest = distances_digest(read_tsplib(path).distances)
    (tmp_path / "OPTIMA.csv").write_text(f"name,optimum,sha256\nmyeil,426,{digest}\n")
    prob = TSP.from_tsplib(path)
    assert prob.known_optimum == 426 and "not checked" not in prob.describe()
    (tmp_path / "OPTIMA.csv").write_text(f"name,optimum,sha256\nmyeil,426,{'0' * 64}\n")
    assert TSP.from_tsplib(path).known_optimum is None  # another content than the listed


def test_a_bundled_name_with_other_content_gets_no_optimum_from_a_name_only_table(tmp_path):
    def move_city_1(text):
        return re.sub(r"^1 565\.0 575\.0$", "1 566.0 575.0", text, count=1, flags=re.M)

    edited = _copy_tsplib(tmp_path, "berlin52", "berlin52", move_city_1)
    assert (
        read_tsplib(edited).distances[0, 1]
        != read_tsplib(DATA_DIR / "berlin52.tsp").distances[0, 1]
    )
    (tmp_path / "OPTIMA.csv").write_text(f"{HEADER}\nberlin52,TSP,52,7542,copied\n")
    assert TSP.from_tsplib(edited).known_optimum is None  # the bundled table's digest rules
    intact = tmp_path / "intact"
    intact.mkdir()
    same = _copy_tsplib(intact, "berlin52", "berlin52")
    (intact / "OPTIMA.csv").write_text(f"{HEADER}\nberlin52,TSP,52,7542,copied\n")
    prob = TSP.from_tsplib(same)
    assert prob.known_optimum == 7542 and "not checked" not in prob.describe()


def test_the_shared_tsplib_folder_attaches_its_optima(shared_data, tmp_path):
    # st70 is not bundled; its copy beside the public OPTIMA.csv (no digests) gets 675.
    prob = TSP.from_tsplib(shared_data / "tsplib" / "st70.tsp")
    assert prob.known_optimum == 675


@pytest.mark.parametrize(
    "text, line, match",
    [
        ("name,value\nmyeil,426\n", 1, "the header needs the columns name and optimum"),
        (f"{HEADER}\nmyeil,TSP,51,426\n", 2, "4 fields, the header has 5"),
        (f"{HEADER}\neil,TSP,51,1,x\n\nmyeil,TSP,51,four hundred,x\n", 4, "must be a number"),
        (f"{HEADER}\nmyeil,TSP,51,nan,x\n", 2, "must be a number"),
        ("name,optimum,sha256\nmyeil,426,abc\n", 2, "64 hexadecimal digits"),
        ("name,optimum\nmyeil,426\nmyeil,427\n", 3, "'myeil' is listed twice"),
        ('name,optimum\n"my\neil",426\n,5\n', 4, "empty name"),
    ],
)
def test_a_malformed_optima_table_is_one_line_naming_file_and_line(tmp_path, text, line, match):
    path = _copy_tsplib(tmp_path, "eil51", "myeil")
    table = tmp_path / "OPTIMA.csv"
    table.write_text(text)
    with pytest.raises(DataFormatError, match=match) as info:
        TSP.from_tsplib(path)
    message = str(info.value)
    assert message.startswith(f"{table}, line {line}: ") and "\n" not in message


def test_a_malformed_table_stops_cem_validate_with_one_line(tmp_path, capsys):
    path = _copy_tsplib(tmp_path, "eil51", "myeil")
    (tmp_path / "OPTIMA.csv").write_text(f"{HEADER}\nmyeil,TSP,51\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[problem]\nname = "tsp"\nfile = "{path}"\n')
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "OPTIMA.csv, line 2" in err


def test_the_bundled_tables_parse_with_a_digest_for_every_instance():
    for table, column in ((DATA_DIR / "OPTIMA.csv", "optimum"),
                          (GSET_DIR / "BEST_KNOWN.csv", "best_known_cut")):  # fmt: skip
        rows = read_table(table, column)
        assert rows and all(sha is not None for _, sha in rows.values())


# --------------------------------------------------------------------------- Gset
def _gset(folder, name):
    path = folder / f"{name}.txt"
    path.write_text("4 5\n1 2 1\n2 3 1\n3 4 1\n4 1 1\n1 3 1\n")  # a 4-cycle and a chord
    return path


def test_a_users_gset_file_gets_the_best_known_cut_listed_beside_it(tmp_path):
    path = _gset(tmp_path, "square")
    assert MaxCut.from_gset(path).known_optimum is None
    table = tmp_path / "BEST_KNOWN.csv"
    table.write_text("name,nodes,edges,best_known_cut,source\nsquare,4,5,4,by hand\n")
    prob = MaxCut.from_gset(path)
    assert prob.known_optimum == 4 and "content is not checked" in prob.describe()
    x = np.array([[0, 1, 0, 1]])
    assert prob.score(x)[0] == 4  # the listed value is this graph's maximum cut
    digest = weights_digest(prob.weights)
    table.write_text(f"name,best_known_cut,sha256\nsquare,4,{digest}\n")
    prob = MaxCut.from_gset(path)
    assert prob.known_optimum == 4 and "not checked" not in prob.describe()
    table.write_text(f"name,best_known_cut,sha256\nsquare,4,{'f' * 64}\n")
    assert MaxCut.from_gset(path).known_optimum is None


def test_a_bundled_gset_graph_keeps_its_listed_value_beside_a_users_table(tmp_path):
    copy = tmp_path / "G14.txt"
    copy.write_text((GSET_DIR / "G14.txt").read_text())
    (tmp_path / "BEST_KNOWN.csv").write_text("name,best_known_cut\nG14,9999\n")
    prob = MaxCut.from_gset(copy)
    assert prob.known_optimum == 3064 and "not checked" not in prob.describe()


def test_a_malformed_best_known_table_names_file_and_line(tmp_path):
    path = _gset(tmp_path, "square")
    table = tmp_path / "BEST_KNOWN.csv"
    table.write_text("name,best_known_cut\nsquare,4,extra\n")
    with pytest.raises(DataFormatError, match=re.escape(f"{table}, line 2: 3 fields")):
        MaxCut.from_gset(path)
