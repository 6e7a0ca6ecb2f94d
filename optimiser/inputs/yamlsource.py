"""Read a YAML instance safely into plain Python data, remembering the line of every value.

PyYAML only composes the node tree (nothing is ever constructed from a tag); this module
builds the dicts, lists and scalars itself, so it can record lines, refuse non-core tags,
duplicate keys and dates, and stop alias bombs, recursive aliases and very deep nesting.

Merge keys (``<<: *base`` or ``<<: [*a, *b]``) work as in YAML 1.1: keys written in the
mapping win over merged ones, and earlier merged mappings win over later ones.
"""

from __future__ import annotations

import os
import pathlib
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from optimiser.errors import InstanceError, Problem
from optimiser.inputs.named import NamedFigure, Use

Path = tuple[str | int, ...]

MAX_BYTES = 4 * 1024 * 1024
"""The largest instance file (a place the size of Birmingham is about 35 KB): a larger
one is refused before it is read, so no file takes long to refuse."""
MAX_VALUES = 200_000
MAX_DEPTH = 100
REPARSE_CHARS = 128 * 1024
"""The most text PyYAML's pure-Python parser reads (again) to word a YAML error: about
18 microseconds a value, so at most about 2 s of CPU even for values as dense as '1,'
(a place the size of Birmingham is about 35 KB, one 3.5 times its size 120 KB). A longer
text is checked as libyaml parses it (`_refuse_early`) and its errors are worded from a
prefix of it or from libyaml's own message (`_pyyaml_error`): a 4 MB file with an error at
its end took 30-40 s and up to 1.3 GB to refuse when PyYAML read all of it again."""
MAX_INT_BITS = 1024
"""The widest integer read (a float's range, about 1.8e308): no figure is larger, and a
wider one could not even be printed in a message (Python writes at most 4,300 digits)."""

_CORE = "tag:yaml.org,2002:"
_MAP, _SEQ, _MERGE, _TIMESTAMP = (_CORE + t for t in ("map", "seq", "merge", "timestamp"))
_MERGE_KEY = object()  # stands for a `<<` key in a mapping's list of entries
_STR = _CORE + "str"
_NUMBERS = (_CORE + "int", _CORE + "float")
_CTOR = yaml.constructor.SafeConstructor()
_SCALARS: dict[str, Callable[[ScalarNode], Any]] = {
    _CORE + "str": _CTOR.construct_yaml_str,
    _CORE + "int": _CTOR.construct_yaml_int,
    _CORE + "float": _CTOR.construct_yaml_float,
    _CORE + "bool": _CTOR.construct_yaml_bool,
    _CORE + "null": _CTOR.construct_yaml_null,
    _MERGE: _CTOR.construct_yaml_str,  # `<<` anywhere but a mapping key is just text
}


def dotted(path: Sequence[str | int]) -> str:
    """Render a path for people: ``("a", "b", 2)`` -> ``"a.b[2]"``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Cell:
    """Where a value read from a spreadsheet table sits: file, sheet, row and column."""

    file: str
    sheet: str | None  # None for a CSV file
    row: int  # as the spreadsheet counts: the header is row 1
    column: str | None = None  # e.g. "D (unit_cost)"; None for the whole row

    def problem(self, path: Sequence[str | int], message: str, column: str | None = None
                ) -> Problem:
        """A Problem about ``path`` at this cell (or at `column` of its row)."""
        return Problem(self.file, dotted(path), None, message, self.sheet, self.row,
                       column or self.column)


@dataclass(frozen=True)
class Source:
    """An instance file's plain data, with the line of every key, item and scalar.

    Sections read from spreadsheet tables (`optimiser.inputs.tables`) have no lines;
    `cells` says where each of their rows and values sits instead, and
    `tables` holds the SHA-256 of every table file read (and of every figures library).
    `figures` are the named figures defined for it, and `uses` every number written as
    a name or a product of names, by path (`optimiser.inputs.figures`): by then the data
    holds the number itself (a range where a ranged figure is used).
    """

    file: str
    data: dict[str, Any]
    lines: dict[Path, int]
    cells: dict[Path, Cell] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    figures: dict[str, NamedFigure] = field(default_factory=dict)
    uses: dict[Path, Use] = field(default_factory=dict)

    def line(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one; None if none has."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        """A Problem about ``path``, with its dotted path and line, or its table cell."""
        path = tuple(path)
        for end in range(len(path), 0, -1):
            cell = self.cells.get(path[:end])
            if cell is not None:
                rest = path[end:]
                column = None
                if cell.column is None and rest:  # a field the row leaves out, or the id
                    column = "id" if rest[0] == "[key]" else str(rest[0])
                return cell.problem(path, message, column)
        return Problem(self.file, dotted(path), self.line(path), message)


class _TooDeep(Exception):
    """Raised by the composer when the text nests deeper than MAX_DEPTH."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _TooMany(Exception):
    """Raised before composing when the text holds more than MAX_VALUES values."""

    def __init__(self, line: int, path: Path) -> None:
        super().__init__(line, path)
        self.line = line
        self.path = path


