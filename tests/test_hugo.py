"""The markdown tree is a Hugo content folder: a real `hugo` builds a site from it.

``broadsheet site`` writes the config around it; the theme here is a small stand-in for
Mainroad (same name, the same ``datetime`` attributes), made in the test.
"""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from pipeline.cli import cli
from pipeline.store.schema import migrate

REPLAY = Path(__file__).parent / "fixtures" / "replay"
DUMP = Path(__file__).parent / "fixtures" / "legacy" / "legacy-text-hindustantimes.txt"
HUGO = shutil.which("hugo")
NEEDS_HUGO = pytest.mark.skipif(
    HUGO is None, reason="hugo is not installed (.ci/run installs it)"
)
LAYOUT = '<h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02 15:04" }}</time><p class=summary>{{ .Summary }}</p>{{ .Content }}'
STAMP = '<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">'
THEME = {
    "layouts/_default/single.html": f"<h1>{{{{ .Title }}}}</h1>{STAMP}</time>{{{{ .Content }}}}",
    "layouts/_default/list.html": "{{ range .Pages }}{{ .Title }}\n{{ end }}",
    "layouts/index.html": (
        '{{ range where .Site.RegularPages "Section" "in" .Site.Params.mainSections }}'
        f'<article data-section="{{{{ .Section }}}}">{STAMP}{{{{ .Title }}}}</time></article>\n'
        "{{ end }}"
    ),
}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five replayed stories (source news, no time zone) and one imported (hindustantimes)."""
    output = tmp_path_factory.mktemp("out")
    replayed = invoke(
        "replay",
        str(REPLAY),
        "--source",
        "news",
        "--output",
        str(output),
        "--workers",
        "0",
    )
    assert replayed.exit_code == 0, replayed.output
    imported = invoke(
        "import", str(DUMP), "--source", "hindustantimes", "--output", str(output)
    )
    assert imported.exit_code == 0, imported.output
    return output


def hugo(site: Path) -> None:
    built = subprocess.run(
        [HUGO, "--source", str(site)], capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr
    assert "ERROR" not in built.stderr


def make_theme(site: Path) -> None:
    for name, text in THEME.items():
        path = site / "themes" / "mainroad" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@NEEDS_HUGO
def test_hugo_builds_a_site_from_the_content_folder(tmp_path, output):
    site = tmp_path / "site"
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "http://example.org/"\ntitle = "news"\n')
    (site / "layouts" / "_default" / "single.html").write_text(LAYOUT)
    (site / "layouts" / "_default" / "list.html").write_text(
        "{{ range .Pages }}{{ .Title }}\n{{ end }}"
    )
    shutil.copytree(output / "content", site / "content")
    hugo(site)
    pages = sorted((site / "public").glob("*/*/*/*/index.html"))
    assert len(pages) == 6  # five replayed stories and the imported one
    toi = next(p for p in pages if "anti-terror-op" in str(p)).read_text()
    assert "<h1>Anti-terror op turns sinister" in toi
    assert "<time>2024-09-02 17:07</time>" in toi
    legacy = next(p for p in pages if p.parts[-5] == "hindustantimes").read_text()
    assert "<time>2023-05-18 00:00</time>" in legacy
    assert 'href="https://hindustantimes.com/imported/2023-05-18-' in legacy


def test_site_config(tmp_path, output):
    site = tmp_path / "site"
    result = invoke("site", str(site), "--output", str(output), "--title", "Desk")
    assert result.exit_code == 0, result.output
    config = tomllib.loads((site / "hugo.toml").read_text())
    assert config["theme"] == "mainroad"
    assert (site / config["contentDir"]).resolve() == (output / "content").resolve()
    assert not Path(config["contentDir"]).is_absolute()
    assert config["timeZone"] == "Asia/Kolkata"  # hindustantimes' in sources.toml
    assert config["title"] == config["params"]["logo"]["title"] == "Desk"
    assert config["params"]["mainSections"] == ["hindustantimes", "news"]
    assert config["params"]["sidebar"]["widgets"][0] == "search"
    assert "git clone --depth 1 https://github.com/Vimux/Mainroad.git" in result.output
    # the replayed pages come from several zones: news has no single one
    assert "news: no time zone in the sources file nor in its stored dates" in (
        result.output
    )


@NEEDS_HUGO
def test_site_shows_local_times_with_their_offset(tmp_path, output):
    site = tmp_path / "site"
    assert invoke("site", str(site), "--output", str(output)).exit_code == 0
    make_theme(site)
    hugo(site)
    public = site / "public"
    [toi] = public.glob("news/*/*/*anti-terror-op*/index.html")
    assert '<time datetime="2024-09-02T17:07:00&#43;05:30">' in toi.read_text()
    home = (public / "index.html").read_text()
    assert 'data-section="hindustantimes"' in home
    assert 'data-section="news"' in home  # mainSections: every source on the home page
    assert '<time datetime="2023-05-18T00:00:00&#43;05:30">' in home
    assert (
        "<pubDate>Mon, 02 Sep 2024 17:07:00 +0530</pubDate>"
        in (public / "index.xml").read_text()
    )
    rerun = invoke("site", str(site), "--output", str(output))
    assert rerun.exit_code == 0  # its own config is rewritten
    assert "add the theme" not in rerun.output  # the theme is there now


def write_tree(output: Path, counts: dict[str, int]) -> None:
    for source, count in counts.items():
        for index in range(count):
            path = output / "content" / source / "2024" / "06" / f"story-{index}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                f'---\ntitle: "{source} {index}"\ndate: "2024-06-07 10:15:00"\n---\n\nBody.\n'
            )


SOURCES = """
[[source]]
name = "london"
domains = ["london.example"]
feeds = ["https://london.example/rss"]
timezone = "Europe/London"

