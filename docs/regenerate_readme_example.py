"""Regenerate the README's "What you get" from a real run of its commands, never by hand: the excerpt of
`tables/mnist.md` between `<!-- example-table:start -->` and `<!-- example-table:end -->`, and the report's
screenshot `docs/figures/report.png` (headless Chromium, 1400 x 1000 px, opened on Results > mnist > Table 5.8).

    snakemake --cores 2 tables/mnist.diff.md --configfile config/smoke.yaml      # the README's main command
    snakemake --cores 2 pictures --configfile config/smoke.yaml
    snakemake --report report.html pictures tables/mnist.diff.md --configfile config/smoke.yaml
    python docs/regenerate_readme_example.py --table tables/mnist.md --report report.html
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SCREENSHOT = ROOT / "docs" / "figures" / "report.png"
START, END = "<!-- example-table:start -->", "<!-- example-table:end -->"
VIEW = ("mnist", "Table 5.8")  # the report's category and subcategory the screenshot opens on
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--virtual-time-budget=10000", "--window-size=1400,1000"]


def table_excerpt(markdown: str, rows: int) -> str:
    """The first table of a `tables/<set>.md`: its caption line, header, rule and first ``rows`` rows, verbatim."""
    lines = markdown.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("**Table ")), None)
    if first is None:
        raise SystemExit("the table file has no '**Table ...' caption line: is it a tables/<set>.md?")
    header = next(i for i in range(first + 1, len(lines)) if lines[i].startswith("|"))
    body = []
    for line in lines[header:]:
        if not line.startswith("|"):
            break
        body.append(line)
    more = len(body) - 2 - rows
    tail = [f"… ({more} more rows)"] if more > 0 else []
    return "\n".join([lines[first], "", *body[:2 + rows], *tail])


def with_excerpt(readme: str, excerpt: str) -> str:
    """``readme`` with the block between START and END replaced by ``excerpt`` in a Markdown code fence."""
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise SystemExit(f"README.md: expected one {START} before one {END}")
    head, rest = readme.split(START)
    return f"{head}{START}\n```\n{excerpt}\n```\n{END}{rest.split(END)[1]}"


def write_atomic(path: Path, data: bytes) -> None:
    """``data`` into ``path`` through a temporary file beside it, renamed into place."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        tmp.write(data)
    os.chmod(tmp.name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
    os.replace(tmp.name, path)


def opening_on(html: str, category: str, subcategory: str) -> str:
    """The report's HTML with a script that opens it on the first result of ``category`` > ``subcategory``."""
    view = (f"const path = categories[{json.dumps(category)}][{json.dumps(subcategory)}][0];"
            f" app.setView({{navbarMode: 'subcategory', category: {json.dumps(category)},"
            f" subcategory: {json.dumps(subcategory)}, content: 'img', contentPath: results[path].data_uri,"
            f" resultPath: path}});")
    script = f'<script>window.addEventListener("load", () => setTimeout(() => {{ {view} }}, 200));</script>'
    end = html.rindex("</body>")
    return html[:end] + script + html[end:]


def screenshot(report: Path, png: Path) -> None:
    """A 1400 x 1000 screenshot of ``report`` opened on VIEW, written to ``png``."""
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp:
        page, shot = Path(tmp) / "report.html", Path(tmp) / "report.png"
        page.write_text(opening_on(report.read_text(encoding="utf-8"), *VIEW), encoding="utf-8")
        command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--screenshot={shot}",
                   page.as_uri()]
        out = subprocess.run(command, capture_output=True, text=True, timeout=180)
        if not shot.is_file() or shot.stat().st_size == 0:
            raise SystemExit(f"{browser} wrote no screenshot of {report}:\n{out.stderr[-2000:]}")
        write_atomic(png, shot.read_bytes())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, help="a tables/mnist.md written by the README's main command")
    parser.add_argument("--rows", type=int, default=6, help="rows of the table to show (default 6)")
    parser.add_argument("--report", type=Path, help="a report.html of the same run, for docs/figures/report.png")
    args = parser.parse_args(argv)
    if args.table is None and args.report is None:
        parser.error("give --table, --report or both")
    for path in (args.table, args.report):
        if path is not None and not path.is_file():
            parser.error(f"{path}: no such file (run the commands in this script's docstring first)")
    if args.table is not None:
        excerpt = table_excerpt(args.table.read_text(encoding="utf-8"), args.rows)
        write_atomic(README, with_excerpt(README.read_text(encoding="utf-8"), excerpt).encode("utf-8"))
        print(f"README.md: example rewritten from {args.table}")
    if args.report is not None:
        screenshot(args.report, SCREENSHOT)
        print(f"{SCREENSHOT.relative_to(ROOT)}: screenshot of {args.report}")


if __name__ == "__main__":
    sys.exit(main())
