"""Golden cases for the occupation families added to the bank in issue 19 (r19): each error class seen on the
development sets, written in the project's own words (never a board row) and decorated as boards do.

They run on the session's artifact with the fake embedder, so they hold on the character and word features of the
bank alone; the packaged e5 model only adds meaning on top.
"""

from __future__ import annotations

import pytest

FAMILY_CASES = [
    # ISCO 2356: trainers of IT, data and office skills teach (education), whatever subject their title names
    ("大数据开发讲师", "education"),
    ("Python编程讲师（周末班）", "education"),
    ("SQL Trainer", "education"),
    # ISCO 4132/4415: data entry and checking clerks are clerical (hr_admin_legal), not data analysis
    ("客户资料核对员", "hr_admin_legal"),
    ("数据审核员（夜班）", "hr_admin_legal"),
    ("Data Input Clerk - Part Time", "hr_admin_legal"),
    # security analysts (malware, threat) are IT operations; ERP and lab-system implementation consultants too
    ("APT威胁分析师", "it_ops"),
    ("Senior Malware Researcher", "it_ops"),
    ("NetSuite Functional Consultant", "it_ops"),
    # a data specialist attached to a function (purchasing, channels) is still data
    ("采购数据专员", "data"),
    ("渠道数据分析专员", "data"),
    ("Procurement Data Analyst - Contract", "data"),
    # reconciliation and settlement clerks are finance
    ("资金对账专员", "finance_accounting"),
    ("Reconciliations Assistant", "finance_accounting"),
    # investment promotion (招商) and partner/channel managers sell
    ("产业园招商专员", "sales_bd"),
    ("Channel Partnerships Manager", "sales_bd"),
    # materials and polymer laboratories of a plant are production (not clinical laboratories)
    ("高分子材料实验员", "manufacturing"),
    ("Polymer Lab Technician", "manufacturing"),
    # product growth is an operations function
    ("Product Growth Manager - B2C", "operations"),
    # everyday US and UK board vocabulary across care, trades, hospitality, logistics, teaching and law (ISCO 5131,
    # 9112, 9333, 7126/7127, 7411, 5312/2341, 5321, 3256, 3411): a restaurant "server" is not a computer
    ("Restaurant Server - Evenings", "services_hospitality"),
    ("Janitor (part-time)", "services_hospitality"),
    ("Material Handler 2nd Shift", "supply_chain_repetitive"),
    ("Package Handler - Early Morning", "supply_chain_repetitive"),
    ("HVAC Service Technician (Residential)", "engineering_construction"),
    ("Journeyman Electrician - Commercial", "engineering_construction"),
    ("Paraprofessional - Grade 3", "education"),
    ("Substitute Teacher K-12", "education"),
    ("CNA - Night Shift", "healthcare"),
    ("Medical Assistant - Family Practice", "healthcare"),
    ("Residential Conveyancer", "hr_admin_legal"),
]


@pytest.mark.parametrize(("title", "code"), FAMILY_CASES)
def test_occupation_families(classifier, title: str, code: str) -> None:  # type: ignore[no-untyped-def]
    from models import PostingText

    assert classifier.classify(PostingText("golden", title)).role_category == code