def _too_many_values() -> str:
    """The refusal of a file of more than MAX_VALUES values, counted ahead or by the builder."""
    return f"the file expands to too many values (alias bomb?); limit {MAX_VALUES}"


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.1's implicit tags, plus YAML 1.2 floats such as 1e6 (which 1.1 reads as text).

    A node's tag depends only on its kind, its text and how it was written (there are no
    path resolvers), so each is resolved once a file: an instance repeats its keys and
    many of its figures thousands of times."""

    def __init__(self) -> None:
        super().__init__()
        self._resolved: dict[tuple[Any, Any, Any], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """PyYAML's tag for the node, worked out once for each kind, text and writing."""
        if self.yaml_path_resolvers:  # pragma: no cover - none are added here
            return super().resolve(kind, value, implicit)
        key = (kind, value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = self._resolved[key] = super().resolve(kind, value, implicit)
        return tag


_Resolver.add_implicit_resolver(
    _CORE + "float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class _Composer(yaml.composer.Composer):
    """PyYAML's composer, refusing deep nesting before Python's recursion limit."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose one node, counting the depth."""
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_SURROGATE = re.compile("[\ud800-\udfff]")


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _Composer,
              yaml.constructor.SafeConstructor, _Resolver):
    """PyYAML's own reader, scanner and parser (pure Python), with the composer above."""

    def scan_flow_scalar(self, style: Any) -> Any:
        """PyYAML's quoted scalar, refusing what libyaml refuses: an escape ('\\ud800')
        naming half of a character (a surrogate, U+D800 to U+DFFF), which is not text and
        cannot be written to any file."""
        token = super().scan_flow_scalar(style)
        if _SURROGATE.search(token.value):
            raise yaml.scanner.ScannerError(
                "while scanning a double-quoted scalar", token.start_mark,
                "found invalid Unicode character escape code", token.start_mark)
        return token

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


try:  # libyaml's parser and composer, when PyYAML was built with it
    from yaml._yaml import get_version as _libyaml_version
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - a PyYAML without libyaml
    _CParser = None

if _CParser is not None and _libyaml_version() < (0, 2, 6):  # pragma: no cover
    _CParser = None  # before 0.2.6, libyaml's nesting had no limit: its composer could crash
"""libyaml's parser and composer (C), used where its nesting is limited (1,000 levels from
libyaml 0.2.6), so that its composer recursing in C cannot run out of stack."""


class _CLoader(*((_CParser,) if _CParser else ()),  # type: ignore[misc]
               yaml.constructor.SafeConstructor, _Resolver):
    """libyaml's scanner, parser and composer (C, about 3 times faster than `_Loader`'s
    composer on libyaml's events) with the same resolver: the nodes, tags and lines are
    `_Loader`'s; only the depth limit is checked after (`_within_depth`)."""

    def __init__(self, stream: str) -> None:
        _CParser.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


def _within_depth(root: Node | None, limit: int = MAX_DEPTH) -> bool:
    """Whether no node of the tree sits deeper than `limit` as `_Composer` counts depth: the
    root at 1, each node where it is written (an alias where the alias is, not again
    beneath it), in the order written. Only collections go on the stack (a list of a
    million numbers is not copied onto it): a collection with anything in it at `limit`
    is too deep."""
    if root is None or root.__class__ is ScalarNode:
        return limit >= 1
    seen: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, 1)]
    pop, push, add = stack.pop, stack.append, seen.add
    while stack:
        node, depth = pop()
        if id(node) in seen:
            continue
        add(id(node))
        if not node.value:
            continue
        below = depth + 1
        if below > limit:
            return False
        if node.__class__ is MappingNode:
            for key, value in reversed(node.value):  # popped in the order written
                if value.__class__ is not ScalarNode:
                    push((value, below))
                if key.__class__ is not ScalarNode:
                    push((key, below))
        else:
            for child in reversed(node.value):
                if child.__class__ is not ScalarNode:
                    push((child, below))
    return True


