"""Every notebook is a full lesson: what you will learn (and what to have done before), at
least one block diagram drawn from the course's builders, a summary with this run's numbers
beside the benchmarked cpu ones, five or more exercises at three levels, references with
links to the papers, no pointer to a lesson that does not exist, and about 35 cells at most."""

import json
import re

import pytest

from course_utils import exercises
from course_utils.maintainer import colab

NOTEBOOKS = colab.notebook_paths()
MAX_CELLS = 36
LEVELS = ("Predict", "Modify", "Go further")
PAPER_LINK = re.compile(r"\]\(https?://(arxiv\.org|doi\.org|[\w.-]*ieee\.org|proceedings\."
                        r"neurips\.cc|papers\.nips\.cc|openaccess\.thecvf\.com|"
                        r"proceedings\.mlr\.press|jmlr\.org|openreview\.net|yann\.lecun\.com|"
                        r"www\.cs\.toronto\.edu)[^)]*\)")
VAGUE = re.compile(r"the seeds?\b|course's sources|the sources of the course", re.I)


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _text(cell):
    return "".join(cell["source"])


def _sections(path):
    """{heading (level 2, without #): [cells up to the next level-2 heading]}."""
    sections, current = {}, None
    for cell in _cells(path):
        if cell["cell_type"] == "markdown":
            for line in _text(cell).splitlines():
                if line.startswith("## "):
                    current = line[3:].strip()
                    sections[current] = []
        if current is not None:
            sections[current].append(cell)
    return sections


def _section(path, name):
    found = [cells for heading, cells in _sections(path).items()
             if heading.lower().startswith(name.lower())]
    assert found, (f"{path.name} has no '## {name}' section. Every lesson has: What you will "
                   "learn, Summary, Exercises, References (see tests/test_lessons.py).")
    return found[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_what_you_will_learn_and_what_to_have_done(path):
    cells = _section(path, "What you will learn")
    text = "\n".join(_text(c) for c in cells if c["cell_type"] == "markdown")
    goals = [line for line in text.splitlines() if re.match(r"\s*[-*\d]", line)]
    assert 2 <= len(goals) <= 6, f"{path.name}: 'What you will learn' lists {len(goals)} goals, " \
                                 "expected two to four bullet lines"
    assert re.search(r"before|prerequisite|you need", text, re.I), (
        f"{path.name}: 'What you will learn' does not say what to have done before")
    first = next(i for i, c in enumerate(_cells(path)) if c in cells)
    assert first <= 3, f"{path.name}: 'What you will learn' comes at cell {first}, not at the top"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_draws_at_least_one_block_diagram_from_the_course_builders(path):
    drawing = [c for c in _cells(path) if c["cell_type"] == "code"
               and re.search(r"\bdiagrams\.draw\(|\bdraw\(", _text(c))]
    assert drawing, f"{path.name}: no cell draws a diagram with course_utils.diagrams.draw"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_summary_sets_this_run_beside_the_benchmark(path):
    cells = _section(path, "Summary")
    reports = any(re.search(r"\breport\(", _text(c)) for c in _cells(path)
                  if c["cell_type"] == "code")
    if reports:  # a lesson that measures results shows them beside the benchmarked ones
        assert any(re.search(r"\bsummary\(", _text(c)) for c in cells if c["cell_type"] == "code"), (
            f"{path.name}: its Summary has no code cell calling course_utils.report.summary")
    typed = [m.group(0) for c in cells if c["cell_type"] == "markdown"
             for m in re.finditer(r"\b\d+(\.\d+)?\s?%", _text(c))]
    assert not typed, f"{path.name}: the Summary types measured numbers into prose: {typed}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_five_exercises_at_three_levels(path):
    text = "\n".join(_text(c) for c in _section(path, "Exercises") if c["cell_type"] == "markdown")
    items = re.findall(r"^\s*\d+\.\s", text, re.M)
    assert len(items) >= 5, f"{path.name}: {len(items)} numbered exercises, expected five or more"
    missing = [level for level in LEVELS if level.lower() not in text.lower()]
    assert not missing, f"{path.name}: no exercise at the level(s) {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_self_checking_exercises_exist_and_accept_their_answer(path, capsys):
    keys = {m.group(1) for c in _cells(path) if c["cell_type"] == "code"
            for m in re.finditer(r"check\(\s*[\"'](\d\d\.[\w.-]+)[\"']", _text(c))}
    for key in keys:
        exercises._load(key)  # the key exists
        assert exercises.check(key, exercises._expected(key)), \
            f"{key}: its own answer is not right"
    capsys.readouterr()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_references_link_to_the_papers(path):
    text = "\n".join(_text(c) for c in _section(path, "References"))
    if path.name.startswith("00"):
        assert "http" in text, f"{path.name}: References has no links"
    else:
        assert PAPER_LINK.search(text), f"{path.name}: References has no link to a paper " \
                                        "(arXiv, DOI or the publisher's page)"
    vague = sorted({m.group(0) for c in _cells(path) for m in VAGUE.finditer(_text(c))})
    assert not vague, f"{path.name}: says {vague}; name the paper and link it instead"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_points_only_to_lessons_that_exist(path):
    existing = {p.name[:2] for p in NOTEBOOKS}
    bad = []
    for cell in _cells(path):
        for m in re.finditer(r"\b(?:[Nn]otebooks?|[Ll]essons?)\s+((?:\d\d(?:[-–,]\s?|\s(?:and|or)\s)?)+)",
                             _text(cell)):
            bad += [n for n in re.findall(r"\d\d", m.group(1)) if n not in existing]
    assert not bad, f"{path.name}: points to lesson(s) {sorted(set(bad))}, which do not exist yet"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_is_at_most_about_35_cells(path):
    n = len(_cells(path))
    assert n <= MAX_CELLS, f"{path.name} has {n} cells; split it into two lessons or merge cells"


def test_exercises_check_says_right_or_not_yet_without_the_answer(capsys):
    exercises.answer("99.probe", rtol=0.01, hint="count the biases too")(lambda: 61706)
    assert exercises.check("99.probe", 61706.0) is True
    assert exercises.check("99.probe", 60000) is False
    right, not_yet = capsys.readouterr().out.splitlines()
    assert right.startswith("[right]")
    assert not_yet.startswith("[not yet]") and "too low" in not_yet and "biases" in not_yet
    assert "61706" not in not_yet, "check() must never print the expected answer"
    with pytest.raises(KeyError, match="No exercise called"):
        exercises.check("99.nothing", 1)


def test_exercises_check_of_no_answer_yet_computes_nothing(capsys):
    computed = []
    exercises.answer("99.unanswered")(lambda: computed.append(1) or 7)
    assert exercises.check("99.unanswered", None) is False
    assert capsys.readouterr().out.startswith("[not yet] 99.unanswered: no answer yet")
    assert not computed, "an exercise left at None must not compute its answer"
    assert exercises.check("99.unanswered", 7) and exercises.check("99.unanswered", 7)
    assert computed == [1], "an answer is computed once, then remembered"