[[source]]
name = "delhi"
domains = ["delhi.example"]
feeds = ["https://delhi.example/rss"]
timezone = "Asia/Kolkata"
"""


@pytest.mark.parametrize(
    ("counts", "zone", "misdated"),
    [
        ({"london": 3, "delhi": 1}, "Europe/London", "delhi"),
        ({"london": 1, "delhi": 2}, "Asia/Kolkata", "london"),
    ],
)
def test_site_with_several_time_zones_takes_the_zone_of_most_stories(
    tmp_path, counts, zone, misdated
):
    (tmp_path / "sources.toml").write_text(SOURCES)
    write_tree(tmp_path / "out", counts)
    result = invoke(
        "site", str(tmp_path / "site"), "--output", str(tmp_path / "out"),
        "--sources", str(tmp_path / "sources.toml"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = tomllib.loads((tmp_path / "site" / "hugo.toml").read_text())
    assert config["timeZone"] == zone
    assert f"warning: {misdated}: its times are local to " in result.output
    assert f"but shown as {zone} (Hugo has one time zone per site)" in result.output


def test_site_time_zone_option(tmp_path):
    (tmp_path / "sources.toml").write_text(SOURCES)
    write_tree(tmp_path / "out", {"london": 3, "delhi": 1})
    args = ["site", str(tmp_path / "site"), "--output", str(tmp_path / "out")]
    args += ["--sources", str(tmp_path / "sources.toml")]
    assert invoke(*args, "--time-zone", "Asia/Kolkata").exit_code == 0
    config = tomllib.loads((tmp_path / "site" / "hugo.toml").read_text())
    assert config["timeZone"] == "Asia/Kolkata"
    bad = invoke(*args, "--time-zone", "Mars/Olympus")
    assert bad.exit_code == 1
    assert bad.output == "Error: unknown time zone 'Mars/Olympus': use an IANA name\n"


def test_site_refuses_a_config_it_did_not_write(tmp_path):
    write_tree(tmp_path / "out", {"london": 1})
    site = tmp_path / "site"
    site.mkdir()
    (site / "hugo.toml").write_text('title = "mine"\n')
    result = invoke("site", str(site), "--output", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {site / 'hugo.toml'} exists and was not written by broadsheet site\n"
    )
    assert (site / "hugo.toml").read_text() == 'title = "mine"\n'


def test_site_without_markdown(tmp_path):
    result = invoke("site", str(tmp_path / "site"), "--output", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no markdown tree at {tmp_path / 'none' / 'content'}: "
        "run broadsheet crawl, replay or import first\n"
    )
    assert not (tmp_path / "site").exists()


def test_site_zone_of_a_source_missing_from_the_sources_file(tmp_path):
    """Its stored dates' offsets pick a zone: the sources file's zones first."""
    output = tmp_path / "out"
    write_tree(output, {"gazette": 2})
    db = Database(output / "broadsheet.db")
    migrate(db)
    for id_, date in enumerate(
        ["2024-01-05T09:00:00+05:30", "2024-07-05T18:30:00+05:30"]
    ):
        db["articles"].insert(
            {"id": id_ + 1, "url": f"https://gazette.example/{id_}", "source": "gazette",
             "date": date, "title": "A story", "content_hash": f"h{id_}",
             "first_seen": "2024-07-06T00:00:00+00:00",
             "last_seen": "2024-07-06T00:00:00+00:00"}
        )  # fmt: skip
    db.close()
    result = invoke("site", str(tmp_path / "site"), "--output", str(output))
    assert result.exit_code == 0, result.output
    config = tomllib.loads((tmp_path / "site" / "hugo.toml").read_text())
    assert (
        config["timeZone"] == "Asia/Kolkata"
    )  # Asia/Colombo fits too, but is not used
    assert (
        "warning: gazette: no timezone in the sources file; Asia/Kolkata fits its "
        "stored dates" in result.output
    )