def _compose(text: str) -> Node | None:
    """The text's node tree: through libyaml when it is there, the text is printable
    throughout and its tree within the depth limit; on any problem, and otherwise,
    through PyYAML's own parser and `_Composer`, whose messages (and exceptions) are the
    ones users see. A text longer than REPARSE_CHARS goes through `_compose_long`."""
    if _CParser is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return yaml.compose(text, Loader=_Loader)  # a control character: refused at once
    if len(text) > REPARSE_CHARS:
        return _compose_long(text)
    try:
        root = yaml.compose(text, Loader=_CLoader)
    except Exception:  # PyYAML's parser says what is wrong, below
        pass
    else:
        if _within_depth(root):
            return root
    return yaml.compose(text, Loader=_Loader)


def _compose_long(text: str) -> Node | None:
    """A long text's node tree (libyaml's), refused in time and memory bounded by the
    limits rather than by the file: nesting and the number of values are checked as
    libyaml parses, before any tree is built (`_refuse_early`, which also checks the
    depth `_within_depth` checks); a YAML error is raised as PyYAML would word it
    (`_pyyaml_error`), without PyYAML reading the whole text again."""
    try:
        _refuse_early(text)
        return yaml.compose(text, Loader=_CLoader)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in (exc.problem or "") and exc.problem_mark is not None:
            raise _TooDeep(_too_deep_line(text, exc.problem_mark)) from None
        raise _pyyaml_error(exc, text) from None


def _too_deep_line(text: str, mark: yaml.Mark) -> int:
    """The line `_Composer` refuses as too deep in a text libyaml refused at `mark` for
    nesting past its own limit (1,000 levels, far past MAX_DEPTH): libyaml's scanner reads
    ahead of its parser, so it stops before the parser has given the node at depth
    MAX_DEPTH + 1. The text up to the mark, parsed again (`_refuse_early`), gives that node;
    libyaml's mark if it does not (it always should)."""
    try:
        _refuse_early(text[: mark.index])
    except _TooDeep as exc:
        return exc.line
    except yaml.MarkedYAMLError:
        pass
    return mark.line + 1


_NODE_STARTS = (ScalarEvent, AliasEvent, MappingStartEvent, SequenceStartEvent)
_COLLECTION_ENDS = (MappingEndEvent, SequenceEndEvent)
_DOCUMENT_ENDS = (DocumentEndEvent, StreamEndEvent)


def _refuse_early(text: str) -> None:
    """Refuse the first document of `text`, as libyaml parses it (nothing is kept), where
    it is nested too deeply or holds too many values: `_TooDeep` or `_TooMany` at the
    line of the first node past the limit, in the order written.

    Too deep: a node at depth > MAX_DEPTH (the root at 1, every key, value, item and
    alias one below its collection), the very node `_Composer` refuses first.
    Too many: the (MAX_VALUES + 1)-th node written (scalar, alias, list or mapping)
    outside a merge (a '<<' key and its value are not counted). `_Builder` enters each such
    node at least once (an alias again wherever it is used), so its count is at least
    this one: a file refused here would be refused by the builder too, for too many
    values or for a problem it meets first. This costs at most MAX_VALUES events (about
    0.3 s), where libyaml's tree of two million numbers took 656 MB before the builder
    counted."""
    parser = _CLoader(text)
    count, merged_from = 0, 0  # merged_from: the height of an open merged collection
    stack: list[list[Any]] = []  # [path, mapping?, nodes seen in it, last key]
    try:
        while True:
            event = parser.get_event()
            if isinstance(event, _COLLECTION_ENDS):
                stack.pop()
                if len(stack) < merged_from:
                    merged_from = 0
                continue
            if not isinstance(event, _NODE_STARTS):
                if isinstance(event, _DOCUMENT_ENDS):
                    return
                continue
            counted, merge_value, path = True, False, ()
            if stack:
                frame = stack[-1]
                seen = frame[2]
                frame[2] = seen + 1
                if not frame[1]:
                    path = (*frame[0], seen)
                elif seen % 2 == 0:  # a key
                    path = frame[0]
                    scalar = isinstance(event, ScalarEvent)
                    counted = not (scalar and (event.value == "<<" or event.tag == _MERGE))
                    frame[3] = (event.value if scalar else "?") if counted else _MERGE_KEY
                else:
                    merge_value = frame[3] is _MERGE_KEY
                    counted = not merge_value
                    path = (*frame[0], frame[3])
            if len(stack) >= MAX_DEPTH:
                raise _TooDeep(event.start_mark.line + 1)
            if counted and not merged_from:
                count += 1
                if count > MAX_VALUES:
                    raise _TooMany(event.start_mark.line + 1, path)
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                stack.append([path, isinstance(event, MappingStartEvent), 0, None])
                if merge_value and not merged_from:
                    merged_from = len(stack)
    finally:
        parser.dispose()


