"""Tests for optimiser.inputs.yamlsource: safe YAML reading with line numbers."""

from __future__ import annotations

import contextlib
import math
import os
import pathlib
import shutil
import sys
import tempfile
from collections.abc import Iterator

import pytest

from optimiser.errors import InstanceError
from optimiser.inputs import yamlsource
from optimiser.inputs.yamlsource import Source, dotted, parse_yaml, read_yaml

VALID = """\
# a comment
name: Poole - older people
start_year: 2010
streams:
  adult_social_care:
    agency: dorset_cc
    budget: [100, 200,
      300]
interventions:
  night_contact:
    max_units: 2000
    effects: {admissions_avoided: 0.5}
    lag: .inf
    note: null
    on_call: yes
"""


def write(tmp_path: pathlib.Path, text: str | bytes, name: str = "inst.yaml") -> pathlib.Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def fails(path: pathlib.Path, line: int | None, *words: str) -> InstanceError:
    with pytest.raises(InstanceError) as info:
        read_yaml(path)
    err = info.value
    text = str(err)
    assert len(err.problems) == 1
    assert str(path) in text
    assert err.problems[0].line == line, text
    if line is not None:
        assert f"line {line}" in text
    for word in words:
        assert word in text, text
    return err


def test_valid_file_round_trips_with_lines(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, VALID)
    src = read_yaml(path)
    assert isinstance(src, Source)
    assert src.file == str(path)
    assert src.data == {
        "name": "Poole - older people",
        "start_year": 2010,
        "streams": {"adult_social_care": {"agency": "dorset_cc", "budget": [100, 200, 300]}},
        "interventions": {
            "night_contact": {
                "max_units": 2000,
                "effects": {"admissions_avoided": 0.5},
                "lag": math.inf,
                "note": None,
                "on_call": True,
            }
        },
    }
    assert src.lines[("name",)] == 2
    assert src.lines[("streams", "adult_social_care")] == 5
    assert src.lines[("streams", "adult_social_care", "budget")] == 7
    assert src.lines[("streams", "adult_social_care", "budget", 0)] == 7
    assert src.lines[("streams", "adult_social_care", "budget", 2)] == 8
    assert src.lines[("interventions", "night_contact", "max_units")] == 11
    assert src.lines[("interventions", "night_contact", "effects", "admissions_avoided")] == 12
    # a path the file does not have falls back to its nearest ancestor
    assert src.line(("interventions", "night_contact", "min_units")) == 10
    assert src.line(("nope", "deeper")) == 2  # the root mapping starts on line 2
    problem = src.problem(("streams", "adult_social_care", "budget", 2), "must not exceed 250")
    assert problem.path == "streams.adult_social_care.budget[2]"
    assert str(problem) == (
        f"{path}, line 8, at streams.adult_social_care.budget[2]: must not exceed 250"
    )


def test_dotted() -> None:
    assert dotted(("a", "b", 2)) == "a.b[2]"
    assert dotted(("streams", "x", "budget", 2, "y")) == "streams.x.budget[2].y"
    assert dotted(()) == ""
    assert dotted((0, "a")) == "[0].a"


def test_parse_yaml_from_text() -> None:
    src = parse_yaml("a: 1\nb:\n  - x\n", "inline.yaml")
    assert src.data == {"a": 1, "b": ["x"]}
    assert src.lines[("b", 0)] == 3
    with pytest.raises(InstanceError, match=r"inline\.yaml, line 2"):
        parse_yaml("a: 1\na: 2\n", "inline.yaml")


def test_scalar_keys_keep_their_python_value(tmp_path: pathlib.Path) -> None:
    src = read_yaml(write(tmp_path, "m:\n  2010: a\n  x: b\n"))
    assert src.data == {"m": {2010: "a", "x": "b"}}
    assert src.lines[("m", 2010)] == 2


def test_anchors_and_merge_keys(tmp_path: pathlib.Path) -> None:
    text = """\
base: &base {unit_cost: 10, lag: 1}
extra: &extra {lag: 5, deadweight: 0.1}
interventions:
  a:
    <<: [*base, *extra]
    lag: 2
  b: *base
"""
    src = read_yaml(write(tmp_path, text))
    assert src.data["interventions"]["a"] == {"unit_cost": 10, "lag": 2, "deadweight": 0.1}
    assert src.data["interventions"]["b"] == {"unit_cost": 10, "lag": 1}
    assert src.lines[("interventions", "a", "lag")] == 6
    assert src.lines[("interventions", "a", "unit_cost")] == 1  # where the merged value is written
    assert src.lines[("interventions", "b", "lag")] == 1
    assert list(src.data["interventions"]["a"]) == ["unit_cost", "deadweight", "lag"]


