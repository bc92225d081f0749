"""The taxonomy file implements the label contract: 25 codes, names, anchors, groups."""

from __future__ import annotations

from models.taxonomy import AI_LEVELS, EXPERIENCE_BUCKETS, TAXONOMY_VERSION, load_taxonomy

CONTRACT_CODES = (
    "software_dev", "software_qa", "it_ops", "ai_ml", "data", "hardware_eng", "product_project", "design_basic",
    "design_ux", "content_media", "operations", "marketing", "sales_bd", "customer_service",
    "supply_chain_repetitive", "supply_chain_mgmt", "manufacturing", "engineering_construction",
    "finance_accounting", "hr_admin_legal", "healthcare", "education", "services_hospitality", "management", "other",
)


def test_codes_are_exactly_the_contract() -> None:
    assert load_taxonomy().codes == CONTRACT_CODES


def test_every_category_is_bilingual_with_examples() -> None:
    for c in load_taxonomy().categories:
        assert c.zh and c.en and c.description
        assert c.examples_zh and c.examples_en, c.code
        assert c.isco or c.code == "other"


def test_groups() -> None:
    t = load_taxonomy()
    assert t.groups["new_economy"] == ("software_dev", "software_qa", "it_ops", "ai_ml", "data", "hardware_eng",
                                       "product_project", "design_basic", "design_ux", "content_media", "operations")
    assert t.groups["all"] == CONTRACT_CODES
    assert t.category("design_basic").zh == "基础设计"


def test_version_and_vocabularies() -> None:
    assert TAXONOMY_VERSION == load_taxonomy().version
    assert EXPERIENCE_BUCKETS == ("none", "lt1", "1_3", "3_5", "5_10", "10_plus", "unstated")
    assert AI_LEVELS == ("none", "incidental", "ai_tools", "ai_skills")