def _line_end(text: str, line: int, limit: int) -> int | None:
    """Where line `line` (0-based) of the text ends, past its newline; None if past `limit`."""
    end = -1
    for _ in range(line + 1):
        end = text.find("\n", end + 1, limit + 1)
        if end < 0:
            return len(text) if len(text) <= limit else None
    return end + 1


def _pyyaml_error(exc: yaml.MarkedYAMLError, text: str) -> yaml.MarkedYAMLError:
    """The error PyYAML's own parser and composer raise for a long text libyaml refused
    with `exc`, found by PyYAML reading only the text up to the end of the line after
    libyaml's mark, where that is at most REPARSE_CHARS.

    Reading the same characters, PyYAML meets the same error in the same place (nearly
    always: where the two differ, PyYAML's is the one users see on a short file); an error
    it reports on a later line than libyaml's mark is only where the cut text ends, and is
    not taken. Otherwise (the mark further on, or the prefix read clean) it is libyaml's
    own error in PyYAML's words (`_in_pyyaml_words`)."""
    mark = exc.problem_mark or exc.context_mark
    cut = _line_end(text, mark.line + 1, REPARSE_CHARS) if mark is not None else None
    if mark is not None and cut is not None:
        try:
            yaml.compose(text[:cut], Loader=_Loader)
        except yaml.MarkedYAMLError as own:
            own_mark = own.problem_mark or own.context_mark
            if own_mark is not None and own_mark.line <= mark.line:
                return own
    return _in_pyyaml_words(exc, text)


_KEY_AHEAD = re.compile(  # a key (quoted or plain) and its ":"
    r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\[\]{},?:-][^#]*?"""
    r"""|[?:-][^\s#][^#]*?)\s*:(?:\s|$)""")
_ANCHOR = re.compile(r"&([^\s,\[\]{}]+)")


def _found(rest: str, at_indent: bool) -> str:
    """The token PyYAML's scanner finds at the start of `rest` (the text from the mark on),
    as its messages name it: '-' (a list item), '?', '<block mapping start>' (a key where
    its line starts), a bracket or ',', or '<scalar>' (any other text)."""
    if rest[:1] in ("-", "?") and rest[1:2] in ("", " ", "\t", "\r", "\n"):
        return rest[0]
    if at_indent and _KEY_AHEAD.match(rest):
        return "<block mapping start>"
    if rest[:1] in ("[", "]", "{", "}", ","):
        return rest[0]
    return "<scalar>"


def _in_pyyaml_words(exc: yaml.MarkedYAMLError, text: str) -> yaml.MarkedYAMLError:
    """libyaml's error said in PyYAML's words, for `plain_yaml_error`.

    libyaml names what it expected where PyYAML names what it found ('did not find
    expected key' against "expected <block end>, but found '-'"): what was found is read
    from the text at libyaml's mark (`_found`), whose line and column are PyYAML's. The
    phrasings that differ otherwise are renamed; the rest are the same in both."""
    problem, context, context_mark = exc.problem or "", exc.context, exc.context_mark
    mark = exc.problem_mark
    rest, at_indent = "", False
    if mark is not None:
        start = (_line_end(text, mark.line - 1, len(text)) or 0) if mark.line else 0
        end = text.find("\n", start)
        here = text[start:end if end >= 0 else len(text)]
        rest = here[mark.column:]
        at_indent = mark.column == len(here) - len(here.lstrip(" "))
    found = _found(rest, at_indent)
    if problem == "did not find expected key":
        problem = f"expected <block end>, but found '{found}'"
    elif problem == "did not find expected '-' indicator":
        key = "?" if found == "<block mapping start>" else found
        problem = f"expected <block end>, but found '{key}'"
    elif problem == "did not find expected node content":
        problem = f"expected the node content, but found '{found}'"
    elif problem == "mapping values are not allowed in this context":
        problem = "mapping values are not allowed here"
    elif problem == "found character that cannot start any token" and rest:
        problem, context_mark = f"found character {rest[0]!r} that cannot start any token", None
    anchor = _ANCHOR.match(rest)
    if context == "found duplicate anchor; first occurrence" and anchor:
        context = f"found duplicate anchor {anchor.group(1)!r}; first occurrence"
    return type(exc)(context, context_mark, problem, mark, exc.note)