def test_two_merge_keys(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, "x: &x {a: 1}\ny:\n  <<: *x\n  <<: *x\n"), 4, "two merge keys")


def test_missing_file(tmp_path: pathlib.Path) -> None:
    fails(tmp_path / "absent.yaml", None, "no such file")


def test_directory(tmp_path: pathlib.Path) -> None:
    fails(tmp_path, None, "directory")


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """As root (CI may run the suite as root), act as 'nobody' for the block: the effective
    user only, given back at the end, so that file permissions apply to root too."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        yield
        return
    import pwd  # POSIX only

    os.seteuid(pwd.getpwnam("nobody").pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.mark.skipif(sys.platform == "win32", reason="no POSIX file permissions on Windows")
def test_unreadable_file() -> None:
    # pytest's own temporary folders are open to their owner only; 'nobody' must reach the
    # file, so that the one thing refused is the reading of it.
    folder = pathlib.Path(tempfile.mkdtemp())
    folder.chmod(0o755)
    try:
        path = write(folder, "name: x\n")
        readable = write(folder, "name: x\n", "readable.yaml")
        path.chmod(0)
        assert read_yaml(readable).data == {"name": "x"}  # loads what it needs lazily first
        with unprivileged():
            assert read_yaml(readable).data == {"name": "x"}  # the folder is reachable
            fails(path, None, "cannot read")
    finally:
        shutil.rmtree(folder)


def test_read_error(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "name: x\n")

    def refuse(*args: object) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(yamlsource.os, "open", refuse)
    fails(path, None, "cannot read the file", "Permission denied")


@pytest.mark.parametrize("text", ["", "   \n\t\n", "# only a comment\n\n# another\n", "---\n"])
def test_empty_file(tmp_path: pathlib.Path, text: str) -> None:
    fails(write(tmp_path, text), None, "the file is empty")


def test_binary_file(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, b"name: x\n\x00\x01\x02"), None, "not a text file")


def test_not_utf8(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, b"name: x\ncurrency: \xa3\n"), 2, "not a text file", "UTF-8")


def test_control_character(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, "name: x\nnote: a\x07b\n"), 2, "not a text file")


def test_too_large(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(4 * 1024 * 1024 + 1)  # sparse: cheap to make
    fails(path, None, "larger than 4 MB")


def test_syntax_error(tmp_path: pathlib.Path) -> None:
    fails(
        write(tmp_path, "name: x\nstreams:\n  a: [1, 2\n  b: 3\nc: }\n"),
        4,
        "invalid YAML",
        "a '[' list (opened on line 3) is not closed",
    )


def test_bad_indentation(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, "name: x\n  years: 5\n"), 2, "invalid YAML", "indented more")


def test_several_documents(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, "name: x\n---\nname: y\n"), 2, "a second document")


# (case, text, line named, plain words the message must hold): the writer's mistakes, each
# said in plain words with what to do, never in the parser's words
SYNTAX = [
    ("indented under a complete line", "name: x\nagencies:\n  a: {name: A}\n    b: {name: B}\n",
     4, ["indented more than the one before it", "does not open a block", "end the line "
         "before with ':'"]),
    ("indented under a value", "name: x\nyears: 5\n  start_year: 2010\n", 3,
     ["indented more than the one before it", "already has its value"]),
    ("dedented to no block", "agencies:\n    a:\n      name: A\n  b:\n      name: B\n", 4,
     ["indented 2 spaces", "lines up with no key above it", "0, 4 or 6 spaces"]),
    ("tab", "name: x\nagencies:\n\ta: {name: A}\n", 3, ["tab character", "spaces only"]),
    ("unclosed quote", 'name: x\ndescription: "older\nyears: 5\n', 2,
     ["quote opened on this line is never closed"]),
    ("unclosed brace", "agencies:\n  a: {name: A\n  b: {name: B}\n", 3,
     ["'{' mapping (opened on line 2) is not closed", "close it with '}'"]),
    ("missing comma", "savings: {acute: 900 dorset: 5}\n", 1,
     ["no ',' between them"]),
    ("list item among keys", "agencies:\n  a: 1\n- b\n", 3,
     ["a list item ('- ...') where a key was expected"]),
    ("colon in a value", "name: Poole: older people\n", 1,
     ["a ': ' inside a value", "put the value in quotes"]),
    ("no colon", "name: x\nyears\nstart_year: 1\n", 2, ["has no ':' after its key"]),
    ("key after a list", "a:\n  - 1\n  b: 2\n", 3,
     ["a key where the next list item ('- ...') was expected"]),
    ("text after a quote", "name: 'a'b\n", 1, ["after a closing quote", "inside the quotes"]),
    ("dash in brackets", "x: [a, - b]\n", 1, ["separated by commas, without '-'"]),
    ("starts with @", "name: @home\n", 1, ["cannot start with '@'", "quotes"]),
    ("undefined alias", "name: *foo\n", 1, ["refers to an anchor", "quotes"]),
]


@pytest.mark.parametrize(("case", "text", "line", "words"), SYNTAX, ids=[c[0] for c in SYNTAX])
def test_yaml_syntax_errors_in_plain_words(tmp_path: pathlib.Path, case: str, text: str,
                                           line: int, words: list[str]) -> None:
    err = fails(write(tmp_path, text), line, "invalid YAML", *words)
    for jargon in ("while parsing", "while scanning", "<block end>", "block mapping",
                   "expected <", "token", "flow sequence", "flow mapping"):
        assert jargon not in str(err), str(err)


@pytest.mark.parametrize(
    ("text", "found"), [("- a\n- b\n", "found a list"), ("just text\n", "found a single value")]
)
def test_top_level_not_mapping(tmp_path: pathlib.Path, text: str, found: str) -> None:
    fails(write(tmp_path, text), 1, "top level must be a mapping", found)


def test_duplicate_key(tmp_path: pathlib.Path) -> None:
    text = "name: x\nagencies:\n  a: {name: A}\n  b: {name: B}\n  a: {name: C}\n"
    fails(write(tmp_path, text), 5, "duplicate key 'a'", "line 3", "line 5")


def test_mapping_as_key(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, "name: x\nm:\n  ? [1, 2]\n  : v\n"), 3, "key must be a plain value")


@pytest.mark.parametrize(
    ("text", "line", "tag"),
    [
        ("name: x\ncmd: !!python/object/apply:os.system ['echo hi']\n", 2, "!!python/object"),
        ("name: x\nagencies:\n  a: !custom {name: A}\n", 3, "!custom"),
        ("name: x\nitems: !!set {a, b}\n", 2, "!!set"),
        ("name: x\nb: !!binary aGVsbG8=\n", 2, "!!binary"),
        ("name: x\n? !custom k\n: v\n", 2, "!custom"),
    ],
)
def test_non_core_tags(tmp_path: pathlib.Path, text: str, line: int, tag: str) -> None:
    fails(write(tmp_path, text), line, tag, "not allowed")


def test_python_tag_runs_nothing(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "ran"
    text = f'name: x\ncmd: !!python/object/apply:os.system ["touch {marker}"]\n'
    fails(write(tmp_path, text), 2, "!!python/object/apply:os.system")
    assert not marker.exists()


def test_bad_explicit_core_tag(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, "name: x\nyears: !!int five\n"), 2, "'five' is not a valid !!int")


def test_dates_rejected(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, "name: x\nstart_year: 2010-04-01\n"), 2, "dates are not allowed")


def test_billion_laughs_fails_fast(tmp_path: pathlib.Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    path = write(tmp_path, "\n".join(lines) + "\n")  # expands to 9**9 = 387 million values
    # No timing here (the machine is shared): stopping at the value limit is what
    # keeps it fast, and the message says the limit was hit.
    with pytest.raises(InstanceError) as info:
        read_yaml(path)
    text = str(info.value)
    assert str(path) in text
    assert "too many values (alias bomb?)" in text
    assert info.value.problems[0].line in range(1, 10)


@pytest.mark.parametrize(
    "text", ["name: x\nloop: &a [1, *a]\n", "name: x\nloop: &a {k: 1, <<: *a}\n"]
)
def test_recursive_alias(tmp_path: pathlib.Path, text: str) -> None:
    fails(write(tmp_path, text), 2, "recursive alias")


def test_merge_of_non_mapping(tmp_path: pathlib.Path) -> None:
    fails(write(tmp_path, "name: x\nm:\n  <<: [1, 2]\n"), 3, "merges mappings only")


def test_deep_nesting_in_text(tmp_path: pathlib.Path) -> None:
    depth = 5000
    fails(write(tmp_path, "a: " + "[" * depth + "]" * depth + "\n"), 1, "nested too deeply")


def test_deep_nesting_through_aliases(tmp_path: pathlib.Path) -> None:
    lines = ["a0: &a0 " + "[" * 60 + "1" + "]" * 60]
    for i in range(1, 4):
        lines.append(f"a{i}: &a{i} " + "[" * 60 + f"*a{i - 1}" + "]" * 60)
    # reported where the too-deep value is written (inside a0), at a short path
    err = fails(write(tmp_path, "\n".join(lines) + "\n"), 1, "nested too deeply")
    assert err.problems[0].path == "a1[0][0]"


def test_deep_chain_of_merges(tmp_path: pathlib.Path) -> None:
    lines = ["a0: &a0 {x: 1}"] + [f"a{i}: &a{i} {{<<: *a{i - 1}}}" for i in range(1, 500)]
    fails(write(tmp_path, "\n".join(lines) + "\n"), 1, "nested too deeply")


def _tree(node: object) -> object:
    """A node tree as plain tuples: tag, value or children, line and column of each node
    (and a scalar's quoting style, plain written '' by libyaml and None by PyYAML)."""
    import yaml

    assert isinstance(node, yaml.Node)
    mark = (node.tag, node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.ScalarNode):
        return (*mark, node.value, node.style or None)
    if isinstance(node, yaml.SequenceNode):
        return (*mark, [_tree(child) for child in node.value])
    return (*mark, [(_tree(k), _tree(v)) for k, v in node.value])


def test_libyaml_composes_the_same_nodes_as_pyyaml() -> None:
    """The fast path (libyaml's parser and composer) gives every shipped instance, every
    instance of the tests' data and this file's VALID the very nodes, tags and lines that
    PyYAML's own parser and composer give."""
    import yaml

    from optimiser.inputs.yamlsource import _CLoader, _CParser, _Loader

    if _CParser is None:
        pytest.skip("PyYAML without libyaml 0.2.6 or later")
    root = pathlib.Path(__file__).resolve().parents[1]
    paths = [*sorted((root / "instances").rglob("*.yaml")),
             *sorted((root / "tests" / "data").rglob("*.yaml"))]
    texts = [VALID, "a: 1e6\nb: [1, {c: &x 2}, *x]\n<<: {d: 3}\n"] + [
        p.read_text(encoding="utf-8") for p in paths]
    compared = 0
    for text in texts:
        try:
            ours = _tree(yaml.compose(text, Loader=_Loader))
        except yaml.YAMLError:
            continue  # a file of the tests that is not YAML
        assert _tree(yaml.compose(text, Loader=_CLoader)) == ours
        compared += 1
    assert compared >= 30


def test_depth_counted_as_the_composer_counts_it() -> None:
    """`_within_depth` on libyaml's tree refuses exactly what `_Composer` refuses: the
    root is at depth 1, a node at MAX_DEPTH is kept and one below it refused, an alias
    counts where it is written (not again beneath it), and a recursive alias ends."""
    import yaml

    from optimiser.inputs.yamlsource import MAX_DEPTH, _CLoader, _CParser, _Loader, _TooDeep

    if _CParser is None:
        pytest.skip("PyYAML without libyaml 0.2.6 or later")
    from optimiser.inputs.yamlsource import _within_depth

    def nested(levels: int, tail: str = "1") -> str:  # `levels` nodes down to the scalar
        return "[" * (levels - 1) + tail + "]" * (levels - 1)

    cases = {nested(MAX_DEPTH): True, nested(MAX_DEPTH + 1): False,
             f"a: &x {nested(MAX_DEPTH - 1)}\nb: *x\n": True,  # b's alias at depth 2
             f"a: &x [1]\nb: {nested(MAX_DEPTH - 1, '*x')}\n": True,  # the alias at 100
             f"a: &x [1]\nb: {nested(MAX_DEPTH, '*x')}\n": False,  # the alias at 101
             "a: &x [1, *x]\n": True,
             nested(MAX_DEPTH, "[]"): True, nested(MAX_DEPTH + 1, "[]"): False,  # empty
             f"a: {nested(MAX_DEPTH - 1)}\n": True, f"a: {nested(MAX_DEPTH)}\n": False,
             f"? {nested(MAX_DEPTH - 1)}\n: 1\n": True,  # a list as a key, at depth 2
             f"? {nested(MAX_DEPTH)}\n: 1\n": False,
             f"a: {nested(MAX_DEPTH - 2, '{b: 1}')}\n": True,  # b's 1 at depth 100
             f"a: {nested(MAX_DEPTH - 1, '{b: 1}')}\n": False,
             f"a: {nested(MAX_DEPTH - 1, '{}')}\nb: [" + "1, " * 50 + "]\n": True}
    for text, kept in cases.items():
        assert _within_depth(yaml.compose(text, Loader=_CLoader)) is kept, text
        if kept:
            yaml.compose(text, Loader=_Loader)
        else:
            with pytest.raises(_TooDeep):
                yaml.compose(text, Loader=_Loader)


def test_very_deep_nesting_is_refused_not_a_crash(tmp_path: pathlib.Path) -> None:
    """libyaml's own composer recurses in C and would crash on this; ours counts."""
    depth = 200_000
    fails(write(tmp_path, "a: " + "[" * depth + "]" * depth + "\n"), 1, "nested too deeply")


# A long text (past REPARSE_CHARS) is checked as libyaml parses it and its YAML errors are
# worded without PyYAML's pure-Python parser reading all of it (which took 30-40 s and up
# to 1.3 GB on a 4 MB file): these make such texts in memory, a little past the limit, and
# make the slow path fail the test if it is taken.

def _long(body: str, lines: int = 7_000) -> str:
    """`lines` keys ('  k0: text number 0' ...) under 'values:' (line 2 on), then `body`:
    past REPARSE_CHARS, each key line 20-26 characters."""
    from optimiser.inputs.yamlsource import REPARSE_CHARS

    keys = "".join(f"  k{i}: text number {i}\n" for i in range(lines))
    text = "name: x\nvalues:\n" + keys + body
    assert len(text) > REPARSE_CHARS
    return text


def _python_parser_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(stream: str) -> None:
        raise AssertionError(f"PyYAML's own parser read {len(stream)} characters")

    monkeypatch.setattr(yamlsource, "_Loader", refuse)


def _libyaml_composer_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object) -> None:
        raise AssertionError("libyaml composed a tree")

    monkeypatch.setattr(yamlsource._CLoader, "get_single_node", refuse)


