"""The HTML report of a workflow run (`snakemake --report`, rules in workflow/rules/report.smk): the README's
commands (the main command, `pictures`, then the report) on a shrunk smoke grid in a copy of the workflow; the
report lists every table, plot, sample grid and figure; and a headless Chromium renders it (screenshot not blank,
every entry in the rendered DOM, and a table page opened from the menu shows the numbers of tables/mnist.md).

Chromium: `chromium` or `chromium-browser` on PATH (Debian: `apt-get install chromium`). Without it the browser
test skips, saying so -- except with HMOGBENCH_REQUIRE_CHROMIUM=1 (set by .ci/run, which installs it), where it fails.
"""

import base64
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from workflow_runs import SMOKE_MODELS as MODELS
from workflow_runs import SMOKE_SEEDS as SEEDS

pytestmark = [pytest.mark.system, pytest.mark.xdist_group("smoke-run"),
              pytest.mark.skipif(importlib.util.find_spec("snakemake") is None,
                                 reason="snakemake not installed (the README's install command installs it)")]

FIGURE_RUN = ("HME-2", 2019)  # the ME/HME runs with figures: the first seed (config figures.seeds: [])


def expected_entries() -> list[str]:
    """Every file the report of the shrunk run must list."""
    names = ["tables/mnist.html", "tables/mnist.diff.html", "tables/mnist.extended.html"]
    names += [f"results/plots/mnist/table{n}-pixels.png" for n in ("5.3", "5.8")]
    names += [f"results/plots/mnist/{m}/curves.png" for m in MODELS]
    names += [f"results/grids/mnist/{m}/seed{s}.png" for m in MODELS for s in SEEDS]
    names += [f"results/figures/mnist/{FIGURE_RUN[0]}/seed{FIGURE_RUN[1]}/{f}" for f in (
        "node_responses.png", "leaf_responses.png", "gating_covariance.png", "leaf_samples.png", "samples.png",
        "samples_truncated.png", "figures.md")]
    return names


@pytest.fixture(scope="module")
def report(smoke_run):
    """report.html of the shared smoke run (conftest.py), built with the documents' commands."""
    html = smoke_run / "report.html"
    assert html.stat().st_size > 10_000
    return html


def _embedded_texts(html: str) -> str:
    """The report's text with every embedded base64 data URI decoded (tables and captions may sit inside)."""
    decoded = []
    for blob in re.findall(r"base64,([A-Za-z0-9+/=]{16,})", html):
        try:
            decoded.append(base64.b64decode(blob).decode("utf-8", "ignore"))
        except ValueError:
            pass
    return html + "\n".join(decoded)


@pytest.mark.slow
def test_report_lists_every_table_plot_and_grid(report):
    text = _embedded_texts(report.read_text(encoding="utf-8"))
    missing = [name for name in expected_entries() if name not in text]
    assert not missing, f"report.html does not list {missing}"
    # captions rendered with the run's config: feature space, sample count, training length, comparability
    assert "pixels" in text and "64 generated samples" in text and "2 generator steps" in text
    assert "Not comparable" in text and "Table 5.8" in text


def expected_rows() -> list[str]:
    """The report's rendered list of all results: one row of label values per entry (figure, table, model,
    format, space, seed as the rules' report() labels give them)."""
    rows = ["regenerated tables HTML", "diff against the thesis HTML", "extended table HTML"]
    rows += [f"agreement with the thesis {n} pixels" for n in ("5.3", "5.8")]
    rows += [f"training curves {m} all" for m in MODELS]
    rows += [f"sample grid {m} {s}" for m in MODELS for s in SEEDS]
    rows += [f"{f} {FIGURE_RUN[0]} {FIGURE_RUN[1]}" for f in ("node responses", "leaf responses", "gating covariance", "leaf samples",
                                         "samples", "samples truncated", "figure captions")]
    return rows


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    message = ("no headless browser: neither `chromium`, `chromium-browser` nor `google-chrome` is on PATH "
               "(Debian/Ubuntu: apt-get install chromium)")
    if os.environ.get("HMOGBENCH_REQUIRE_CHROMIUM") == "1":
        pytest.fail(message + "; HMOGBENCH_REQUIRE_CHROMIUM=1 requires it")
    pytest.skip(message)


def browser(html: Path, *options: str) -> subprocess.CompletedProcess:
    """Headless Chromium on ``html`` (root needs --no-sandbox), given time for the report's scripts to render."""
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--virtual-time-budget=10000", "--window-size=1400,1000", *options, html.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def with_view(html: Path, out: Path, view: str) -> Path:
    """A copy of the report that opens on ``view`` (a JavaScript object for the report app's setView, as a click
    in its menu would set it), e.g. every result listed: {navbarMode: "searchresults", searchTerm: "re:."}."""
    text = html.read_text(encoding="utf-8")
    script = f'<script>window.addEventListener("load", () => setTimeout(() => app.setView({view}), 200));</script>'
    end = text.rindex("</body>")
    out.write_text(text[:end] + script + text[end:], encoding="utf-8")
    return out


