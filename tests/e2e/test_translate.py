"""The Chinese edition: generated from the English notebooks, complete, current, graded alike."""

import copy

import nbformat
import pytest

from autograder import ASSIGNMENT, GRADED_FUNCTIONS
from autograder.course import db_url_from_config
from autograder.pipeline import run
from autograder.settings import Limits, Settings
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission
from tools import translate

from ..conftest import ROOT, TOTAL, score

ZH = f"{ASSIGNMENT}_zh"


def english_and_catalogue():
    english_path, catalogue_path, _ = translate.EDITIONS["zh"][0]
    return nbformat.read(english_path, as_version=4), translate.load_catalogue(catalogue_path)


def test_translations_are_complete_current_and_built():
    assert translate.check() == []


def test_a_changed_english_cell_is_named_as_stale():
    english, catalogue = english_and_catalogue()
    cell = next(c for c in english.cells if c.id == "compute_cost-intro")
    cell.source += "\nOne more sentence."
    found = translate.problems(english, catalogue, "zh.json")
    assert len(found) == 1
    assert "'compute_cost-intro' changed in English since it was translated" in found[0]
    assert "--accept compute_cost-intro" in found[0]


def test_missing_and_orphan_translations_are_named():
    english, catalogue = english_and_catalogue()
    english.cells.insert(1, nbformat.v4.new_markdown_cell("A new paragraph.", id="new-paragraph"))
    catalogue = copy.deepcopy(catalogue)
    catalogue["gone-cell"] = {"source_sha": "0", "text": "旧段落"}
    found = translate.problems(english, catalogue, "zh.json")
    assert "zh.json: markdown cell 'new-paragraph' has no translation" in found
    assert any("'gone-cell', which is no markdown cell" in p for p in found)


def test_editions_share_code_ids_and_grading_markup_and_differ_in_markdown():
    english = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    chinese = nbformat.read(ROOT / "source" / ZH / f"{ZH}.ipynb", as_version=4)
    assert [c.id for c in english.cells] == [c.id for c in chinese.cells]
    for en, zh in zip(english.cells, chinese.cells):
        assert en.metadata == zh.metadata
        if en.cell_type == "code":
            assert en.source == zh.source  # outputs: the Chinese edition's tests speak Chinese
        else:
            assert en.source != zh.source
    text = "".join(c.source for c in chinese.cells if c.cell_type == "markdown")
    for term in ("隐藏层", "激活函数", "正向传播", "反向传播", "代价", "梯度下降", "决策边界"):
        assert term in text
    assert chinese.metadata == english.metadata


def test_chinese_release_is_generated_and_current():
    from tools import notebooks

    assert notebooks.release_differences(ZH) == []


def test_same_code_gets_the_same_scores_in_either_edition(tmp_path):
    course = new_course(tmp_path / "course")
    _, answers = course_notebooks()
    buggy = dict(answers, forward_propagation=answers["forward_propagation"].replace("np.tanh(Z1)", "Z1"))
    for edition in (ASSIGNMENT, ZH):
        release = nbformat.read(ROOT / "release" / edition / f"{edition}.ipynb", as_version=4)
        write_submission(fill_answers(release, answers), course, "perfect", edition)
        write_submission(fill_answers(release, buggy), course, "buggy", edition)
    scores = {}
    for edition in (ASSIGNMENT, ZH):
        settings = Settings(
            course_dir=course,
            assignment=edition,
            db_url=db_url_from_config(course),
            limits=Limits(cell_timeout=10, submission_timeout=60),
            feedback=False,
        )
        summary = run(settings)
        scores[edition] = {r.student: [f.score for f in r.functions] for r in summary.results}
    assert scores[ASSIGNMENT] == scores[ZH]
    assert sum(scores[ZH]["perfect"]) == TOTAL and sum(scores[ZH]["buggy"]) == score("forward_propagation")
    assert len(scores[ZH]["perfect"]) == len(GRADED_FUNCTIONS)


@pytest.mark.parametrize(
    "name",
    [
        "planar_utils.py",
        "testCases.py",
        "public_tests.py",
        "test_utils.py",
        "test_text.py",
        "test_failures.py",
        "test_mistakes.py",
        "test_fingerprints.json",
        "course.toml",
        "course_spec.py",
    ],
)
def test_chinese_source_links_the_same_helpers(name):
    assert (ROOT / "source" / ZH / name).resolve() == (ROOT / name).resolve()


def test_each_edition_ships_the_messages_the_catalogues_give():
    from tools import messages

    assert messages.check() == []


def test_the_chinese_notebook_prints_its_tests_in_chinese():
    chinese = nbformat.read(ROOT / "source" / ZH / f"{ZH}.ipynb", as_version=4)
    cells = {c.id: c for c in chinese.cells}
    text = "".join(o.get("text", "") for o in cells["test_compute_cost"].outputs)
    assert "你的" in text and "期望" in text and "compute_cost 的全部测试都通过了。" in text
    assert (ROOT / "source" / ZH / "course_language").read_text().strip() == "zh"


def test_chinese_sentences_take_full_width_punctuation():
    """In the catalogues and in every Chinese message of the tests and the grader; code and math keep ASCII."""
    import test_utils
    from autograder.grading import wording

    for _, catalogue_path, _ in translate.EDITIONS["zh"]:
        for cell_id, entry in translate.load_catalogue(catalogue_path).items():
            assert translate.fullwidth_punctuation(entry["text"]) == entry["text"], cell_id
    for table in (test_utils.MESSAGES, test_utils.MISTAKES):
        for key, texts in table.items():
            assert translate.fullwidth_punctuation(texts["zh"]) == texts["zh"], key
    for key, chinese in wording.TEXTS["zh"].items():
        assert translate.fullwidth_punctuation(chinese) == chinese, key
    assert (
        translate.fullwidth_punctuation("代价 (6):见 `np.sum(x, axis=1)`, $f(x, y)$")
        == "代价（6）：见 `np.sum(x, axis=1)`，$f(x, y)$"
    )
