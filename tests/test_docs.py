"""The README stays short and is the way in: at most 200 lines, every page of docs/ linked from it, and every
relative link of README.md and docs/*.md (files, images, #anchors) pointing at something that exists. The command
line's help agrees with the docs: the sub-commands of `hmogbench --help` are the rows of docs/commands.md's table,
the top-level description names them all, and every option has a help text."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)


def links(markdown: str) -> list[str]:
    """The link targets of a Markdown text, code blocks and code spans left out."""
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return LINK.findall(re.sub(r"`[^`\n]*`", "", prose))


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return {anchor(h) for h in re.findall(r"^#{1,6} (.+)$", prose, re.M)}


def test_the_readme_is_at_most_200_lines():
    count = len(README.read_text(encoding="utf-8").splitlines())
    assert count <= 200, f"README.md has {count} lines; move detail to a page in docs/ (at most 200)"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / target.split("#")[0]).resolve() for target in links(README.read_text(encoding="utf-8"))}
    missing = [str(p.relative_to(ROOT)) for p in PAGES if p.resolve() not in linked]
    assert PAGES and not missing, f"README.md links to no {missing}"


@pytest.mark.parametrize("document", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_something_that_exists(document):
    broken = []
    for target in links(document.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not file.exists():
            broken.append(f"{target} (no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file})")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file.read_text(encoding="utf-8")):
            broken.append(f"{target} (no heading with anchor #{fragment} in {file.relative_to(ROOT)})")
    assert not broken, f"{document.relative_to(ROOT)}: broken links: {broken}"


def test_the_link_checker_sees_links_and_anchors():
    assert links("a [x](docs/a.md#b) ![i](f.png) `[no](c.md)`\n```\n[no](d.md)\n```") == ["docs/a.md#b", "f.png"]
    assert anchor("Set-up on a fresh machine") == "set-up-on-a-fresh-machine"
    assert anchor("Metrics: `hmogbench score` (thesis 2.5, 5.2.4)") == "metrics-hmogbench-score-thesis-25-524"


# --- the command line's help and the docs' command table agree ---------------------------------------------------


def _subcommands(parser) -> dict[str, object]:
    """{'params': parser, 'data check': parser, ...}: every sub-command (and sub-sub-command) of ``parser``."""
    import argparse

    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _subcommands(sub)
                found.update({f"{name} {k}": v for k, v in nested.items()} if nested else {name: sub})
    return found


def _documented_commands() -> set[str]:
    """The commands of the table in docs/commands.md: `hmogbench WORD [WORD]`, the second word kept where the
    first has sub-commands of its own (`data check`)."""
    from hmogbench.cli import build_parser

    grouped = {name.split()[0] for name in _subcommands(build_parser()) if " " in name}
    rows = re.findall(r"^\| `hmogbench ([\w-]+)(?: ([\w-]+))?", (ROOT / "docs" / "commands.md").read_text(), re.M)
    return {f"{first} {second}" if first in grouped else first for first, second in rows}


def test_the_docs_command_table_lists_every_subcommand_of_the_help():
    from hmogbench.cli import build_parser

    parser = build_parser()
    assert set(_subcommands(parser)) == _documented_commands()
    description = parser.description
    tops = {name.split()[0] for name in _subcommands(parser)}
    assert "`" not in description and all(re.search(rf"\b{name}\b", description) for name in tops), description


def test_every_option_of_every_subcommand_has_a_help_text():
    import argparse

    from hmogbench.cli import build_parser

    missing = [f"hmogbench {name} {action.option_strings[0] if action.option_strings else action.dest}"
               for name, parser in _subcommands(build_parser()).items() for action in parser._actions
               if not isinstance(action, (argparse._HelpAction, argparse._VersionAction)) and not action.help]
    assert not missing, f"options without help: {missing}"
