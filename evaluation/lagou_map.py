"""Lagou's own job categories mapped to taxonomy codes, and its experience field mapped to buckets.

A board category maps to one code only when everything Lagou files under it belongs to that code in our
taxonomy. Categories that Lagou used as families spanning several of our codes are AMBIGUOUS and are not
scored against the board (they are counted and reported separately):

- 技术/后端开发: Lagou's backend family holds Java/PHP/... (software_dev) but also Hadoop, 数据挖掘, 搜索算法,
  精准推荐 (data, ai_ml).
- 技术/DBA and 运维安全: Lagou files 数据仓库 and ETL under DBA (data) beside MySQL/Oracle DBAs (it_ops).
- 设计/用户研究: Lagou's 2017 用户研究 family held 数据分析师 beside 用户研究员 (data vs design_ux).
- 运营/运营, 运营/编辑/客服/运营: the operations family held 数据运营/数据分析 roles (data vs operations).
- 高端*职位, 管理岗, 企业软件, 软件开发 (generic), 用户研究/需求分析, 渠道/推广, 法务财务 and 其他/*: mixed families
  (heads stay in their function's code; 企业软件 mixes 实施 (it_ops), BI (data) and 需求分析 (product_project)).
"""

from __future__ import annotations

AMBIGUOUS = None

# secondType → code, whatever the firstType (Lagou reused second-level names across first levels).
SECOND_TYPE: dict[str, str | None] = {
    "数据开发": "data",
    "数据分析": "data",
    "产品经理": "product_project",
    "产品经理/产品设计师": "product_project",
    "产品设计/需求分析": "product_project",
    "高端产品职位": "product_project",
    "项目管理": "product_project",
    "游戏策划": "product_project",
    "测试": "software_qa",
    "运维": "it_ops",
    "安全": "it_ops",
    "前端开发": "software_dev",
    "移动开发": "software_dev",
    "前端开发/移动开发": "software_dev",
    "硬件开发": "hardware_eng",
    "视觉设计": "design_basic",
    "交互设计": "design_ux",
    "编辑": "content_media",
    "客服": "customer_service",
    "市场/营销": "marketing",
    "公关": "marketing",
    "销售": "sales_bd",
    "商务拓展/BD": "sales_bd",
    "供应链": "supply_chain_mgmt",
    "采购": "supply_chain_mgmt",
    "投资": "finance_accounting",
    "投融资": "finance_accounting",
    "天使投资/VC/PE": "finance_accounting",
    "金融类-天使投资/VC/PE": "finance_accounting",
    "风控": "finance_accounting",
    "并购": "finance_accounting",
    "审计税务": "finance_accounting",
    "财务": "finance_accounting",
    "人力资源": "hr_admin_legal",
    "行政": "hr_admin_legal",
    "法务": "hr_admin_legal",
    "教育|培训": "education",
    "服务业": "services_hospitality",
    # families that span several codes (see the module docstring)
    "后端开发": AMBIGUOUS,
    "DBA": AMBIGUOUS,
    "运维安全": AMBIGUOUS,
    "用户研究": AMBIGUOUS,
    "用户研究/需求分析": AMBIGUOUS,
    "运营": AMBIGUOUS,
    "高端技术职位": AMBIGUOUS,
    "高端市场职位": AMBIGUOUS,
    "高端运营职位": AMBIGUOUS,
    "高端金融职位": AMBIGUOUS,
    "高端职能职位": AMBIGUOUS,
    "管理岗": AMBIGUOUS,
    "企业软件": AMBIGUOUS,
    "软件开发": AMBIGUOUS,
    "渠道/推广": AMBIGUOUS,
    "法务财务": AMBIGUOUS,
    "房地产|建筑业": AMBIGUOUS,
    "文娱|传媒|艺术|体育": AMBIGUOUS,
}

# lagou_dev_with_descriptions: the category page a posting was listed on. All are backend-language pages;
# "Python" also lists data/AI jobs, so it is ambiguous.
CLASSIFY_NAME: dict[str, str | None] = {
    "Node.js": "software_dev",
    ".NET": "software_dev",
    "Ruby": "software_dev",
    "全栈工程师": "software_dev",
    "后端开发其它": "software_dev",
    "Python": AMBIGUOUS,
}

WORK_YEAR_BUCKET: dict[str, str] = {
    "不限": "none",
    "应届毕业生": "none",
    "1年以下": "lt1",
    "1-3年": "1_3",
    "3-5年": "3_5",
    "5-10年": "5_10",
    "10年以上": "10_plus",
}


def role_for(second_type: str | None) -> tuple[str | None, str]:
    """(code or None, status) for a Lagou secondType; status is exact, ambiguous or unmapped."""
    if not second_type:
        return None, "unmapped"
    if second_type not in SECOND_TYPE:
        return None, "unmapped"
    code = SECOND_TYPE[second_type]
    return code, "exact" if code else "ambiguous"
