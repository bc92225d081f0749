"""The board over real HTTP: robots, sitemaps, listing and API pagination, detail pages, malformed pages, faults."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.robotparser import RobotFileParser

import pytest

from demoboard.generator import DemoDataset, DemoPosting
from demoboard.server import DemoBoard, FaultConfig, _Handler, job_posting_jsonld, serve_benchmark

JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def board(small_dataset: DemoDataset) -> Iterator[DemoBoard]:
    with DemoBoard(small_dataset, sitemap_size=300) as b:
        yield b


def find_job_posting(doc: object) -> dict | None:
    """The JobPosting inside any of the shapes real sites use (object, array, @graph)."""
    if isinstance(doc, list):
        for x in doc:
            found = find_job_posting(x)
            if found:
                return found
    elif isinstance(doc, dict):
        if doc.get("@type") == "JobPosting":
            return doc
        if "@graph" in doc:
            return find_job_posting(doc["@graph"])
    return None


def test_robots_disallows_private_and_names_the_sitemap(board: DemoBoard) -> None:
    status, headers, body = fetch(board.url + "/robots.txt")
    text = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "User-agent: *" in text and "Disallow: /private/" in text
    assert f"Sitemap: {board.url}/sitemap.xml" in text
    rp = RobotFileParser()
    rp.parse(text.splitlines())
    assert not rp.can_fetch("labourwatch", board.url + "/private/admin")
    assert rp.can_fetch("labourwatch", board.url + "/jobs?page=2")
    # The private area exists and is linked from every page, so only robots.txt keeps a crawler out.
    assert fetch(board.url + "/private/admin")[0] == 200
    assert b'href="/private/admin"' in fetch(board.url + "/jobs")[2]


def test_every_html_posting_is_in_the_sitemaps_with_lastmod(board: DemoBoard, small_dataset: DemoDataset) -> None:
    index = fetch(board.url + "/sitemap.xml")[2].decode()
    children = re.findall(r"<sitemap><loc>([^<]+)</loc>", index)
    html_posts = {p.external_id: p for p in small_dataset.postings if p.style == "html"}
    assert len(children) == -(-len(html_posts) // 300) > 1
    seen: dict[str, str] = {}
    for child in children:
        xml = fetch(child)[2].decode()
        entries = re.findall(r"<loc>[^<]*/jobs/([^<]+)\.html</loc><lastmod>([^<]+)</lastmod>", xml)
        assert 0 < len(entries) <= 300
        seen.update(entries)
    assert set(seen) == set(html_posts)
    assert all(seen[i] == p.posted_at.isoformat() for i, p in html_posts.items())


def test_listing_pages_reach_every_html_posting_newest_first(board: DemoBoard, small_dataset: DemoDataset) -> None:
    ids: list[str] = []
    path, pages = "/jobs?page=1", 0
    while path:
        body = fetch(board.url + path)[2].decode()
        found = re.findall(r'<a class="job-link" href="/jobs/([^"]+)\.html">', body)
        assert 0 < len(found) <= 50
        ids += found
        nxt = re.search(r'<a rel="next" href="([^"]+)">', body)
        path, pages = (nxt.group(1) if nxt else ""), pages + 1
    html_posts = [p for p in small_dataset.postings if p.style == "html"]
    assert pages == -(-len(html_posts) // 50)
    assert sorted(ids) == sorted(p.external_id for p in html_posts)
    dates = [small_dataset.find("html", i).posted_at for i in ids]
    assert dates == sorted(dates, reverse=True)
    assert fetch(board.url + f"/jobs?page={pages + 1}")[0] == 404
    assert fetch(board.url + "/jobs?page=abc")[0] == 400


def test_detail_pages_carry_schema_org_job_postings(board: DemoBoard, small_dataset: DemoDataset) -> None:
    shapes = set()
    for p in (q for q in small_dataset.postings if q.style == "html"):
        status, headers, body = fetch(board.url + p.path)
        assert status == 200 and "charset=utf-8" in headers["Content-Type"]
        page = body.decode()
        raw = JSONLD.search(page).group(1).replace("<\\/", "</")
        if p.malformed:
            try:
                jp = find_job_posting(json.loads(raw))
            except json.JSONDecodeError:
                jp = None
            assert jp is None or "title" not in jp, p.external_id
            assert '<h1 class="job-title"></h1>' in page
            continue
        doc = json.loads(raw)
        shapes.add(type(doc).__name__ + ("@graph" if isinstance(doc, dict) and "@graph" in doc else ""))
        jp = find_job_posting(doc)
        assert jp["title"] == p.title and jp["identifier"]["value"] == p.external_id
        assert jp["datePosted"][:10] == p.posted_at.isoformat()
        assert jp["hiringOrganization"]["name"] == p.company
        assert jp["jobLocation"]["address"]["addressLocality"] == p.city
        assert re.search(r"<(h3|p)>", jp["description"])
        if p.salary_min is not None:
            assert jp["baseSalary"]["value"]["minValue"] == p.salary_min
        exp = jp.get("experienceRequirements")
        if isinstance(exp, dict):
            assert exp["monthsOfExperience"] == p.experience_min_years * 12 and p.experience_max_years is None
        else:
            assert exp == p.experience_text
        assert f'<h1 class="job-title">{p.title}</h1>'.replace("&", "&amp;") in page and p.company in page
    assert shapes == {"dict", "dict@graph", "list"}
    assert fetch(board.url + "/jobs/nope.html")[0] == 404


def test_api_pagination_reaches_every_api_posting(board: DemoBoard, small_dataset: DemoDataset) -> None:
    api_posts = [p for p in small_dataset.postings if p.style == "api"]
    first = json.loads(fetch(board.url + "/api/positions")[2])
    assert first["success"] is True
    assert first["content"]["pageNo"] == 1 and first["content"]["pageSize"] == 15
    assert first["content"]["totalCount"] == len(api_posts) and len(first["content"]["result"]) == 15
    assert json.loads(fetch(board.url + "/api/positions?pageNo=1&pageSize=500")[2])["content"]["pageSize"] == 100
    ids, page = [], 1
    while True:
        data = json.loads(fetch(board.url + f"/api/positions?pageNo={page}&pageSize=40")[2])
        result = data["content"]["result"]
        if not result:
            break
        for item in result:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", item["createTime"])
            assert set(item) >= {"positionId", "positionName", "companyFullName", "city", "workYear", "education",
                                 "salary", "createTime", "updateTime"}
        ids += [item["positionId"] for item in result]
        page += 1
    assert page - 1 == -(-len(api_posts) // 40)
    assert sorted(str(i) for i in ids) == sorted(p.external_id for p in api_posts)
    created = [small_dataset.find("api", str(i)).posted_at for i in ids]
    assert created == sorted(created, reverse=True)
    assert fetch(board.url + "/api/positions?pageNo=0")[0] == 400
    assert fetch(board.url + "/api/positions?pageNo=x")[0] == 400


def test_api_detail_and_malformed_bodies(board: DemoBoard, small_dataset: DemoDataset) -> None:
    kinds = set()
    for p in (q for q in small_dataset.postings if q.style == "api"):
        status, _, body = fetch(board.url + p.path)
        assert status == 200
        if p.malformed:
            try:
                content = json.loads(body)["content"]
                assert content["positionName"] is None
                kinds.add("null name")
            except json.JSONDecodeError:
                kinds.add("invalid json")
            continue
        content = json.loads(body)["content"]
        assert content["positionName"] == p.title and content["workYear"] == p.experience_text
        assert str(content["positionId"]) == p.external_id
        assert "<p>" in content["positionDetail"] or "<br>" in content["positionDetail"]
    assert kinds == {"null name", "invalid json"}
    status, _, body = fetch(board.url + "/api/positions/1")
    assert status == 404 and json.loads(body)["success"] is False


def test_jsonld_experience_shapes_vary(small_dataset: DemoDataset) -> None:
    shapes = Counter(type(job_posting_jsonld(p).get("experienceRequirements")).__name__
                     for p in small_dataset.postings if p.style == "html")
    assert shapes["str"] > 0 and shapes["dict"] > 0 and shapes["NoneType"] > 0


def test_concurrent_crawler_load(board: DemoBoard, small_dataset: DemoDataset) -> None:
    paths = [p.path for p in small_dataset.postings[:400]]
    before = sum(board.requests.values())
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda path: fetch(board.url + path)[0], paths))
    # Speed is for `labourwatch bench demo` (demoboard.server.serve_benchmark), not for a unit test.
    assert statuses == [200] * len(paths)
    assert sum(board.requests.values()) - before == len(paths)


# ---- faults ----------------------------------------------------------------------------------------------


def posting_of(ds: DemoDataset, style: str, lang: str = "zh") -> DemoPosting:
    return next(p for p in ds.postings if p.style == style and p.lang == lang and not p.malformed)


@pytest.mark.parametrize("status", [500, 429])
def test_faulted_url_fails_burst_times_then_serves(small_dataset: DemoDataset, status: int) -> None:
    faults = FaultConfig(rate_500=1.0 if status == 500 else 0.0, rate_429=1.0 if status == 429 else 0.0,
                         burst=3, retry_after=2)
    p = posting_of(small_dataset, "html")
    with DemoBoard(small_dataset, faults=faults) as b:
        for _ in range(3):
            code, headers, _ = fetch(b.url + p.path)
            assert code == status
            if status == 429:
                assert headers["Retry-After"] == "2"
        code, _, body = fetch(b.url + p.path)
        assert code == 200 and p.title in body.decode()
        assert b.hits(p.path) == 4 and b.faults_served[str(status)] == 3
        assert fetch(b.url + "/robots.txt")[0] == 200  # robots.txt is never faulted


def test_truncated_response_drops_mid_body_then_recovers(small_dataset: DemoDataset) -> None:
    p = posting_of(small_dataset, "html")
    with DemoBoard(small_dataset, faults=FaultConfig(truncate_rate=1.0, burst=1)) as b:
        host, port = b.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", p.path)
        resp = conn.getresponse()
        assert resp.status == 200
        with pytest.raises(http.client.IncompleteRead) as err:
            resp.read()
        assert 0 < len(err.value.partial) < int(resp.headers["Content-Length"])
        conn.close()
        code, _, body = fetch(b.url + p.path)
        assert code == 200 and body.decode().rstrip().endswith("</html>")


def test_slow_responses_wait_first(small_dataset: DemoDataset) -> None:
    p = posting_of(small_dataset, "api")
    with DemoBoard(small_dataset, faults=FaultConfig(slow_rate=1.0, slow_seconds=0.4, burst=1)) as b:
        t0 = time.perf_counter()
        assert fetch(b.url + p.path)[0] == 200
        # A lower bound only: it fails when the delay did not happen at all, never because the machine is slow.
        assert time.perf_counter() - t0 >= 0.4
        assert b.faults_served["slow"] == 1
        # burst=1: the second request is served without the delay (the board's fault counter does not move).
        assert fetch(b.url + p.path)[0] == 200
        assert b.faults_served["slow"] == 1 and b.hits(p.path) == 2


def test_gbk_pages_are_declared_and_decode_to_the_same_content(small_dataset: DemoDataset) -> None:
    html_p, api_p = posting_of(small_dataset, "html"), posting_of(small_dataset, "api")
    with DemoBoard(small_dataset, faults=FaultConfig(bad_encoding_rate=1.0)) as b:
        _, headers, body = fetch(b.url + html_p.path)
        assert headers["Content-Type"].lower() == "text/html; charset=gbk"
        page = body.decode("gbk")
        assert '<meta charset="gbk">' in page and html_p.title in page
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        _, headers, body = fetch(b.url + api_p.path)
        assert headers["Content-Type"].lower() == "application/json; charset=gbk"
        assert json.loads(body.decode("gbk"))["content"]["positionName"] == api_p.title


def test_fault_choice_is_deterministic_and_near_its_rates() -> None:
    cfg = FaultConfig(rate_500=0.05, rate_429=0.05, slow_rate=0.01, truncate_rate=0.02, seed=3)
    keys = [f"/jobs/{i}.html" for i in range(20000)]
    picks = [cfg.fault_for(k) for k in keys]
    assert picks == [cfg.fault_for(k) for k in keys]
    share = {kind: picks.count(kind) / len(keys) for kind in ("500", "429", "slow", "truncate")}
    assert share["500"] == pytest.approx(0.05, abs=0.01) and share["429"] == pytest.approx(0.05, abs=0.01)
    assert share["truncate"] == pytest.approx(0.02, abs=0.005) and share["slow"] == pytest.approx(0.01, abs=0.005)
    other = FaultConfig(rate_500=0.05, rate_429=0.05, slow_rate=0.01, truncate_rate=0.02, seed=4)
    assert [other.fault_for(k) for k in keys] != picks


def test_fault_spec_parsing() -> None:
    cfg = FaultConfig.parse("500=0.05,429=0.05,slow=0.01,truncate=0.01,encoding=0.02,burst=2,seed=9")
    assert cfg == FaultConfig(rate_500=0.05, rate_429=0.05, slow_rate=0.01, truncate_rate=0.01,
                              bad_encoding_rate=0.02, burst=2, seed=9)
    assert FaultConfig.parse(cfg.spec()) == cfg
    assert FaultConfig.parse("") == FaultConfig() and not FaultConfig().active
    with pytest.raises(ValueError, match="teapot=1"):
        FaultConfig.parse("500=0.1,teapot=1")
    with pytest.raises(ValueError, match="'lots' is not a number"):
        FaultConfig.parse("500=lots")
    with pytest.raises(ValueError, match="rate_429"):
        FaultConfig(rate_429=1.5)


def test_board_stops_and_releases_its_port(small_dataset: DemoDataset) -> None:
    b = DemoBoard(small_dataset).start()
    url = b.url
    assert fetch(url + "/robots.txt")[0] == 200
    b.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/robots.txt", timeout=2)
    with pytest.raises(RuntimeError, match="not started"):
        _ = b.url
    assert threading.active_count() < 50


def test_render_cache_is_bounded(small_dataset: DemoDataset) -> None:
    pages = [p for p in small_dataset.postings if p.style == "html"][:6]
    with DemoBoard(small_dataset, cache_limit=2) as b:
        for p in pages * 2:
            code, _, body = fetch(b.url + p.path)
            assert code == 200 and p.external_id in body.decode()
        assert len(b._cache) == 2


def test_keep_alive_clients_are_not_held_back(board: DemoBoard, small_dataset: DemoDataset) -> None:
    """Persistent connections are answered request after request (the handler turns Nagle's algorithm off)."""
    host, port = board.url.removeprefix("http://").split(":")
    paths = [p.path for p in small_dataset.postings[:600]]
    statuses: list[int] = []

    def worker(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        for path in chunk:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
        conn.close()

    before = sum(board.requests.values())
    threads = [threading.Thread(target=worker, args=(paths[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every request is answered on the four persistent connections; the speed (several hundred requests/s,
    # where Nagle's delay would cap it near 100/s) is printed by `labourwatch bench demo`, not asserted here.
    assert statuses == [200] * len(paths)
    assert sum(board.requests.values()) - before == len(paths)
    assert _Handler.disable_nagle_algorithm and _Handler.protocol_version == "HTTP/1.1"


def test_serve_benchmark_counts_what_it_served(small_dataset: DemoDataset) -> None:
    result = serve_benchmark(small_dataset, requests=40, clients=2)
    assert result.requests == result.ok == 40 and result.clients == 2 and result.seconds > 0
    assert "requests/s" in result.summary()
    with pytest.raises(ValueError, match="clients > 0"):
        serve_benchmark(small_dataset, requests=1, clients=0)
