"""The repository stands alone: every citation points into docs/, and every anchor exists.

Instances, READMEs, tests, benchmarks and code cite the contract and the sources as
`docs/<file>.md#<anchor>` (or, inside docs/ and instances/README.md, as relative
Markdown links). Each anchor must be the GitHub anchor of a heading in that file, and
nothing may point at the project's old notes outside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CITING = [ROOT / "README.md", *sorted(p for p in (ROOT / "instances").rglob("*") if p.is_file()),
          *sorted(DOCS.glob("*.md"))]
CITING += [p for d in ("optimiser", "models", "tests", "benchmarks")
           for p in sorted((ROOT / d).rglob("*")) if p.suffix in {".py", ".yaml", ".md"}]


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    """Every heading anchor of a Markdown file (code blocks skipped; repeats get -1, -2)."""
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        base = github_anchor(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def citations(path: Path) -> list[tuple[Path, str]]:
    """(cited file, anchor) for every `docs/x.md#a` in a file, and in docs/ every relative link."""
    text = path.read_text(encoding="utf-8")
    found = [(DOCS / f, a) for f, a in re.findall(r"docs/([a-z]+\.md)#([\w-]+)", text)]
    if path.parent == DOCS:
        found += [(DOCS / f, a) for f, a in re.findall(r"\]\(([a-z]+\.md)#([\w-]+)\)", text)]
        found += [(path, a) for a in re.findall(r"\]\(#([\w-]+)\)", text)]
    return found


def test_docs_exist() -> None:
    for name in ("contract.md", "sources.md", "performance.md"):
        assert (DOCS / name).is_file(), name


@pytest.mark.parametrize("path", CITING, ids=lambda p: str(p.relative_to(ROOT)))
def test_citations_resolve(path: Path) -> None:
    if path == Path(__file__).resolve():
        return
    for doc, anchor in citations(path):
        assert doc.is_file(), f"{path.name} cites {doc.name}, which is not in docs/"
        assert anchor in anchors(doc), f"{path.name} cites {doc.name}#{anchor}: no such heading"


@pytest.mark.parametrize("path", CITING, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_citation_outside_the_repository(path: Path) -> None:
    if path == Path(__file__).resolve():
        return
    text = path.read_text(encoding="utf-8")
    old = ("shar" + "ed/", "FIGURES" + ".md", "SPEC" + ".md", "PERF" + "-NOTES", r"[Ss]eeds? \d{3}")
    for pattern in old:
        assert not re.search(pattern, text), f"{path.name} still cites {pattern}"
