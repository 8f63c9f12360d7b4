"""What broadsheet takes from Redis: data only, checked; credentials, TLS and prefixes.

A pickled object planted in any list or queue is never unpickled (it would create a
file); messages of the wrong shape are counted and set aside. Real redis-servers:
with ``--requirepass``, an ACL user, TLS with a certificate made here.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import logging
import os
import pickle
import subprocess
import sys
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rich.console import Console
from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict
from test_redis import (  # noqa: F401 (fixtures)
    ARTICLES,
    BROADSHEET,
    FAST,
    REPO,
    crawl_command,
    made_article,
    redis_server,
    rows,
    server,
    site,
    site_root,
    write_sources,
)

from pipeline.cli import cli
from pipeline.inputs.workers import ExtractPool
from pipeline.items import Hints, Page
from pipeline.scale import serializer
from pipeline.scale.connection import (
    MaskPasswords,
    QueueError,
    connect,
    mask_passwords_in,
    redact,
)
from pipeline.scale.fanout import FanOut, Worker, print_fan_out
from pipeline.scale.loader import Loader
from pipeline.scale.queues import (
    ITEMS,
    PAGES,
    ReliableList,
    article_message,
    decode,
    page_message,
)
from pipeline.store.writer import Store

sys.path.insert(0, str(Path(__file__).parent))
from redis_server import BINARY, RedisServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BINARY is None, reason="redis-server is not installed"),
]


class Planted:
    """Unpickling this creates the file it names: proof that something ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (str(self.path), "w"))


class Reader(Spider):
    name = "reader"

    def parse_article(self, response: object) -> None:
        pass

    def failed(self, failure: object) -> None:
        pass

    def steal(self, response: object) -> None:
        pass


# -- the request serializer ---------------------------------------------------


def test_a_spider_request_round_trips_through_json() -> None:
    spider = Reader()
    request = Request(
        "https://gen.example/news/a.html",
        callback=spider.parse_article,
        errback=spider.failed,
        headers={"Accept-Language": "hi"},
        meta={
            "broadsheet": "article",
            "hints": Hints(title="T", date="2026-11-20", keywords=("a", "b")),
            "broadsheet_listings": ("https://gen.example/feed.xml",),
            "raw": b"\x00\xff",
            "unencodable": object(),
            "depth": 2,
        },
        priority=3,
    )
    raw = serializer.dumps(request.to_dict(spider=spider))
    json.loads(raw)  # plain JSON
    back = request_from_dict(serializer.loads(raw), spider=spider)
    assert back.url == request.url
    assert back.callback == spider.parse_article
    assert back.errback == spider.failed
    assert back.headers.getlist("Accept-Language") == [b"hi"]
    assert back.priority == 3
    assert back.meta["hints"] == request.meta["hints"]
    assert back.meta["broadsheet_listings"] == ["https://gen.example/feed.xml"]
    assert back.meta["depth"] == 2
    assert "raw" not in back.meta  # not a key broadsheet queues
    assert "unencodable" not in back.meta


def test_meta_that_would_steer_the_crawler_is_left_out() -> None:
    raw = with_(
        meta={
            "broadsheet": "article",
            "proxy": "http://attacker.example:3128",
            "download_maxsize": 0,
            "dont_obey_robotstxt": True,
        }
    )
    assert serializer.loads(raw)["meta"] == {"broadsheet": "article"}


def good_request() -> dict:
    return json.loads(
        serializer.dumps(Request("https://gen.example/a").to_dict(spider=Reader()))
    )


def with_(**changes: object) -> bytes:
    return json.dumps({**good_request(), **changes}).encode()


BAD_REQUESTS = {
    "class": with_(_class="subprocess.Popen"),
    "callback": with_(callback="steal"),
    "dunder": with_(errback="__init__"),
    "method": with_(method="DELETE"),
    "scheme": with_(url="file:///etc/passwd"),
    "url type": with_(url=["https://gen.example/a"]),
    "body": with_(body="not base64!"),
    "headers": with_(headers={"a": "b"}),
    "meta tag": with_(meta={"x": {"$object": "os.system"}}),
    "hints": with_(meta={"hints": {"$hints": {"title": 3}}}),
    "priority": with_(priority="high"),
    "retry count": with_(meta={"retry_times": "9"}),
    "statuses": with_(meta={"handle_httpstatus_list": ["all"]}),
    "unknown": with_(extra=1),
    "list": b"[]",
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "large": with_(meta={"x": "a" * (serializer.MAX_BYTES + 1)}),
}