def shown_result(html: Path, out: Path, category: str, subcategory: str, row: str) -> Path:
    """A copy of the report that opens Results -> ``category`` -> ``subcategory`` in its menu, clicks the eye of the
    row whose labels read ``row`` and, once the page it shows (an iframe of the embedded file) has rendered, copies
    the iframe's address (its first 60 characters) and the page's rendered text into <pre id="shown-result">.
    Reading the iframe needs the browser options of ``SHOW_RESULT``."""
    text = html.read_text(encoding="utf-8")
    script = f"""<script>
    function report(text) {{
        const pre = document.createElement("pre"); pre.id = "shown-result"; pre.textContent = text;
        document.body.appendChild(pre);
    }}
    function read(tries) {{
        const frame = document.querySelector("iframe");
        const body = frame && frame.contentDocument && frame.contentDocument.body;
        if (body && body.querySelector("table")) return report(frame.src.slice(0, 60) + "\\n" + body.innerText);
        if (tries > 0) return setTimeout(() => read(tries - 1), 200);
        report("no rendered page in an iframe: " + (frame ? frame.src.slice(0, 60) : "no iframe"));
    }}
    window.addEventListener("load", () => setTimeout(() => {{
        app.setView({{navbarMode: "subcategory", category: {category!r}, subcategory: {subcategory!r}}});
        setTimeout(() => {{
            const rows = [...document.querySelectorAll("tr")].filter(r => r.textContent.includes({row!r}));
            const eye = rows.length && rows[0].querySelector('a[iconname="eye"]');
            if (!eye) return report("no row " + {row!r} + " with an eye button in the menu");
            eye.click();
            read(25);
        }}, 300);
    }}, 200));
    </script>"""
    end = text.rindex("</body>")
    out.write_text(text[:end] + script + text[end:], encoding="utf-8")
    return out


# the shown page is a data: URI in an iframe (another origin): its DOM is readable with the same-origin policy off
SHOW_RESULT = ("--disable-web-security", "--disable-site-isolation-trials")


def shown_text(dom: str) -> str:
    """The text ``shown_result``'s script copied out of the iframe."""
    found = re.search(r'<pre id="shown-result">(.*?)</pre>', dom, re.DOTALL)
    assert found, "the report's page lacks the shown result (its script did not run)"
    return unescape(found.group(1))


def screenshot(html: Path, png: Path) -> Path:
    out = browser(html, f"--screenshot={png}")
    assert png.exists() and png.stat().st_size > 0, f"{shlex.join(out.args)} wrote no screenshot:\n{out.stderr[-3000:]}"
    return png


def pixel_std(png: Path) -> float:
    from PIL import Image, ImageStat

    return max(ImageStat.Stat(Image.open(png).convert("RGB")).stddev)


def rendered_text(dom: str) -> str:
    """The text a reader sees: the DOM without scripts, styles and tags, whitespace collapsed."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


@pytest.mark.slow
def test_report_renders_in_a_headless_browser(report, tmp_path):
    _chromium()
    png = screenshot(report, tmp_path / "report.png")
    from PIL import Image

    assert Image.open(png).size == (1400, 1000)
    assert pixel_std(png) > 10, f"the screenshot of report.html is blank (pixel std {pixel_std(png):.1f})"

    # the landing page, rendered by the report's scripts: the menu and the workflow description
    landing = browser(report, "--dump-dom")
    assert landing.returncode == 0, landing.stderr[-3000:]
    text = rendered_text(landing.stdout)
    assert "Results" in text and "Workflow" in text and "regenerated and diffed" in text, text[:2000]

    # every result listed (the menu's search for everything): one row per table, plot, grid and figure
    listing = browser(with_view(report, tmp_path / "all.html", '{navbarMode: "searchresults", searchTerm: "re:."}'),
                      "--dump-dom")
    assert listing.returncode == 0, listing.stderr[-3000:]
    text = rendered_text(listing.stdout)
    missing = [row for row in expected_rows() if row not in text]
    assert not missing, f"the rendered list of results lacks {missing}:\n{text[:3000]}"

    # Results -> mnist -> tables -> the eye of the regenerated tables: the page shows FC's FD cell of tables/mnist.md,
    # below the caption of its table
    md_row = next(line for line in (report.parent / "tables" / "mnist.md").read_text().splitlines()
                  if line.startswith("| FC (baseline)"))
    fd_cell = [cell.strip() for cell in md_row.strip("|").split("|")][3]
    assert re.fullmatch(r"\d+\.\d\d ± \d+\.\d\d", fd_cell), md_row
    shown = browser(shown_result(report, tmp_path / "table.html", "mnist", "tables", "regenerated tables"),
                    *SHOW_RESULT, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-3000:]
    text = shown_text(shown.stdout)
    assert text.startswith("data:text/html"), text[:500]
    assert fd_cell in text and text.index("Table 5.3 -- Regenerated thesis Table 5.3") < text.index(fd_cell), text[:3000]
    assert "\\begin{tabular}" in text  # the LaTeX, as text after the tables
