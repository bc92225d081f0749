"""Cross-posting dedupe links reposts and cross-source copies of one job, never distinct jobs (both backends)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text

from db.dedupe import hamming, link_duplicates, simhash64
from db.repo import PostingIn, store_postings

JAVA = ("岗位职责：1、负责公司核心交易系统的后端开发与维护；2、参与系统架构设计与性能优化；3、编写技术文档。"
        "任职要求：1、本科及以上学历，3年以上Java开发经验；2、熟悉Spring Boot、MySQL、Redis；3、良好的沟通能力。")
JAVA_REFORMATTED = ("岗位职责\n1. 负责公司核心交易系统的后端开发与维护\n2. 参与系统架构设计与性能优化\n3. 编写技术文档\n"
                    "任职要求\n1. 本科及以上学历，3年以上Java开发经验\n2. 熟悉Spring Boot, MySQL, Redis\n3. 良好的沟通能力")
OTHER_JAVA = ("工作内容：负责支付清结算平台的服务端研发，保障高并发场景下的稳定性；推动代码评审与单元测试落地。"
              "要求：计算机相关专业，五年以上经验，精通JVM调优与分布式事务，有金融行业背景者优先。")
SALES = ("岗位职责：开拓华东区域企业客户，完成季度销售目标，维护重点客户关系。任职要求：两年以上B2B销售经验，"
         "抗压能力强，适应出差，有SaaS销售经验优先，提供有竞争力的底薪加提成。")


def post(source: str, ext: str, title: str, company: str, city: str, day: date, desc: str) -> PostingIn:
    return PostingIn(source=source, external_id=ext, title=title, company=company, city=city, posted_at=day,
                     description=desc, lang="zh")


def canon(engine: Engine) -> dict[str, str | None]:
    """external_id -> external_id of its canonical posting (None when canonical)."""
    with engine.connect() as c:
        rows = c.execute(text("SELECT p.external_id, q.external_id FROM postings p "
                              "LEFT JOIN postings q ON q.id = p.canonical_id")).all()
    return dict(rows)


def test_simhash_ignores_formatting_and_separates_different_texts() -> None:
    a, b = simhash64(JAVA), simhash64(JAVA_REFORMATTED)
    assert a is not None and b is not None
    assert hamming(a, b) <= 3
    assert hamming(a, simhash64(OTHER_JAVA)) > 12
    assert hamming(a, simhash64(SALES)) > 12
    assert simhash64("短文本") is None and simhash64(None) is None
    assert -(1 << 63) <= a < (1 << 63)  # fits a signed BIGINT


def test_links_cross_source_copies_and_reposts_but_not_distinct_jobs(engine: Engine) -> None:
    store_postings(engine, [
        post("board-a", "a1", "Java开发工程师", "阿里巴巴", "杭州", date(2026, 3, 1), JAVA),
        # same job on another board, title with a bracketed qualifier, 4 days later -> key rule
        post("board-b", "b1", "Java开发工程师（急招）", "阿里巴巴", "杭州", date(2026, 3, 5), JAVA_REFORMATTED),
        # same board reposts it under a new id 10 days later -> near-identical text
        post("board-a", "a2", "Java开发工程师", "阿里巴巴", "杭州", date(2026, 3, 11), JAVA),
        # company spelled differently on a third board, reformatted text -> near-identical text + same title
        post("board-c", "c1", "Java开发工程师", "阿里巴巴（中国）有限公司", "杭州", date(2026, 3, 8), JAVA_REFORMATTED),
        # distinct: same key but two months later
        post("board-b", "b2", "Java开发工程师", "阿里巴巴", "杭州", date(2026, 5, 20), OTHER_JAVA),
        # distinct: same company and title, other city
        post("board-b", "b3", "Java开发工程师", "阿里巴巴", "北京", date(2026, 3, 3), OTHER_JAVA),
        # distinct: a second opening on the same board, same title, different text
        post("board-a", "a3", "Java开发工程师", "阿里巴巴", "杭州", date(2026, 3, 6), OTHER_JAVA),
        # distinct: the same template text at an unrelated company and title
        post("board-b", "b4", "销售代表", "某某科技", "杭州", date(2026, 3, 2), JAVA),
        post("board-a", "a4", "销售代表", "某某科技", "上海", date(2026, 3, 2), SALES),
    ])
    report = link_duplicates(engine)
    links = canon(engine)
    assert links["b1"] == "a1" and links["a2"] == "a1" and links["c1"] == "a1"
    for ext in ("a1", "b2", "b3", "a3", "b4", "a4"):
        assert links[ext] is None, ext
    assert report.linked == 3 and report.linked_by_key == 1 and report.linked_by_text == 2
    rates = {r.source: r for r in report.rates}
    assert rates["board-a"].duplicates == 1 and rates["board-a"].postings == 4
    assert rates["board-c"].rate == pytest.approx(1.0)
    assert "linked" in report.summary()

    again = link_duplicates(engine)
    assert again.linked == 0 and canon(engine) == links


def test_incremental_runs_equal_one_full_run(engine: Engine) -> None:
    first = [post("board-a", "a1", "数据分析师", "字节跳动", "北京", date(2026, 2, 20), JAVA),
             post("board-b", "b1", "数据分析师", "字节跳动", "北京", date(2026, 2, 25), "")]
    night = [post("board-c", "c1", "数据分析师", "字节跳动", "北京", date(2026, 3, 2), JAVA_REFORMATTED),
             post("board-a", "a2", "数据分析师", "字节跳动", "北京", date(2026, 3, 3), JAVA),
             post("board-b", "b2", "数据分析师", "字节跳动", "北京", date(2026, 4, 30), SALES),
             # same key on another board, but a clearly different text: a second opening
             post("board-b", "a3", "数据分析师", "字节跳动", "北京", date(2026, 3, 4), OTHER_JAVA)]
    store_postings(engine, first)
    link_duplicates(engine, since_month="2026-02")
    store_postings(engine, night)
    nightly = link_duplicates(engine, since_month="2026-03")
    incremental = canon(engine)
    assert nightly.examined == 4  # only March onwards, still canonical
    with engine.begin() as c:
        c.execute(text("UPDATE postings SET canonical_id = NULL"))
    link_duplicates(engine)
    assert canon(engine) == incremental
    assert incremental == {"a1": None, "b1": "a1", "c1": "a1", "a2": "a1", "b2": None, "a3": None}


def test_bad_arguments(engine: Engine) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        link_duplicates(engine, since_month="2026/03")
    with pytest.raises(ValueError, match="max_hamming"):
        link_duplicates(engine, max_hamming=40)


def test_list_markers_do_not_move_the_hash() -> None:
    numbered = "岗位职责：\n1、负责需求调研与产品规划；\n2、协调研发推进上线。\n任职要求：\n1、4年以上团队管理经验，5年以上产品经验；"
    bulleted = "岗位职责\n- 负责需求调研与产品规划；\n- 协调研发推进上线。\n任职要求\n- 4年以上团队管理经验，5年以上产品经验；"
    a, b = simhash64(numbered), simhash64(bulleted)
    assert a is not None and b is not None and hamming(a, b) == 0
    # A decimal number is content, not a list marker.
    assert simhash64(numbered.replace("4年", "1.5年")) != a


def test_the_earliest_posting_is_canonical_whatever_the_crawl_order(engine: Engine) -> None:
    # Boards list newest first, so the repost is stored (lower id) before the original.
    store_postings(engine, [post("board-b", "new", "数据分析师", "字节跳动", "北京", date(2026, 3, 20), JAVA)])
    store_postings(engine, [post("board-a", "old", "数据分析师", "字节跳动", "北京", date(2026, 3, 2), JAVA)])
    link_duplicates(engine)
    assert canon(engine) == {"old": None, "new": "old"}