def _fail(file: str, line: int | None, message: str, path: Sequence[str | int] = ()) -> NoReturn:
    raise InstanceError([Problem(file, dotted(path), line, message)])


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _Builder:
    """Turns a composed node graph into plain data, recording lines and enforcing limits."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path, int] = {}
        self.count = 0
        self.active: set[int] = set()  # ids of collection nodes being built or merged

    def fail(self, node: Node, path: Path, message: str) -> NoReturn:
        _fail(self.file, _line(node), message, path)

    def enter(self, node: Node, path: Path) -> None:
        self.count += 1
        if self.count > MAX_VALUES:
            self.fail(node, path, _too_many_values())
        if len(path) > MAX_DEPTH or len(self.active) > MAX_DEPTH:  # active: nodes being built
            message = f"the data is nested too deeply (more than {MAX_DEPTH} levels)"
            self.fail(node, path[:3], message)  # the full path would be unreadable
        if id(node) in self.active:
            self.fail(node, path, "an alias refers to a value that contains it (recursive alias)")

    def build(self, node: Node, path: Path) -> Any:
        self.enter(node, path)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path, value=True)
        kind = _MAP if isinstance(node, MappingNode) else _SEQ
        if node.tag != kind:
            self.fail(node, path, f"the tag {_tag(node.tag)!r} is not allowed here")
        self.active.add(id(node))
        lines = self.lines
        if isinstance(node, SequenceNode):
            result: Any = []
            for index, item in enumerate(node.value):
                at = (*path, index)
                lines[at] = item.start_mark.line + 1
                result.append(self.build(item, at))
        else:
            result = {}
            for key, (key_node, value_node) in self.entries(node, path).items():
                at = (*path, key)
                lines[at] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, at)
        self.active.discard(id(node))
        return result

    def scalar(self, node: ScalarNode, path: Path, value: bool = False) -> Any:
        if node.tag == _TIMESTAMP:
            message = "dates are not allowed here; write the year as a number (or quote the text)"
            self.fail(node, path, message)
        numeric = node.tag in _NUMBERS
        if not node.style and (numeric or (value and node.tag == _STR)):  # plain
            problem = yaml11_number(node.value)
            if problem:
                self.fail(node, path, problem)
        if node.tag == _STR:  # what construct_yaml_str gives: the text as written
            return node.value
        construct = _SCALARS.get(node.tag)
        if construct is None:
            plain = "write plain numbers, text, true/false, lists and mappings"
            self.fail(node, path, f"the tag {_tag(node.tag)!r} is not allowed; {plain}")
        try:
            made = construct(node)
        except (ValueError, KeyError, yaml.YAMLError):
            self.fail(node, path, f"{node.value!r} is not a valid {_tag(node.tag)} value")
        if type(made) is int and made.bit_length() > MAX_INT_BITS:
            text = node.value if len(node.value) <= 24 else (
                f"{node.value[:16]}... ({len(node.value)} characters)")
            self.fail(node, path, f"{text} is too large a number (more than 1.8e308)")
        return made

    def key(self, node: Node, path: Path) -> Any:
        if not isinstance(node, ScalarNode):
            self.fail(node, path, "a key must be a plain value, not a list or mapping")
        self.enter(node, path)
        return self.scalar(node, path)

    def entries(self, node: MappingNode, path: Path) -> dict[Any, tuple[Node, Node]]:
        """The mapping's effective (key node, value node) pairs, merges applied, in order."""
        pairs: list[tuple[Any, Node, Node]] = []  # (key, key node, value node)
        written: dict[Any, Node] = {}  # keys written in this mapping win over merged ones
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE and isinstance(key_node, ScalarNode):
                if any(key is _MERGE_KEY for key, _, _ in pairs):
                    message = "two merge keys '<<'; merge several mappings with '<<: [*a, *b]'"
                    self.fail(key_node, path, message)
                pairs.append((_MERGE_KEY, key_node, value_node))
                continue
            key = self.key(key_node, path)
            if key in written:
                first = written[key]
                where = f"first on line {_line(first)}, again on line {_line(key_node)}"
                if first.value == key_node.value:
                    self.fail(key_node, (*path, key), f"duplicate key {key!r} ({where})")
                earlier = next(k for k in written if k is key or k == key)  # NaN is itself
                self.fail(key_node, (*path, key_node.value),
                          f"the keys '{first.value}' (line {_line(first)}) and "
                          f"'{key_node.value}' (line {_line(key_node)}) are the same key: YAML "
                          f"reads '{first.value}' as {_written(earlier)} and "
                          f"'{key_node.value}' as {_written(key)}; quote keys meant as text "
                          f"('{first.value}':)")
            written[key] = key_node
            pairs.append((key, key_node, value_node))
        out: dict[Any, tuple[Node, Node]] = {}
        for key, key_node, value_node in pairs:
            if key is not _MERGE_KEY:
                out[key] = (key_node, value_node)
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self.fail(source, path, "'<<' merges mappings only (e.g. '<<: *base')")
                self.enter(source, path)
                self.active.add(id(source))
                for merged_key, pair in self.entries(source, path).items():
                    if merged_key not in written and merged_key not in out:
                        out[merged_key] = pair
                self.active.discard(id(source))
        return out


