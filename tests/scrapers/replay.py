"""Local replays of every catalogue source: recorded real responses (from ../shared) and fixtures written
from the boards' published API shapes, served by a handler that answers the paths the shipped configs ask."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.scrapers.conftest import FIXTURES

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"

Route = tuple[int, str, bytes]
Handler = Callable[[str, bytes, dict[str, str]], "Route | None"]


def recorded_dir() -> Path | None:
    """``shared/data/real/recorded`` beside the repository (or beside one of its parent folders)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "real" / "recorded"
        if candidate.is_dir():
            return candidate
    return None


def _fixture(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


def words_of(html_text: str, n: int = 3) -> str:
    """The first ``n`` words (Chinese: ten characters) of the first long text run of an HTML string: what the stored (text)
    description must contain, taken from the recorded response rather than written into the tests."""
    for run in re.findall(r"(?:^|>)([^<>]{12,})(?:<|$)", html_text):
        words = unescape(run).split()
        if len(words) >= n:
            return " ".join(words[:n])
        if re.match(r"[\u4e00-\u9fff]{4}", run.strip()):  # Chinese: no spaces between words
            return run.strip()[:10]
    raise AssertionError("no text run in the recorded description")


def _json(obj: object) -> Route:
    return 200, JSON, json.dumps(obj, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Expect:
    """What the stored posting ``external_id`` must hold after a crawl of the source."""

    external_id: str
    title: str
    company: str | None
    city: str | None
    posted_at: date | None
    description_has: tuple[str, ...]
    board_category: str | None
    experience_text: str | None
    country: str | None


@dataclass(frozen=True)
class Replay:
    source: str
    handler: Handler
    count: int  # postings the replay holds
    expect: Expect
    auth: dict[str, object] = field(default_factory=dict)  # auth file content written for the test
    recorded: bool = False  # replays real recorded responses (else fixtures from API docs)


def _path(p: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(p)
    return parts.path, parse_qs(parts.query)


# --- recorded real responses ---------------------------------------------------------------------

def lagou(rec: Path) -> Replay:
    rows = json.loads((rec / "lagou" / "position_results.json").read_text(encoding="utf-8"))

    def handler(p: str, body: bytes, headers: dict[str, str]) -> Route | None:
        path, _ = _path(p)
        if path == "/jobs/positionAjax.json":
            pn = int(parse_qs(body.decode())["pn"][0])
            page = rows[(pn - 1) * 15: pn * 15]
            return _json({"success": True, "code": 0, "msg": None, "content": {
                "pageNo": pn, "pageSize": 15, "positionResult": {"totalCount": len(rows), "resultSize": len(page),
                                                                 "result": page}}})
        if path.startswith("/jobs/") and path.endswith(".html"):
            return 200, HTML, _fixture("lagou/detail.html")
        return None

    r = rows[0]
    return Replay("lagou", handler, len(rows), Expect(
        str(r["positionId"]), r["positionName"], r["companyFullName"], r["city"],
        date.fromisoformat(r["createTime"][:10]), ("3年以上Python开发经验",),  # from the detail page fixture
        "/".join(r[k] for k in ("firstType", "secondType", "thirdType")), r["workYear"], "CN"),
        auth={"cookies": {"user_trace_token": "test-token", "JSESSIONID": "ABC"}}, recorded=True)


def zhaopin(rec: Path) -> Replay:
    states = [json.loads(f.read_text(encoding="utf-8")) for f in sorted((rec / "zhaopin").glob("detail_state_*.json"))]
    positions = [s["jobInfo"]["jobDetail"]["detailedPosition"] for s in states]
    # The search API's list entries, in the API's shape, for the recorded detail pages.
    results = [{"number": p["positionNumber"], "jobName": p["positionName"], "company": {"name": p["companyName"]},
                "city": {"display": p["workCity"]}, "workingExp": {"name": p["workingExp"]},
                "eduLevel": {"name": p["education"]}, "salary": p["salary60"], "emplType": p["emplType"],
                "createDate": p["publishTime"], "updateDate": p["publishTime"],
                "jobType": {"items": [{"name": p["jobTypeLevelName"]}]}} for p in positions]
    by_number = {p["positionNumber"]: s for p, s in zip(positions, states, strict=True)}

    def handler(p: str, body: bytes, headers: dict[str, str]) -> Route | None:
        path, q = _path(p)
        if path == "/c/i/sou":
            start = int(q["start"][0])
            return _json({"code": 200, "data": {"numFound": len(results), "results": results[start:start + 90]}})
        number = path.strip("/").removesuffix(".htm")
        if number in by_number:
            state = json.dumps(by_number[number], ensure_ascii=False)
            page = f"<html><body><div id=root></div><script>window.__INITIAL_STATE__={state}</script></body></html>"
            return 200, HTML, page.encode("utf-8")
        return None

    first = positions[0]
    return Replay("zhaopin", handler, len(results), Expect(
        first["positionNumber"], first["positionName"], first["companyName"], first["workCity"],
        date.fromisoformat(first["publishTime"][:10]), (words_of(first["jobDesc"]),), first["jobTypeLevelName"],
        first["workingExp"], "CN"), recorded=True)


def remotive(rec: Path) -> Replay:
    raw = (rec / "remotive" / "remote-jobs.json").read_bytes()  # UTF-8 with a BOM, served as recorded
    jobs = json.loads(raw.decode("utf-8-sig"))["jobs"]

    def handler(p: str, body: bytes, headers: dict[str, str]) -> Route | None:
        return (200, JSON, raw) if _path(p)[0] == "/api/remote-jobs" else None

    j = jobs[0]  # its candidate_required_location is one country (USA): no city, country US
    return Replay("remotive", handler, len({j["id"] for j in jobs}), Expect(
        str(j["id"]), j["title"], j["company_name"], None, date.fromisoformat(j["publication_date"][:10]),
        (words_of(j["description"]),), j["category"], None, "US"), recorded=True)


def seek(rec: Path) -> Replay:
    from scrapers.parsers.json_api import embedded_json

    page = (rec / "seek" / "job.html").read_bytes()
    job = embedded_json(page.decode("utf-8"), "job.html", "SEEK_REDUX_DATA")["jobdetails"]["result"]["job"]
    # The search API's list entry (its shape) for the recorded job page.
    listing = {"data": [{"id": int(job["id"]), "title": job["title"], "advertiser": {"description": "?"},
                         "locations": [{"label": job["location"]["label"]}], "listingDate": "2000-01-01T00:00:00Z",
                         "teaser": "teaser"}], "totalCount": 1}

    def handler(p: str, body: bytes, headers: dict[str, str]) -> Route | None:
        path, _ = _path(p)
        if path == "/api/jobsearch/v5/search":
            return _json(listing)
        if path == f"/job/{job['id']}":
            return 200, HTML, page
        return None

    # company, date and description come from the job page (the list's placeholders are overwritten)
    return Replay("seek", handler, 1, Expect(
        job["id"], job["title"], job["advertiser"]["name"], job["location"]["label"],
        date.fromisoformat(job["listedAt"]["dateTimeUtc"][:10]), (words_of(job["content"]),),
        "/".join(c["label"] for c in job["classifications"]), None, "AU"), recorded=True)


# --- fixtures written from the boards' API documentation -----------------------------------------

Dynamic = Callable[[dict[str, list[str]], dict[str, str]], Route]  # (query, request headers) -> route


def _static(source: str, routes: dict[str, str | Dynamic], count: int,
            expect: Expect, auth: dict[str, object] | None = None) -> Replay:
    def handler(p: str, body: bytes, headers: dict[str, str]) -> Route | None:
        path, q = _path(p)
        target = routes.get(path)
        if target is None:
            return None
        if callable(target):
            return target(q, headers)
        ctype = XML if target.endswith(".xml") else HTML if target.endswith(".html") else JSON
        return 200, ctype, _fixture(target)

    return Replay(source, handler, count, expect, auth or {})


def job51() -> Replay:
    return _static("job51", {"/api/job/search-pc": "job51/search.json"}, 2, Expect(
        "151234567", "数据分析专员", "上海星河零售有限公司", "上海", date(2026, 3, 10), ("BI看板",), None, "1-3年", "CN"),
        auth={"cookies": "acw_tc=abc; guid=123"})


def boss() -> Replay:
    def detail(q: dict[str, list[str]], headers: dict[str, str]) -> Route:
        return 200, JSON, _fixture(f"boss/detail-{q['securityId'][0]}.json")

    return _static("boss", {"/wapi/zpgeek/search/joblist.json": "boss/joblist.json",
                            "/wapi/zpgeek/job/detail.json": detail}, 2, Expect(
        "a1b2c3d4e5f6g7h8", "Java高级开发工程师", "北京字节微光科技", "北京", None, ("5年以上Java开发经验",), "Java",
        "5-10年", "CN"), auth={"cookies": {"wt2": "x", "__zp_stoken__": "y"}})


def liepin() -> Replay:
    return _static("liepin", {"/api/com.liepin.searchfront4c.pc-search-job": "liepin/search.json",
                              "/job/61234567.shtml": "liepin/detail.html",
                              "/job/61234568.shtml": "liepin/detail.html"}, 2, Expect(
        "61234567", "供应链计划经理", "深圳远航电子有限公司", "深圳", date(2026, 3, 11), ("S&OP流程落地",), None,
        "5-10年", "CN"), auth={"headers": {"X-XSRF-TOKEN": "t"}, "cookies": {"XSRF-TOKEN": "t"}})


def greenhouse() -> Replay:
    return _static("greenhouse", {"/v1/boards/gitlab/jobs": "greenhouse/jobs.json"}, 2, Expect(
        "4012345006", "Machine Learning Engineer, Search", "Example HQ", "Berlin", date(2026, 3, 2),
        ("About the team",), "Engineering", None, "DE"))


def lever() -> Replay:
    return _static("lever", {"/v0/postings/leverdemo": "lever/postings.json"}, 2, Expect(
        "5ac21346-8e0c-4494-8e7a-3eb92ff77902", "Logistics Coordinator", "Lever Demo", "Austin", date(2026, 3, 9),
        ("Plan inbound freight",), "Operations/Supply Chain", None, "US"))


def ashby() -> Replay:
    return _static("ashby", {"/posting-api/job-board/ashby": "ashby/job-board.json"}, 2, Expect(
        "4f1c8a0e-4b7d-4a53-9d0e-1b2f3c4d5e6f", "Senior Data Engineer", "Ashby", "Berlin", date(2026, 3, 4),
        ("batch and streaming pipelines",), "Engineering/Data Platform", None, "DE"))


def smartrecruiters() -> Replay:
    return _static("smartrecruiters", {
        "/v1/companies/smartrecruiters/postings": "smartrecruiters/postings.json",
        "/v1/companies/smartrecruiters/postings/744000012345678": "smartrecruiters/744000012345678.json",
        "/v1/companies/smartrecruiters/postings/744000012345679": "smartrecruiters/744000012345679.json"}, 2, Expect(
        "744000012345678", "Data Engineer", "SmartRecruiters", "Kraków", date(2026, 3, 5),
        ("data warehouse", "3+ years of experience with Spark"), "Information Technology", "Mid-Senior Level", "PL"))


def workable() -> Replay:
    return _static("workable", {"/api/v1/widget/accounts/workable": "workable/account.json"}, 2, Expect(
        "A1B2C3D4E5", "Senior Backend Engineer", "Workable", "Athens", date(2026, 3, 1), ("Python and Go",),
        "Engineering", "Mid-Senior level", "GR"))


def recruitee() -> Replay:
    return _static("recruitee", {"/api/offers/": "recruitee/offers.json"}, 2, Expect(
        "1187654", "Data Analyst", "Recruitee", "Amsterdam", date(2026, 3, 2), ("Turn product data", "2+ years with SQL"),
        "data_science/Data", "mid_level", "NL"))


def personio() -> Replay:
    return _static("personio", {"/xml": "personio/positions.xml"}, 2, Expect(
        "1234567", "Senior Backend Engineer (Java)", "Personio SE & Co. KG", "Munich", date(2026, 2, 20),
        ("payroll engine", "5+ years of Java"), "it_software/software_and_web_development", "5-7, experienced", "DE"))


def remoteok() -> Replay:
    return _static("remoteok", {"/api": "remoteok/api.json"}, 2, Expect(
        "1098765", "Senior Data Engineer", "Acme Analytics", "Berlin", date(2026, 3, 12), ("ingestion platform",),
        "data/python/engineer", None, "DE"))


def arbeitnow() -> Replay:
    return _static("arbeitnow", {"/api/job-board-api": "arbeitnow/page-1.json"}, 2, Expect(
        "werkstudent-data-analytics-berlin-12345", "Werkstudent Data Analytics (m/w/d)", "Stadtwerk Digital GmbH",
        "Berlin", date(2026, 3, 12), ("BI-Team",), "IT/Data Science", None, "DE"))


def themuse() -> Replay:
    def page(q: dict[str, list[str]], headers: dict[str, str]) -> Route:
        return 200, JSON, _fixture(f"themuse/page-{q['page'][0]}.json")

    return _static("themuse", {"/api/public/jobs": page}, 2, Expect(
        "14567890", "Data Scientist", "Acme", "New York", date(2026, 3, 8), ("forecasting models",),
        "Data and Analytics", "Mid Level", "US"))


def careers_jobposting() -> Replay:
    def sitemap(q: dict[str, list[str]], headers: dict[str, str]) -> Route:
        base = f"http://{headers['host']}"
        urls = "".join(f"<url><loc>{base}/jobs/{n}.html</loc></url>" for n in ("g", "a"))
        return 200, XML, (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                          f"{urls}</urlset>").encode()

    return _static("careers_jobposting", {"/sitemap.xml": sitemap, "/jobs/g.html": "jobposting/graph.html",
                                          "/jobs/a.html": "jobposting/array.html"}, 2, Expect(
        "ACME-4471", "Senior Data Engineer", "Acme Analytics Ltd", "London", date(2026, 3, 12), ("pipelines",),
        None, "3+ years of experience", "GB"))


FIXTURE_REPLAYS: dict[str, Callable[[], Replay]] = {
    f.__name__: f for f in (job51, boss, liepin, greenhouse, lever, ashby, smartrecruiters, workable, recruitee,
                            personio, remoteok, arbeitnow, themuse, careers_jobposting)}
RECORDED_REPLAYS: dict[str, Callable[[Path], Replay]] = {
    f.__name__: f for f in (lagou, zhaopin, remotive, seek)}