needs_libyaml = pytest.mark.skipif(yamlsource._CParser is None,
                                   reason="PyYAML without libyaml 0.2.6 or later")


@needs_libyaml
@pytest.mark.parametrize(
    ("body", "words"),
    [("   bad: indent\n", ["indented more than the one before it", "already has its value"]),
     ("    deeper: {a: 1}\n  k: 1\n", ["indented more than the one before it",
                                     "already has its value"]),
     ("\tk: 1\n", ["a tab character"]),
     ("  - item\n", ["a list item ('- ...') where a key was expected"]),
     ("  k: 'a'b\n", ["text after a value that is already complete"]),
     ("  k: [1, 2\n  j: 3\n", ["a '[' list (opened on line 7003) is not closed"])])
def test_long_text_error_at_its_end_in_plain_words_without_pyyaml(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, body: str,
        words: list[str]) -> None:
    # 'name: x', 'values:' and 7,000 key lines: the body starts on line 7,003; the error
    # is named on its first line, or (the list) where the key after it starts, line 7,004
    line = 7_004 if "[1, 2" in body else 7_003
    path = write(tmp_path, _long(body))
    _python_parser_is_not_used(monkeypatch)
    err = fails(path, line, "invalid YAML", *words)
    for jargon in ("while parsing", "did not find", "expected <", "in this context"):
        assert jargon not in str(err), str(err)


