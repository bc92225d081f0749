"""Board categories as a role signal: the shipped mapping table, its lookup rules, and what the classifier stores."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from models import PostingText
from models.board_categories import BOARD_CATEGORIES_FILE, BoardCategoryMap, load_board_map
from models.taxonomy import load_taxonomy


def test_every_mapped_code_is_in_the_taxonomy() -> None:
    data = yaml.safe_load(BOARD_CATEGORIES_FILE.read_text(encoding="utf-8"))
    codes = set(load_taxonomy().codes)
    assert data["version"] and {"zhaopin", "lagou", "boss", "51job", "adzuna"} <= set(data["boards"])
    for board, spec in data["boards"].items():
        for key, value in (spec.get("levels") or {}).items():
            vals = [] if value is None else [value] if isinstance(value, str) else value
            assert set(vals) <= codes, (board, key)


@pytest.mark.parametrize(("category", "source", "codes"), [
    ("互联网/通信及硬件 > 运维/测试 > 软件测试", "zhaopin", ("software_qa",)),
    ("生产/制造 > 普工/操作工", "zhaopin", ("manufacturing",)),  # a level that holds a slash itself
    ("医疗/护理 > 医生 > 儿科医生", "zhaopin", ("healthcare",)),  # leaf suffix: ...医生
    ("教育/培训 > 教师 > 物理教师", "zhaopin", ("education",)),
    ("开发|测试|运维类/后端开发/Java", "lagou", ("software_dev",)),
    # an unlisted thirdType takes its broad secondType, which only narrows
    ("开发|测试|运维类/后端开发/Erlang", "lagou", ("software_dev", "data", "ai_ml")),
    ("Teaching Jobs", "adzuna", ("education",)),
    ("Logistics & Warehouse Jobs", "adzuna", ("supply_chain_repetitive", "supply_chain_mgmt")),  # narrows only
    ("项目经理/主管", None, ("product_project", "engineering_construction")),  # no source: every table tried
])
def test_lookup(category: str, source: str | None, codes: tuple[str, ...]) -> None:
    d = load_board_map().lookup(category, source)
    assert d is not None and d.codes == codes
    # Lagou files by department family: its categories only narrow, even when they name one code
    assert d.decides == (len(codes) == 1 and source != "lagou")


@pytest.mark.parametrize(("category", "source"), [
    ("IT Jobs", "adzuna"),  # ambiguous: the text decides
    ("互联网/通信及硬件 > 运维/测试 > 网络运维", "zhaopin"),  # a broad parent never decides an unlisted leaf
    ("完全未知的类别", "zhaopin"),
    ("", None),
    (None, None),
])
def test_unmapped_or_ambiguous_falls_back(category: str | None, source: str | None) -> None:
    assert load_board_map().lookup(category, source) is None


def test_bad_code_in_table_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "map.yaml"
    f.write_text("version: 1\nboards:\n  x:\n    levels:\n      厨师: cooking\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cooking"):
        BoardCategoryMap(f)


def test_board_decides_and_text_is_kept(classifier) -> None:  # type: ignore[no-untyped-def]
    title = "Java开发工程师"
    text_only = classifier.classify(PostingText(1, title))
    by_board = classifier.classify(PostingText(2, title, board_category="医疗/护理 > 护士/护理 > 护士", source="zhaopin"))
    assert text_only.role_source == "text" and text_only.role_category == text_only.role_category_text
    assert by_board.role_source == "board" and by_board.role_category == "healthcare"
    assert by_board.role_category_text == text_only.role_category_text == "software_dev"
    unmapped = classifier.classify(PostingText(3, title, board_category="IT Jobs", source="adzuna"))
    assert unmapped.role_source == "text" and unmapped.role_category == "software_dev"


def test_board_narrows_text_choice(classifier) -> None:  # type: ignore[no-untyped-def]
    lab = classifier.classify(PostingText(1, "Warehouse Manager", board_category="Logistics & Warehouse Jobs",
                                          source="adzuna"))
    assert lab.role_source == "text" and lab.role_category in ("supply_chain_repetitive", "supply_chain_mgmt")