_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]*[0-9][0-9_]*")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_GROUPED = re.compile(r"[-+]?(?:0x[0-9a-fA-F_]*|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)")
_BINARY = re.compile(r"[-+]?0b[01_]+")
_OCTAL_12 = re.compile(r"0o[0-7]+")
_SHOWN_DIGITS = 24
"""A number is shown in a message, as what to write instead, up to this many characters."""


def _as_written(text: str) -> str:
    """What to write for a YAML 1.1 integer or float (underscores, 0x, 0b, 0o allowed): its
    value in plain decimal digits, as `write 1000`; '' where it is too long to show."""
    plain = text.replace("_", "")
    try:
        value: float = int(plain, 0) if not re.search(r"[.eE]", plain) or "0x" in plain else float(
            plain)
    except ValueError:
        return ""
    shown = str(value) if isinstance(value, int) else repr(value)
    return f"write {shown}" if len(shown) <= _SHOWN_DIGITS else "write it in decimal digits"


def yaml11_number(text: str) -> str | None:
    """Why a plain number YAML 1.1 and YAML 1.2 read differently is refused, or None.

    YAML 1.1 (what PyYAML implements) reads `0100` as octal (64) and `1:40` as base 60
    (100); YAML 1.2 and every spreadsheet read them otherwise. It also reads `1_000` as
    1000 and `0b101` as 5, which YAML 1.2 reads as text, and `0o17` as text, which YAML 1.2
    reads as 15. Rather than guess, such a figure is refused, with what to write instead
    (the instance's numbers are YAML 1.2's).
    """
    if ":" not in text and "_" not in text and "0" not in text[:2]:  # no pattern can match
        return None
    if _LEADING_ZERO.fullmatch(text):
        digits = text.lstrip("+-").replace("_", "").lstrip("0") or "0"
        sign = "-" if text.startswith("-") else ""
        return (f"{text} starts with a zero, which YAML 1.1 reads as an octal number; write "
                f"{sign}{digits} (or quote it, '{text}', if it is text)")
    if _SEXAGESIMAL.fullmatch(text):
        return (f"{text} has ':' between digits, which YAML 1.1 reads as a base-60 number; "
                f"write one plain number (or quote it, '{text}', if it is text)")
    shown = text if len(text) <= _SHOWN_DIGITS else f"{text[:16]}... ({len(text)} characters)"
    quote = f"(or quote it, '{shown}', if it is text)"
    if _BINARY.fullmatch(text):
        return (f"{shown} is a binary number in YAML 1.1 and text in YAML 1.2; "
                f"{_as_written(text)} {quote}")
    if "_" in text and _GROUPED.fullmatch(text):
        return (f"{shown} has '_' between digits, which YAML 1.1 reads as a number and "
                f"YAML 1.2 as text; {_as_written(text)} {quote}")
    if _OCTAL_12.fullmatch(text):
        return (f"{shown} is an octal number in YAML 1.2 and text in YAML 1.1; "
                f"{_as_written(text)} {quote}")
    return None


