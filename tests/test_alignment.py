"""Sequence alignment: scoring, the exact DP, the edit-graph path family, the CE problem,
output formats and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cem import maximize
from cem._cli import main
from cem.config import build_problem
from cem.errors import ConfigError, DataFormatError, ResourceLimitError
from cem.problems.alignment.dp import align, banded_dp
from cem.problems.alignment.fasta import parse_fasta, read_fasta, write_fasta
from cem.problems.alignment.moves import (
    END,
    GAP_A,
    GAP_B,
    PAIR,
    aligned_strings,
    embed,
    path_scores,
    positions,
)
from cem.problems.alignment.output import blocked
from cem.problems.alignment.pairwise import PairwiseAlignment
from cem.problems.alignment.paths import EditGraphPaths, diagonal_band
from cem.problems.alignment.scoring import Scoring, blosum62, dna_scoring, read_matrix, scoring
from cem.problems.alignment.simulate import mutate, random_sequence

REPO = Path(__file__).resolve().parents[1]
SCHEMES = [
    ("dna", "global", 0.0), ("dna", "local", 0.0), ("dna", "global", 4.0), ("dna", "local", 4.0),
    ("blosum62", "global", 0.0), ("blosum62", "local", 0.0),
    ("blosum62", "global", 10.0), ("blosum62", "local", 10.0),
]  # fmt: skip


def _scheme(matrix: str, mode: str, gap_open: float) -> Scoring:
    if matrix == "dna":
        return dna_scoring(2, -3, transition=-1, gap_open=gap_open, gap_extend=2, mode=mode)
    return blosum62(gap_open=gap_open, gap_extend=1 if gap_open else 4, mode=mode)


def _letters(sc: Scoring) -> str:
    return sc.alphabet[:20] if sc.name == "BLOSUM62" else sc.alphabet


def _all_paths(m: int, n: int) -> np.ndarray:
    """Every global path of an m x n edit graph, padded to m + n moves."""
    out: list[list[int]] = []

    def walk(i: int, j: int, moves: list[int]) -> None:
        if i == m and j == n:
            out.append(moves + [END] * (m + n - len(moves)))
            return
        if i < m and j < n:
            walk(i + 1, j + 1, [*moves, PAIR])
        if i < m:
            walk(i + 1, j, [*moves, GAP_B])
        if j < n:
            walk(i, j + 1, [*moves, GAP_A])

    walk(0, 0, [])
    return np.array(out, dtype=np.int8)


# ------------------------------------------------------------------ scoring and the DP
@pytest.mark.parametrize(("matrix", "mode", "gap_open"), SCHEMES)
def test_dp_optimum_is_the_best_of_all_paths(matrix, mode, gap_open):
    sc = _scheme(matrix, mode, gap_open)
    rng = np.random.default_rng(7)
    for _ in range(4):
        m, n = rng.integers(1, 5, 2)
        a = sc.encode(random_sequence(rng, int(m), _letters(sc)))
        b = sc.encode(random_sequence(rng, int(n), _letters(sc)))
        res = align(a, b, sc)
        assert res.score == path_scores(_all_paths(int(m), int(n)), a, b, sc).max()
        full = embed(res.moves, res.start, int(m), int(n))
        assert path_scores(full[None], a, b, sc)[0] == res.score


@pytest.mark.parametrize(("matrix", "mode", "gap_open"), SCHEMES)
def test_dp_scores_equal_biopython_pairwise_aligner(matrix, mode, gap_open):
    Align = pytest.importorskip("Bio.Align")
    sc = _scheme(matrix, mode, gap_open)
    aligner = Align.PairwiseAligner(mode=mode)
    aligner.substitution_matrix = Align.substitution_matrices.Array(
        sc.alphabet, dims=2, data=np.asarray(sc.matrix)
    )
    aligner.open_gap_score = -(sc.gap_open + sc.gap_extend)
    aligner.extend_gap_score = -sc.gap_extend
    rng = np.random.default_rng(11)
    for _ in range(10):
        a = random_sequence(rng, int(rng.integers(1, 120)), _letters(sc))
        b = random_sequence(rng, int(rng.integers(1, 120)), _letters(sc))
        assert align(sc.encode(a), sc.encode(b), sc).score == aligner.score(a, b)


def test_banded_dp_equals_full_dp_when_the_band_holds_the_optimum():
    sc = dna_scoring(1, -1, gap_open=3, gap_extend=1)
    rng = np.random.default_rng(3)
    a = random_sequence(rng, 80, "ACGT")
    b, _ = mutate(rng, a, "ACGT", 0.1)
    A, B = sc.encode(a), sc.encode(b)
    full = align(A, B, sc)
    lo, W = diagonal_band(A.size, B.size, 30)
    score, _, _ = banded_dp(A[None], B[None], sc, lo[None], W)
    assert score[0] == full.score
    narrow, _, _ = banded_dp(A[None], B[None], sc, *diagonal_band(A.size, B.size, 1))
    assert narrow[0] <= full.score


def test_blosum62_is_the_published_matrix():
    sc = blosum62()
    s = {c: k for k, c in enumerate(sc.alphabet)}
    assert sc.alphabet[:20] == "ARNDCQEGHILKMFPSTWYV"
    assert sc.matrix[s["W"], s["W"]] == 11 and sc.matrix[s["C"], s["C"]] == 9
    assert sc.matrix[s["A"], s["R"]] == -1 and np.array_equal(sc.matrix, sc.matrix.T)


def test_transitions_score_apart_from_transversions():
    sc = dna_scoring(2, -3, transition=-1)
    A, C, G, T = range(4)
    assert sc.matrix[A, G] == sc.matrix[C, T] == -1 and sc.matrix[A, C] == -3


def test_affine_gap_is_charged_once_per_run():
    sc = dna_scoring(1, -1, gap_open=5, gap_extend=2)
    a, b = sc.encode("AAAA"), sc.encode("AA")
    x = np.array([[PAIR, GAP_B, GAP_B, PAIR, END, END]], dtype=np.int8)
    assert path_scores(x, a, b, sc)[0] == 1 + 1 - (5 + 2 * 2)
    y = np.array([[PAIR, GAP_B, GAP_A, GAP_B, PAIR, GAP_A]], dtype=np.int8)
    assert path_scores(y, sc.encode("AAAA"), sc.encode("AAAA"), sc)[0] == 2 - 4 * 7


# ------------------------------------------------------------------ the path family
@pytest.mark.parametrize("band", [None, 2])
def test_family_paths_end_at_the_corner_inside_the_band(band):
    fam = EditGraphPaths.initial(6, 9, band=band, diagonal=0.5, pull=2.0)
    X = fam.sample(2000, np.random.default_rng(0))
    steps_a = ((X == PAIR) | (X == GAP_B)).sum(axis=1)
    steps_b = ((X == PAIR) | (X == GAP_A)).sum(axis=1)
    assert np.all(steps_a == 6) and np.all(steps_b == 9)
    i, j = positions(X)
    live = X != END
    k = j - fam.lo[i]
    assert np.all((k[live] >= 0) & (k[live] < fam.width))


def test_boundary_moves_are_forced():
    fam = EditGraphPaths.initial(3, 4)
    assert np.array_equal(fam.probs[3, 0], [0, 0, 1])  # last row: only gaps in a
    assert np.array_equal(fam.probs[1, 4], [0, 1, 0])  # last column: only gaps in b
    assert np.allclose(fam.probs[1, 1], 1 / 3)


def test_visit_probabilities_and_entropy_match_monte_carlo():
    fam = EditGraphPaths.initial(5, 7, band=3, diagonal=0.5, pull=2.0)
    N = 20000
    X = fam.sample(N, np.random.default_rng(1))
    lp = fam.log_pdf(X)
    # the entropy is E[-log f(X)]: within 4 standard errors of the sample mean
    assert abs(fam.entropy() + lp.mean()) <= 4 * lp.std() / np.sqrt(N)
    i, j = positions(X)
    live = X != END
    counts = np.zeros(fam.probs.shape[:2])
    np.add.at(counts, (i[live], (j - fam.lo[i])[live]), 1)
    pi = fam.visit_probabilities()
    counts[5, 7 - fam.lo[5]] = N  # the end node is visited by every path, after its moves
    se = np.sqrt(np.clip(pi * (1 - pi), 0, None) / N)
    assert np.all(np.abs(counts / N - pi) <= 5 * se + 1e-12)


def test_fit_is_the_frequency_of_elite_moves_shrunk_by_the_prior():
    fam = EditGraphPaths.initial(2, 2)
    X = np.array([[PAIR, PAIR, END, END], [PAIR, GAP_B, GAP_A, END]], dtype=np.int8)
    new = fam.fit(X, np.array([3.0, 1.0]))
    assert np.allclose(new.probs[0, 0], [1, 0, 0])
    assert np.allclose(new.probs[1, 1], [0.75, 0.25, 0])
    assert np.allclose(new.probs[0, 1], fam.probs[0, 1])  # unvisited: unchanged
    shrunk = EditGraphPaths.initial(2, 2, prior=1.0).fit(X)
    assert np.allclose(shrunk.probs[0, 0], [(1 + 1 / 3) / 2, 1 / 6, 1 / 6])
    assert np.isclose(np.exp(new.log_pdf(X[:1]))[0], 0.75)
    assert new.fit(X[:1]).is_degenerate() and not fam.is_degenerate()


def test_narrow_band_is_refused_with_the_key():
    with pytest.raises(ConfigError, match="band = 1 is too narrow"):
        EditGraphPaths.initial(10, 40, band=1)


# ------------------------------------------------------------------ the problem
def _pair(seed: int = 5, length: int = 120, mode: str = "global") -> PairwiseAlignment:
    rng = np.random.default_rng(seed)
    sc = dna_scoring(1, -1, gap_open=3, gap_extend=1, mode=mode)
    a = random_sequence(rng, length, "ACGT")
    b, _ = mutate(rng, a, "ACGT", 0.2)
    return PairwiseAlignment(a, b, sc, names=("x", "y"))


@pytest.mark.parametrize("mode", ["global", "local"])
def test_ce_reaches_the_dp_optimum(mode):
    pr = _pair(mode=mode)
    res = maximize(pr, rng=0, **pr.default_options())
    assert res.fun == pr.known_optimum


def test_ce_alone_without_the_tube_search_reaches_the_optimum_on_a_short_pair():
    rng = np.random.default_rng(2)
    a = random_sequence(rng, 60, "ACGT")
    b, _ = mutate(rng, a, "ACGT", 0.1)
    pr = PairwiseAlignment(a, b, dna_scoring(1, -1, gap_extend=2), polish_radius=0)
    res = maximize(pr, rng=0, **{**pr.default_options(), "n_samples": 1000, "rho": 0.02})
    assert res.fun == pr.known_optimum


def test_polish_never_worsens_and_reaches_a_tube_optimum():
    pr = _pair()
    X = pr.initial_family().sample(8, np.random.default_rng(4))
    s = pr.score(X)
    Y, t = pr.polish(X, s)
    assert np.all(t >= s) and np.array_equal(t, pr.score(Y))
    _, u = pr.polish(Y, t)
    assert np.array_equal(u, t)


def test_three_line_output_and_fasta(tmp_path):
    sc = dna_scoring(1, -1, gap_extend=2)
    pr = PairwiseAlignment("GATTACA", "GATACA", sc, names=("one", "two"))
    x = embed(pr.optimum.moves, pr.optimum.start, 7, 6)
    text = pr.format_solution(x)
    assert text.splitlines()[1:4] == ["one 1 GATTACA 7", "      || ||||", "two 1 GA-TACA 6"]
    pr.write_solution(x, tmp_path)
    assert read_fasta(tmp_path / "alignment.fasta") == [("one", "GATTACA"), ("two", "GA-TACA")]


def test_local_output_shows_the_local_part_with_its_coordinates():
    sc = dna_scoring(1, -3, gap_extend=5, mode="local")
    pr = PairwiseAlignment("TTTTGATTACATTTT", "CCGATTACACC", sc)
    x = embed(pr.optimum.moves, pr.optimum.start, pr.m, pr.n)
    top, bottom, start = pr.rows(x)
    assert (top, bottom, start) == ("GATTACA", "GATTACA", (5, 3))
    assert blocked(("a", "b"), top, bottom, start, sc, width=4).splitlines()[0] == "a  5 GATT 8"


def test_registered_problem_builds_from_a_fasta_file(tmp_path):
    path = tmp_path / "p.fasta"
    write_fasta(path, [("s1", "ACGTACGT"), ("s2", "ACGACGT"), ("s3", "TTT")])
    pr = build_problem(
        {"name": "align_pair", "file": str(path), "records": ["s3", "s1"], "gap_extend": 2}
    )
    assert pr.names == ("s3", "s1") and pr.describe().startswith("pairwise alignment of s3")


CONFIG = str(REPO / "configs" / "align_pair.toml")


def test_shipped_config_reaches_the_optimum_and_writes_the_alignment(tmp_path):
    out = tmp_path / "run"
    assert main(["run", CONFIG, "--out", str(out), "--quiet", "--set", "output.plots=false"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["best_score"] == result["known_optimum"]
    assert (out / "alignment.txt").read_text().count("ancestor") >= 3
    assert [n for n, _ in read_fasta(out / "alignment.fasta")] == ["ancestor", "descendant"]


@pytest.mark.slow
def test_shipped_config_resumes_after_a_kill_to_the_same_bits(tmp_path, monkeypatch):
    cfg, out = CONFIG, tmp_path / "run"
    assert main(["run", cfg, "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "result.json").read_text())
    calls = {"n": 0}
    original = PairwiseAlignment.score

    def interrupted(self, X):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(self, X)

    killed = tmp_path / "killed"
    with monkeypatch.context() as patch:
        patch.setattr(PairwiseAlignment, "score", interrupted)
        assert main(["run", cfg, "--out", str(killed), "--quiet"]) == 130
    assert main(["resume", str(killed), "--quiet"]) == 0
    again = json.loads((killed / "result.json").read_text())
    assert (again["best_score"], again["nfev"]) == (result["best_score"], result["nfev"])
    with np.load(killed / "arrays.npz") as xa, np.load(out / "arrays.npz") as xb:
        assert np.array_equal(xa["x"], xb["x"])
    assert (killed / "history.csv").read_text().count("\n") == (
        out / "history.csv"
    ).read_text().count("\n")


# ------------------------------------------------------------------ bad input
def test_fasta_errors_name_the_file_and_line(tmp_path):
    with pytest.raises(DataFormatError, match=r"^f.fa: no FASTA records"):
        parse_fasta("\n", "f.fa")
    with pytest.raises(DataFormatError, match=r"f.fa:3: duplicate record name 'x' \(first at"):
        parse_fasta(">x\nAC\n>x\nGT\n", "f.fa")
    with pytest.raises(DataFormatError, match=r"f.fa:1: record 'y' is an empty sequence"):
        parse_fasta(">y\n>z\nAC\n", "f.fa")
    with pytest.raises(DataFormatError, match=r"f.fa:1: sequence text before the first"):
        parse_fasta("ACGT\n>z\nAC\n", "f.fa")
    missing = tmp_path / "none.fa"
    with pytest.raises(DataFormatError, match=r"none\.fa: cannot read the FASTA file"):
        read_fasta(missing)


def test_sequence_errors_name_the_record_and_position(tmp_path):
    sc = dna_scoring()
    with pytest.raises(ConfigError, match=r"^p.fa: record 'b': letter 'J' at position 3 is not"):
        sc.encode("ACJT", "b", "p.fa")
    with pytest.raises(ConfigError, match=r"record 'a' is an empty sequence"):
        PairwiseAlignment("", "ACGT", sc)
    path = tmp_path / "one.fasta"
    write_fasta(path, [("only", "ACGT")])
    with pytest.raises(ConfigError, match=r"one.fasta: a pairwise alignment needs 2 records"):
        PairwiseAlignment.from_config(file=str(path))
    with pytest.raises(ConfigError, match=r"no record named 'q'; records: only"):
        PairwiseAlignment.from_config(file=str(path), records=["only", "q"])


def test_matrix_that_is_not_symmetric_is_refused_naming_the_letters(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("# test\n   A  B\nA  1 -1\nB  -2  1\n")
    with pytest.raises(
        DataFormatError,
        match=r"m.txt: the substitution matrix is not symmetric: "
        r"s\(A,B\) = -1 but s\(B,A\) = -2",
    ):
        read_matrix(path)
    with pytest.raises(ConfigError, match="matrix must be 'dna', 'blosum62' or an existing"):
        scoring(matrix=str(tmp_path / "absent.txt"))
    with pytest.raises(ConfigError, match="gap_extend must be a number >= 0"):
        dna_scoring(gap_extend=-1)
    with pytest.raises(ConfigError, match="mode must be 'global' or 'local'"):
        dna_scoring(mode="semi")


def test_too_long_for_the_memory_limit_names_the_records(monkeypatch, tmp_path):
    monkeypatch.setenv("CEM_MEMORY_LIMIT", "1M")
    path = tmp_path / "long.fasta"
    write_fasta(path, [("left", "A" * 3000), ("right", "C" * 3000)])
    with pytest.raises(
        ResourceLimitError,
        match=r"^the edit-graph family of file .*long.fasta, "
        r"records 'left' \(3000 letters\) and 'right'",
    ):
        PairwiseAlignment.from_config(file=str(path))


def test_simulated_alignment_is_the_true_path():
    rng = np.random.default_rng(9)
    a = random_sequence(rng, 50, "ACGT")
    b, moves = mutate(rng, a, "ACGT", 0.3)
    x = np.full(len(a) + len(b), END, dtype=np.int8)
    x[: moves.size] = moves
    top, bottom, _ = aligned_strings(x, a, b)
    assert top.replace("-", "") == a and bottom.replace("-", "") == b


# ------------------------------------------------------------------ significance
def test_karlin_altschul_parameters_equal_closed_forms_and_published_values():
    from cem.problems.alignment.significance import karlin_altschul, robinson_frequencies

    ka = karlin_altschul(dna_scoring(1, -1))  # lambda = ln 3, K = (3/4 - 1/4)^2 / (3/4)
    assert np.isclose(ka.lam, np.log(3), rtol=1e-12) and np.isclose(ka.K, 1 / 3, rtol=1e-9)
    blastn = karlin_altschul(dna_scoring(1, -3))  # NCBI's ungapped +1/-3: 1.374, 0.711
    assert round(blastn.lam, 3) == 1.374 and round(blastn.K, 3) == 0.711
    sc = blosum62()  # NCBI's ungapped BLOSUM62: lambda 0.3176, K 0.134, H 0.40
    ka = karlin_altschul(sc, robinson_frequencies(sc.alphabet))
    assert round(ka.lam, 4) == 0.3176 and round(ka.K, 3) == 0.134 and round(ka.H, 2) == 0.40
    with pytest.raises(ConfigError, match="need a negative expected pair score"):
        karlin_altschul(dna_scoring(1, 0))


def test_ungapped_local_scores_are_the_best_diagonal_segments():
    from cem.problems.alignment.significance import ungapped_local_scores

    sc = dna_scoring(1, -2)
    rng = np.random.default_rng(8)
    A, B = rng.integers(0, 4, (50, 7)), rng.integers(0, 4, (50, 9))
    got = ungapped_local_scores(A, B, sc.matrix)
    want = np.zeros(50)
    for r in range(50):
        pair = sc.matrix[A[r][:, None], B[r][None, :]]
        for d in range(-6, 9):
            diag = np.diagonal(pair, offset=d)
            for s in range(diag.size):
                want[r] = max(want[r], np.cumsum(diag[s:]).max())
    assert np.array_equal(got, want)


def test_local_score_tail_scores_and_nominal_family():
    from cem.problems.alignment.significance import LocalScoreTail

    pr = LocalScoreTail(30, 40, 6.0)
    fam = pr.nominal_family()
    X = fam.sample(200, np.random.default_rng(0))
    assert X.shape == (200, 70) and np.allclose(fam.log_pdf(X), 70 * np.log(1 / 20))
    assert np.all(pr.score(X) >= 0)
    gapped = LocalScoreTail(30, 40, 6.0, gapped=True)
    assert np.all(gapped.score(X) >= pr.score(X))  # gaps can only help
    refit = fam.fit(X)
    assert np.allclose(refit.probs.sum(axis=1), 1) and refit.probs.shape == (2, 20)


def test_convergence_figure_shows_the_visit_probabilities(tmp_path):
    from cem import CrossEntropyOptimizer
    from cem.plotting import save_figure
    from cem.problems.alignment.plots import full_grid, plot_path_convergence

    pr = PairwiseAlignment("ACGTTGCAACGT", "ACGTGCAACCGT", dna_scoring(gap_extend=2),
                           band=3, polish_radius=0)  # fmt: skip
    families = []
    opt = CrossEntropyOptimizer(pr, callback=lambda o: families.append(o.family), rng=0,
                                n_samples=100, max_iter=4)  # fmt: skip
    res = opt.run()
    grid = full_grid(families[-1])
    assert grid.shape == (13, 13) and grid[0, 0] == 1 and np.isclose(grid[-1, -1], 1)
    h = res.history
    fig = plot_path_convergence(pr, families, [1, len(families)], [r.gamma for r in h],
                                [r.best for r in h])  # fmt: skip
    assert len(fig.axes) == 4  # two maps, their colour bar, the scores
    assert save_figure(fig, tmp_path / "f.png")[0].stat().st_size > 0


def _all_sequences(K: int, length: int) -> np.ndarray:
    return np.array(list(np.ndindex(*(K,) * length)), dtype=np.int64)


def test_planted_segment_density_sums_to_one_and_samples_follow_it():
    from cem.problems.alignment.significance import PlantedSegment

    p = np.array([0.5, 0.3, 0.2])
    S = np.where(np.eye(3, dtype=bool), 1.0, -1.0)
    fam = PlantedSegment.tilted(p, S, 1.0, 2, 3, 2)
    X = _all_sequences(3, 5)
    prob = np.exp(fam.log_pdf(X))
    assert np.isclose(prob.sum(), 1.0, rtol=1e-12)
    N = 40000
    Y = fam.sample(N, np.random.default_rng(0))
    code = Y @ (3 ** np.arange(4, -1, -1))
    freq = np.bincount(code, minlength=X.shape[0]) / N
    se = np.sqrt(prob * (1 - prob) / N)
    assert np.all(np.abs(freq - prob) <= 5 * se + 1e-12)


def test_planted_segment_estimate_is_unbiased_against_enumeration():
    from cem.problems.alignment.significance import LocalScoreTail, ungapped_local_scores

    pr = LocalScoreTail(3, 3, 3.0, scheme=Scoring("ABC", np.where(np.eye(3) > 0, 1.0, -1.0),
                                                  name="3 letters"))  # fmt: skip
    X = _all_sequences(3, 6)
    exact = float(np.mean(ungapped_local_scores(X[:, :3], X[:, 3:], pr.scheme.matrix) >= 3))
    res = pr.estimate(rng=0, n_samples=500, n_final=20_000)
    assert abs(res.estimate - exact) <= 4 * res.std_error


def test_letter_families_report_entropy_mode_and_degeneracy():
    from cem.problems.alignment.significance import LocalScoreTail, SequenceLetters

    pr = LocalScoreTail.from_config(m=20, n=30, gamma=5)
    nominal = pr.nominal_family()
    assert np.isclose(nominal.entropy(), 50 * np.log(20)) and not nominal.is_degenerate()
    point = SequenceLetters(np.eye(20)[[3, 5]], 20, 30)
    assert point.is_degenerate() and np.array_equal(point.mode(), [3] * 20 + [5] * 30)
    planted = pr.importance_family()
    assert planted.length == 6 and planted.mode().shape == (50,)  # ceil(5 * ln 19 / 2.65)
    assert 0 < planted.entropy() and not planted.is_degenerate()
    assert planted.with_params(q=planted.q) == planted


def test_local_score_tail_config_keys_and_errors():
    from cem.problems.alignment.significance import LocalScoreTail

    pr = LocalScoreTail.from_config(m=40, n=40, gamma=30, matrix="blosum62", freqs="robinson")
    assert np.isclose(pr.karlin_altschul().lam, 0.3176, atol=1e-4)
    assert "BLOSUM62" in pr.describe() and "ungapped" in pr.describe()
    with pytest.raises(ConfigError, match="freqs must be 'uniform' or 'robinson'"):
        LocalScoreTail.from_config(freqs="skewed")
    with pytest.raises(ConfigError, match="gapped must be true or false"):
        LocalScoreTail(gapped="yes")
    with pytest.raises(ConfigError, match="gamma must be a number"):
        LocalScoreTail(gamma="high")