@pytest.mark.parametrize("raw", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_the_request_queue_refuses_what_broadsheet_did_not_write(raw: bytes) -> None:
    with pytest.raises(serializer.BadRequestMessage):
        serializer.loads(raw)


def test_a_pickled_request_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(serializer.BadRequestMessage, match="not a JSON request"):
        serializer.loads(pickle.dumps(Planted(marker)))
    assert not marker.exists()


# -- planted in Redis ---------------------------------------------------------


def test_a_pickled_request_planted_in_the_queue_never_runs(
    server: RedisServer, site: object, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    client = server.client()
    queue = "broadsheet:gen:requests"
    redos = with_(
        url=f"{site.base}/",
        callback="parse_section",
        meta={"broadsheet": "section", "pattern": "^(a+)+$"},
    )
    bad = [pickle.dumps(Planted(marker)), with_(_class="scrapy.Request"), redos]
    for number, raw in enumerate(bad):
        client.zadd(queue, {raw: -100 - number})  # popped first
    sources = write_sources(tmp_path, site.base)
    result = subprocess.run(
        crawl_command(server.url, sources),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert not marker.exists()
    rejected = [line for line in result.stderr.splitlines() if "rejected a" in line]
    assert len(rejected) == 3, rejected
    assert sorted(client.lrange(f"{queue}:rejected", 0, -1)) == sorted(bad)
    assert client.llen(ITEMS) == ARTICLES + 1  # the crawl went on


def test_pickled_items_and_pages_are_set_aside_never_run(
    server: RedisServer, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    planted = pickle.dumps(Planted(marker))
    client = server.client()
    items = ReliableList(client, ITEMS)
    items.push(planted, article_message(made_article(1)))
    with Store(tmp_path / "out") as store:
        loader = Loader(client, store)
        loader.drain(once=True)
    assert loader.rejected == 1
    assert len(rows(tmp_path / "out", "select id from articles")) == 1

    pages = ReliableList(client, PAGES)
    page = Page(url="https://gen.example/p", body=b"<html></html>", source="gen")
    pages.push(planted, page_message(page))
    with ExtractPool(0) as pool:
        worker = Worker(client, pool, "w1")
        worker.run(once=True)
    assert worker.done["rejected"] == 1
    assert worker.done["dropped"] == 1
    assert client.lrange(f"{PAGES}:rejected", 0, -1) == [planted]
    assert not marker.exists()


WRONG = {
    "title not text": {"title": 3},
    "authors not a list": {"authors": "a, b"},
    "unknown field": {"shell": "rm -rf /"},
    "missing url": {"url": None},
}


@pytest.mark.parametrize("change", WRONG.values(), ids=WRONG.keys())
def test_an_article_message_of_the_wrong_shape_is_refused(change: dict) -> None:
    data = {**made_article(1).to_dict(), **change}
    data = {key: value for key, value in data.items() if value is not None}
    raw = json.dumps({"kind": "article", "data": data}).encode()
    with pytest.raises(QueueError, match="article message"):
        decode(raw).article()


def test_a_page_message_with_wrong_hints_is_refused() -> None:
    page = Page(url="https://gen.example/p", body=b"x", source="gen")
    data = json.loads(page_message(page))
    data["data"]["hints"] = {"title": ["a"]}
    with pytest.raises(QueueError, match="page hints message: title"):
        decode(json.dumps(data).encode()).page()


# -- credentials, TLS, prefixes -----------------------------------------------


def load(url: str, output: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [*BROADSHEET, "load", "--redis", url, "--once", "--output", str(output)]
    return subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_a_password_comes_from_the_environment_or_the_url(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis", password="s3cret-pw") as locked:
        ReliableList(locked.client(), ITEMS).push(article_message(made_article(1)))
        refused = load(locked.url, tmp_path / "a", {})
        assert refused.returncode == 1
        assert refused.stderr.startswith(f"Error: Redis at {locked.url} refused")
        assert "Traceback" not in refused.stderr
        wrong = f"redis://:wrong-pw@127.0.0.1:{locked.port}/0"
        refused = load(wrong, tmp_path / "a", {})
        assert refused.returncode == 1
        assert "wrong-pw" not in refused.stderr
        done = load(
            locked.url, tmp_path / "a", {"BROADSHEET_REDIS_PASSWORD": "s3cret-pw"}
        )
        assert done.returncode == 0, done.stderr
        assert "gen: 1 pages; 1 new" in done.stdout
        assert "s3cret-pw" not in done.stdout + done.stderr


def test_an_acl_user_in_the_url(tmp_path: Path) -> None:
    acl = ("--user", "loader", "on", ">pw-of-loader", "~*", "&*", "+@all")
    with RedisServer(tmp_path / "redis", password="admin-pw", extra=acl) as locked:
        ReliableList(locked.client(), ITEMS).push(article_message(made_article(2)))
        url = f"redis://loader:pw-of-loader@127.0.0.1:{locked.port}/0"
        done = load(url, tmp_path / "out", {})
        assert done.returncode == 0, done.stderr
        assert "loader:***@127.0.0.1" in done.stdout
        assert "pw-of-loader" not in done.stdout + done.stderr
        assert len(rows(tmp_path / "out", "select id from articles")) == 1


def test_a_password_in_the_redis_url_never_shows_in_the_crawl_log(
    tmp_path: Path, site: object
) -> None:
    with RedisServer(tmp_path / "redis", password="s3cret-pw") as locked:
        url = f"redis://:s3cret-pw@127.0.0.1:{locked.port}/0"
        sources = write_sources(tmp_path, site.base)
        command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=gen"]
        command += ["-a", f"sources={sources}", "-sLOG_LEVEL=DEBUG"]
        command += [f"-s{k}={v}" for k, v in FAST.items()]
        command += [f"-sBROADSHEET_REDIS_URL={url}", f"-sREDIS_URL={url}"]
        crawled = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert crawled.returncode == 0, crawled.stderr[-2000:]
    assert "Overridden settings" in crawled.stderr
    assert "s3cret-pw" not in crawled.stdout + crawled.stderr


def test_the_settings_log_line_masks_a_url_password() -> None:
    mask_passwords_in("scrapy.crawler")
    mask_passwords_in("scrapy.crawler")  # once is enough
    logger = logging.getLogger("scrapy.crawler")
    settings = {"REDIS_URL": "rediss://loader:pw-1@h:6379/0", "X": "redis://h/0"}
    record = logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        1,
        "Overridden settings:\n%(settings)s",
        ({"settings": settings},),
        None,
    )
    assert logger.filter(record)  # the logger's filters, as logging runs them
    text = record.getMessage()
    assert "rediss://loader:***@h:6379/0" in text
    assert "redis://h/0" in text
    assert "pw-1" not in text
    masks = [f for f in logger.filters if isinstance(f, MaskPasswords)]
    assert len(masks) == 1


def test_redact_hides_only_the_password() -> None:
    assert redact("rediss://u:p@h:1/0") == "rediss://u:***@h:1/0"
    assert redact("redis://:p@h/0") == "redis://:***@h/0"
    assert redact("redis://h:6379/0") == "redis://h:6379/0"


def self_signed(folder: Path) -> Path:
    """cert.pem and key.pem for 127.0.0.1, valid for a day."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder


def test_a_crawl_and_a_load_over_tls_with_a_password_and_a_prefix(
    site: object, tmp_path: Path
) -> None:
    tls = self_signed(tmp_path / "tls")
    with RedisServer(tmp_path / "redis", password="pw", tls=tls) as secure:
        env = {
            "BROADSHEET_REDIS_PASSWORD": "pw",
            "BROADSHEET_REDIS_CA": str(tls / "cert.pem"),
            "BROADSHEET_REDIS_PREFIX": "east",
        }
        with pytest.raises(QueueError, match="cannot reach Redis"):
            connect(secure.url)  # no CA: the certificate is not trusted
        sources = write_sources(tmp_path, site.base)
        crawled = subprocess.run(
            crawl_command(secure.url, sources),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **env},
        )
        assert crawled.returncode == 0, crawled.stderr[-2000:]
        client = secure.client()
        keys = {key.decode() for key in client.keys("*")}
        assert keys == {"east:items", "east:gen:seen"}
        other = load(
            secure.url, tmp_path / "west", {**env, "BROADSHEET_REDIS_PREFIX": "west"}
        )
        assert other.returncode == 0, other.stderr
        assert rows(tmp_path / "west", "select count(*) as n from articles") == [
            {"n": 0}
        ]
        done = load(secure.url, tmp_path / "east", env)
        assert done.returncode == 0, done.stderr
        assert len(rows(tmp_path / "east", "select id from articles")) == ARTICLES
        assert client.llen("east:items") == 0


def test_a_bad_give_up_setting_is_one_line(server: RedisServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["load", "--redis", server.url, "--once", "--output", str(tmp_path)],
        env={"BROADSHEET_REDIS_GIVE_UP": "soon"},
    )
    assert result.exit_code == 1
    assert (
        result.output
        == "Error: BROADSHEET_REDIS_GIVE_UP='soon' is not a number of seconds\n"
    )


def test_the_fan_out_summary_prints_its_title_as_it_is():
    """The title holds the Redis URL and names the user gave: no rich markup in it."""
    out = StringIO()
    title = "queued 2 file(s) in redis://[::1]:6379/0 [/] [bold]x"
    print_fan_out(FanOut(Counter({"news": 2})), title, Console(file=out))
    assert out.getvalue().splitlines() == [
        title,
        "  news: 2 pages queued for broadsheet work",
    ]