def _written(value: Any) -> str:
    """A key as YAML would write it: true, false, null, 1."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)


def parse_yaml(text: str, file: str) -> Source:
    """Parse YAML text into a Source; every failure is an InstanceError naming the file."""
    if "\x00" in text:
        _fail(file, None, "not a text file (it contains NUL bytes); save it as UTF-8 text")
    if len(text) > MAX_BYTES:
        _fail(file, None, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        root = _compose(text)
    except _TooDeep as exc:
        _fail(file, exc.line, f"the data is nested too deeply (more than {MAX_DEPTH} levels)")
    except _TooMany as exc:
        _fail(file, exc.line, _too_many_values(), exc.path)
    except yaml.MarkedYAMLError as exc:
        line, message = plain_yaml_error(exc, text)
        _fail(file, line, f"invalid YAML: {message}")
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        _fail(
            file, line, f"not a text file (it contains the control character #x{exc.character:x})"
        )
    except yaml.YAMLError as exc:  # pragma: no cover - any other PyYAML failure
        _fail(file, None, f"invalid YAML: {exc}")
    if root is None or (root.tag == _CORE + "null" and isinstance(root, ScalarNode)):
        _fail(file, None, "the file is empty")
    if not isinstance(root, MappingNode):
        found = "a list" if isinstance(root, SequenceNode) else f"a single value {root.value!r}"
        _fail(
            file,
            _line(root),
            "the top level must be a mapping of fields such as name, "
            f"agencies, streams; found {found}",
        )
    builder = _Builder(file)
    builder.lines[()] = _line(root)
    data = builder.build(root, ())
    return Source(file, data, builder.lines)


def _indent(text_line: str) -> int:
    return len(text_line) - len(text_line.lstrip(" "))


def plain_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """PyYAML's parser message in plain words: (line, 'what is wrong; what to do').

    PyYAML says where it noticed the problem ('while parsing a block mapping; expected
    <block end>, but found ...'); this says what the writer did (a line indented more or
    less than its block, a tab, a ':' or a quote inside a value, an unclosed bracket) and
    how to mend it. A message it does not know is kept, with a general hint."""
    problem, context = exc.problem or "", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    start = exc.context_mark
    line = mark.line + 1 if mark else None
    lines = text.splitlines()
    here = lines[mark.line] if mark and mark.line < len(lines) else ""
    opened = f" (opened on line {start.line + 1})" if start and start.line != mark.line else ""
    found = re.search(r"found '([^']*)'|got '([^']*)'", problem)
    token = (found.group(1) or found.group(2)) if found else ""

    before = next((t for t in reversed(lines[:mark.line]) if t.strip()
                   and not t.lstrip().startswith("#")), "") if mark else ""
    if "expected <block end>" in problem and "block mapping" in context and start and mark:
        if token == "<block mapping start>" and _indent(here) > _indent(before):
            return line, (
                "this line is indented more than the one before it, but the line before does "
                "not open a block (a key ending in ':' with nothing after it): line it up with "
                "the keys above it, or end the line before with ':'")
        if token == "<block mapping start>":
            above = sorted({_indent(t) for t in lines[start.line:mark.line]
                            if t.strip() and not t.lstrip().startswith("#")})
            levels = ", ".join(map(str, above[:-1])) + f" or {above[-1]}" if len(
                above) > 1 else str(above[0]) if above else "0"
            return line, (
                f"this line is indented {_indent(here)} spaces, which lines up with no key "
                f"above it (they are at {levels} spaces): indent it exactly as the keys it "
                "belongs with")
        if token == "-":
            return line, (
                "a list item ('- ...') where a key was expected: a list is the value of a "
                "key ('key:' on its own line, the items indented under it, each starting "
                "with '- ')")
        if token == "<scalar>":
            return line, (
                "text after a value that is already complete (after a closing quote?): put "
                "the whole value inside the quotes, or start a new line for the next key")
    if "expected <block end>" in problem and "block collection" in context:
        return line, (
            "a key where the next list item ('- ...') was expected: every item of a list "
            "starts with '- ' at the same indentation; to go on after the list, line the key "
            "up with the key that holds the list")
    if problem == "mapping values are not allowed here":
        if mark and _indent(here) > _indent(before):
            return line, (
                "this line is indented more than the one before it, but the line before "
                "already has its value, so it cannot open a block: line it up with the keys "
                "above it, or move that value onto lines of its own under its key")
        return line, ("a ': ' inside a value: YAML reads it as a second key on the line; put "
                      "the value in quotes (name: \"Poole: older people\")")
    if "could not find expected ':'" in problem and start:
        return start.line + 1, (
            "this line has no ':' after its key: each line of a mapping is 'key: value', or "
            "'key:' with the value indented on the lines below")
    if "found character '\\t'" in problem or "found character '\t'" in problem:
        return line, "a tab character: YAML indents with spaces only; replace the tab with spaces"
    if "that cannot start any token" in problem and found is None:
        char = re.search(r"character '(.+)' that", problem)
        shown = char.group(1) if char else "this character"
        return line, f"a value cannot start with '{shown}': put the value in quotes"
    if "while scanning a quoted scalar" in context:
        return (start.line + 1 if start else line), (
            "a quote opened on this line is never closed: end the value with the same quote "
            "mark it starts with (a ' inside '...' is written '')")
    if "flow mapping" in context or "flow sequence" in context:
        what, close = ("'{' mapping", "}") if "mapping" in context else ("'[' list", "]")
        return line, (
            f"a {what}{opened} is not closed, or two of its "
            f"entries have no ',' between them: separate the entries with ', ' and close it "
            f"with '{close}'")
    if "flow node" in context and token == "-":
        return line, ("'- ' inside [ ... ]: the items of a bracketed list are separated by "
                      "commas, without '-'")
    if "found unexpected ':'" in problem:
        return line, ("a ':' inside a [ ... ] or { ... } value: put a space after the ':' "
                      "between a key and its value, or put the text in quotes")
    if problem == "found invalid Unicode character escape code":
        return line, ("a '\\u' escape in quotes names half of a character (a surrogate, "
                      "D800 to DFFF), which is not text: write the character itself")
    if problem.startswith("found undefined alias"):
        return line, ("a value starting with '*' refers to an anchor ('&name') defined "
                      "nowhere above; if it is text, put it in quotes")
    if "while scanning an anchor" in context or "while scanning an alias" in context:
        return line, ("'&' and '*' start YAML anchors and aliases and need a name after them; "
                      "if the value is text, put it in quotes")
    if "while scanning a directive" in context:
        return line, "a line cannot start with '%': put the key in quotes"
    if "expected a single document" in context + problem:
        return line, ("a second document (a '---' line): one file holds one instance; remove "
                      "the '---' line")
    detail = "; ".join(m for m in (context, problem) if m)
    return line, (f"the YAML cannot be read here ({detail}); check the indentation and the "
                  "quotes of this line and the one before")


def read_regular(path: pathlib.Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (links followed), at most `limit` of them.

    ValueError saying why not, in words: a folder, a link to nothing, a pipe, a device
    (a link to /dev/zero), a socket, or too large; checked on the opened file before a
    byte is read, so nothing blocks (a pipe) or runs on (a device). OSError passes.
    """
    if path.is_dir():
        raise ValueError("this is a directory, not a file")
    if not path.exists():
        if path.is_symlink():
            raise ValueError(f"a link to nothing (it points to {os.readlink(path)})")
        raise ValueError("no such file")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a pipe (FIFO)" if stat.S_ISFIFO(mode) else
                    "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                    "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            link = f" (a link to {os.path.realpath(path)})" if path.is_symlink() else ""
            raise ValueError(f"this is {kind}{link}, not a file")
        if os.fstat(fd).st_size > limit:
            raise ValueError(f"the file is larger than {limit / 2**20:g} MB")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(limit + 1)
        if len(raw) > limit:
            raise ValueError(f"the file is larger than {limit / 2**20:g} MB")
        return raw
    finally:
        os.close(fd)


def read_yaml(path: pathlib.Path) -> Source:
    """Read and parse an instance file; every failure is an InstanceError naming the file."""
    file = str(path)
    try:
        raw = read_regular(path, MAX_BYTES)
    except ValueError as exc:
        message = str(exc).replace("a directory, not a file", "a directory, not an "
                                   "instance file")
        _fail(file, None, message)
    except OSError as exc:
        _fail(file, None, f"cannot read the file: {exc.strerror or exc}")
    if b"\x00" in raw:
        _fail(file, None, "not a text file (it contains NUL bytes); save it as UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _fail(file, raw.count(b"\n", 0, exc.start) + 1, "not a text file (it is not UTF-8)")
    if not text.strip():
        _fail(file, None, "the file is empty")
    return parse_yaml(text, file)
