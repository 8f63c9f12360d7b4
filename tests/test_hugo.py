"""The markdown tree is a Hugo content folder: a real `hugo` builds a site from it."""

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

REPLAY = Path(__file__).parent / "fixtures" / "replay"
DUMP = Path(__file__).parent / "fixtures" / "legacy" / "legacy-text-hindustantimes.txt"
HUGO = shutil.which("hugo")
LAYOUT = '<h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02 15:04" }}</time><p class=summary>{{ .Summary }}</p>{{ .Content }}'


@pytest.mark.skipif(HUGO is None, reason="hugo is not installed (.ci/run installs it)")
def test_hugo_builds_a_site_from_the_content_folder(tmp_path):
    output = tmp_path / "out"
    assert (
        CliRunner()
        .invoke(
            cli,
            [
                "replay",
                str(REPLAY),
                "--source",
                "news",
                "--output",
                str(output),
                "--workers",
                "0",
            ],
        )
        .exit_code
        == 0
    )
    assert (
        CliRunner()
        .invoke(
            cli,
            [
                "import",
                str(DUMP),
                "--source",
                "hindustantimes",
                "--output",
                str(output),
            ],
        )
        .exit_code
        == 0
    )
    site = tmp_path / "site"
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "http://example.org/"\ntitle = "news"\n')
    (site / "layouts" / "_default" / "single.html").write_text(LAYOUT)
    (site / "layouts" / "_default" / "list.html").write_text(
        "{{ range .Pages }}{{ .Title }}\n{{ end }}"
    )
    shutil.copytree(output / "content", site / "content")
    built = subprocess.run(
        [HUGO, "--source", str(site)], capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr
    assert "ERROR" not in built.stderr
    pages = sorted((site / "public").glob("*/*/*/*/index.html"))
    assert len(pages) == 6  # five replayed stories and the imported one
    toi = next(p for p in pages if "anti-terror-op" in str(p)).read_text()
    assert "<h1>Anti-terror op turns sinister" in toi
    assert "<time>2024-09-02 17:07</time>" in toi
    legacy = next(p for p in pages if p.parts[-5] == "hindustantimes").read_text()
    assert "<time>2023-05-18 00:00</time>" in legacy
    assert 'href="https://hindustantimes.com/imported/2023-05-18-' in legacy
