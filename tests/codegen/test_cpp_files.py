"""Issue 18 case 7: the C++ of the definitions lives in real .cpp and .h files that clang-format
(Debian's, installed by `make build`) reads, in the style of definitions/.clang-format; Jinja2
only in .j2 files. Before, 124 lines of C++ sat in JSON strings and four .cpp files held Jinja."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from generator.codegen import cscan
from generator.codegen.definitions import FILE_PREFIX, TEMPLATE_SYNTAX
from generator.paths import DEFINITIONS

CPP_FILES = sorted(p for p in DEFINITIONS.rglob("*") if p.suffix in (".cpp", ".h"))


@pytest.mark.parametrize("path", CPP_FILES, ids=[p.name for p in CPP_FILES])
def test_clang_format_reads_it_as_formatted_cpp(path: Path) -> None:
    """clang-format parses the file and finds nothing to change (a broken file, say an unclosed
    parenthesis, comes out reformatted and fails this too)."""
    result = subprocess.run(["clang-format", "--dry-run", "--Werror", "--style=file", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stderr, result.stderr


@pytest.mark.parametrize("path", CPP_FILES, ids=[p.name for p in CPP_FILES])
def test_no_template_syntax_outside_j2(path: Path) -> None:
    assert TEMPLATE_SYNTAX.search(path.read_text(encoding="utf-8")) is None


def test_every_code_value_names_files_and_every_file_is_named() -> None:
    """The JSON holds only @file: references (or blank lines), each to an existing file, and
    every file under definitions/*/src/ is referenced: no C++ in JSON, no orphan C++."""
    named: set[Path] = set()
    for path in DEFINITIONS.glob("*/*.json"):
        for block in json.loads(path.read_text(encoding="utf-8")).get("code", {}).get("globals", {}), \
                json.loads(path.read_text(encoding="utf-8")).get("code", {}).get("functions", {}):
            for value in block.values():
                for line in [value] if isinstance(value, str) else value:
                    assert not line or line.startswith(FILE_PREFIX), (path, line)
                    if line:
                        named.add(DEFINITIONS / line[len(FILE_PREFIX):])
    assert named == set(DEFINITIONS.glob("*/src/*")), set(DEFINITIONS.glob("*/src/*")) ^ named


def test_the_scanner_reads_declarations_not_mentions() -> None:
    """cscan finds functions with bodies at file scope, through attributes and conditionals, and
    not in comments, strings, declarations without bodies, initialisers or class members."""
    code = '''
// static void in_comment() {}
static const char* text = "static void in_string() {}";
void declared_only(void) __attribute__((naked, used));
__attribute__((unused)) static void with_attribute(uint16_t waiting) {}
static uint8_t table[2] = {1, 2};
class Box : public Print {
 public:
  size_t write(uint8_t c) override { return c; }
};
#ifdef CORE_RX
static void begin() {
  CORE_RX.begin(9600);
#else
static void begin() {
  other();
#endif
}
static int after_conditional() { return 0; }
'''
    found = cscan.functions(code)
    assert sorted(found) == ["after_conditional", "begin", "with_attribute"]
    assert (found["with_attribute"].returns, found["with_attribute"].params) == ("static void", "uint16_t waiting")
    assert "in_comment" not in cscan.identifiers(code) and "other" in cscan.identifiers(code)