@needs_libyaml
def test_long_text_error_near_its_start_read_again_only_to_the_line_after(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error on line 2 of a long text is worded by PyYAML itself, as on a short file,
    from the text up to the end of line 3 only (31 characters)."""
    read: list[int] = []
    pyyaml_loader = yamlsource._Loader

    def loader(stream: str) -> object:
        read.append(len(stream))
        return pyyaml_loader(stream)

    monkeypatch.setattr(yamlsource, "_Loader", loader)
    path = write(tmp_path, "name: x\n  years: 5\n" + _long(""))
    fails(path, 2, "invalid YAML", "indented more than the one before it",
          "already has its value")
    assert read == [len("name: x\n  years: 5\nname: x\n")]


@needs_libyaml
def test_long_text_too_many_values_refused_before_any_tree(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values are counted as libyaml parses, in the order written: the root mapping is
    value 1, the key 'name' 2, 'x' 3, the key 'values' 4, its list 5 and its item i
    value 6 + i. With a limit of 10,000, value 10,001 is item 9,995, written on line
    3 + 9,995 = 9,998; neither libyaml's tree nor PyYAML's is ever built."""
    monkeypatch.setattr(yamlsource, "MAX_VALUES", 10_000)
    path = write(tmp_path, "name: x\nvalues:\n" + "  - 1\n" * 30_000)  # 180 KB
    _python_parser_is_not_used(monkeypatch)
    _libyaml_composer_is_not_used(monkeypatch)
    err = fails(path, 9_998, "the file expands to too many values (alias bomb?); "
                "limit 10000")
    assert err.problems[0].path == "values[9995]"


@needs_libyaml
def test_long_text_merged_values_not_counted_before_the_builder(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What is written in a merge ('<<: {...}') is not counted ahead, since the builder
    does not build a merged value its mapping writes again. Here, with 3,000 keys: the
    builder counts the root, 'm', m's mapping, its 3,000 keys and values, the merged
    mapping and its 3,000 keys: 3 + 6,000 + 1 + 3,000 = 9,004 values, within a limit
    of 10,000, while the text holds 12,005 nodes (also '<<' and the 3,000 merged 1s)."""
    monkeypatch.setattr(yamlsource, "MAX_VALUES", 10_000)
    keys = range(3_000)
    merged = ", ".join(f"k{i}: 1" for i in keys)
    written = ", ".join(f"k{i}: 2" for i in keys)
    text = "#" + " " * 140_000 + "\n" + f"m: {{<<: {{{merged}}}, {written}}}\n"
    src = read_yaml(write(tmp_path, text))
    assert src.data == {"m": {f"k{i}": 2 for i in keys}}
    monkeypatch.setattr(yamlsource, "MAX_VALUES", 9_003)
    err = fails(write(tmp_path, text), 2, "too many values")
    assert err.problems[0].path == "m.k2999"  # the builder's last value: the 9,004th


@needs_libyaml
def test_long_text_nested_too_deeply_on_the_composers_line(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'z: ' then one '[' a line: the list opened on line n of the body is at depth n + 1
    (the root mapping 1, z's list 2), so the first node deeper than 100 is the list opened
    on the body's line 100, after 'name: x', 'values:' and 7,000 key lines: line 7,102.
    Also for 1,200 levels, past libyaml's own limit of 1,000 (it stops there, reading
    ahead of its parser)."""
    for levels in (150, 1_200):
        body = "z: " + "[\n" * levels + "]" * levels + "\n"
        path = write(tmp_path, _long(body))
        with monkeypatch.context() as patch:
            _python_parser_is_not_used(patch)
            _libyaml_composer_is_not_used(patch)
            fails(path, 7_102, "nested too deeply (more than 100 levels)")
        # the same text without the keys: PyYAML's own composer, on a short text
        fails(write(tmp_path, "name: x\n" + body), 101, "nested too deeply")


def test_libyaml_errors_in_pyyaml_words_are_worded_as_pyyaml_errors() -> None:
    """For every mistake of SYNTAX and a few more, libyaml's error, said in PyYAML's words,
    gets the very line and message `plain_yaml_error` gives PyYAML's own error."""
    import yaml

    from optimiser.inputs.yamlsource import (
        _CLoader,
        _CParser,
        _in_pyyaml_words,
        _Loader,
        plain_yaml_error,
    )

    if _CParser is None:
        pytest.skip("PyYAML without libyaml 0.2.6 or later")
    more = ["name: x\nagencies: {a: [1, 2}\n", "name: x\n---\nname: y\n",
            'a: "\\ud800"\n', "a: &x 1\nb: &x 2\nc: *x\n", "%x: 1\n", "a: & b\n",
            'a:\n  b: 1\n    "c": 2\n', "a:\n  b: 1\n  - c\n", "a: [b: c d: e]\n", "a: 1\n}\n",
            "- a\nb\n", "a:\n  - 1\n  'b': 2\n", "a: {b: 1\n"]
    for text in [case[1] for case in SYNTAX] + more:
        with pytest.raises(yaml.MarkedYAMLError) as pyyaml:
            yaml.compose(text, Loader=_Loader)
        with pytest.raises(yaml.MarkedYAMLError) as libyaml:
            yaml.compose(text, Loader=_CLoader)
        ours = plain_yaml_error(_in_pyyaml_words(libyaml.value, text), text)
        assert ours == plain_yaml_error(pyyaml.value, text), text
