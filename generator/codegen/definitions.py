"""The definitions folder: boards, transports, commands and devices, validated by their schemas."""
from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from generator.codegen.rules import rule_problems
from generator.errors import FirmwareError, unknown_id
from generator.files import load_json, parse_json, read_text

FOLDERS = {"board": "boards", "transport": "transports", "command": "commands", "device": "devices"}
FILE_PREFIX = "@file:"
ADD_BOARD = ("to add a board, describe it in a file definitions/boards/<id>.json listing its PlatformIO board id "
             "(README: \"Adding a board, transport, command or device\"; for an AVR board built offline, also "
             "platforms/avr-debian/boards/<board>.json)")
# The definitions this process found valid, as (digest of the schemas, kind, file name, the file's
# text): a definition is validated once per content, not once per Definitions (a build or bench
# generating again). The text decides the parsed content, so it is as good a key as the content
# and needs no serialising.
_VALID: set[tuple[str, str, str, str]] = set()
# Jinja2 syntax: an expression {{ name... }} or a statement {% word ... %}. C++'s nested braces
# ({{0, 1}, {2, 3}}, {{a, b}}) are not it.
TEMPLATE_SYNTAX = re.compile(r"\{\{-?\s*[A-Za-z_][\w.\[\]:|()'\" ]*-?\}\}|\{%-?\s*[a-z]+\b.*?%\}")


class Definitions:
    """Loads definition files on demand, each checked against its schema, from one root folder or
    from layered ones: a user's folders first (adding or overriding boards, transports, commands,
    devices), the shipped folder, which holds the schemas, last."""

    def __init__(self, roots: Path | Sequence[Path]) -> None:
        self.roots = [Path(roots)] if isinstance(roots, (str, Path)) else [Path(r) for r in roots]
        self.root = self.roots[-1]
        self._ids: dict[str, list[str]] = {}
        self._id_sets: dict[str, frozenset[str]] = {}
        self._layers: dict[str, dict[str, int]] = {}  # kind -> id -> the first layer holding its file
        self._raw: dict[tuple[str, str], Any] = {}
        self._texts: dict[tuple[str, str], str] = {}
        self._cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._paths: dict[tuple[str, str], Path] = {}
        self._shown: dict[Path, str] = {}
        self._shown_ids: dict[tuple[str, str], str] = {}
        self._folders_shown: dict[tuple[int, str], str] = {}
        self._real_dirs: dict[tuple[int, str], str] = {}
        if not (self.root / "schemas").is_dir():
            raise FirmwareError(f"{self.root}: not a definitions folder (no schemas/ inside)")
        for user in self.roots[:-1]:
            if not user.is_dir():
                raise FirmwareError(f"{user}: no such definitions folder",
                                    "custom_firmware_definitions names a folder of the project, "
                                    "holding boards/, transports/, commands/ or devices/")

    def ids(self, kind: str) -> list[str]:
        """The ids of one kind, sorted: the names of its JSON files in every layer. Hidden files
        and dangling links (editors' lock files such as Emacs' .#name.json) are no definitions."""
        if kind not in self._ids:
            self._scan(kind)
        return self._ids[kind]

    def _scan(self, kind: str) -> None:
        """List the kind's folder of every layer once, by scandir (a stat only for a link): its
        ids, and for each the first layer holding it as a regular file."""
        ids: set[str] = set()
        layers: dict[str, int] = {}
        for index, root in enumerate(self.roots):
            try:
                with os.scandir(root / FOLDERS[kind]) as listing:
                    entries = [entry for entry in listing if not entry.name.startswith(".")
                               and os.path.normcase(entry.name).endswith(".json")]
            except OSError:
                continue  # no such folder in this layer: a user's may hold only some kinds
            for entry in entries:
                def_id = entry.name[:-len(".json")]
                if not entry.is_symlink() or os.path.exists(entry.path):
                    ids.add(def_id)
                try:
                    regular = entry.is_file()
                except OSError:
                    regular = False
                if regular:
                    layers.setdefault(def_id, index)
        self._ids[kind] = sorted(ids)
        self._id_sets[kind] = frozenset(ids)
        self._layers[kind] = layers

    def peek(self, kind: str, def_id: str) -> Any:
        """The parsed but unvalidated content of an existing definition: for cheap questions
        (is this command a system one?) that should not cost a schema validation each."""
        if (kind, def_id) not in self._raw:
            shown = self.shown(kind, def_id)
            file = os.path.join(self.roots[self._layer(kind, def_id)], FOLDERS[kind], f"{def_id}.json")
            text = read_text(file, shown)  # path(kind, def_id), without a Path object
            self._raw[(kind, def_id)] = parse_json(text, shown)
            self._texts[(kind, def_id)] = text
        return self._raw[(kind, def_id)]

    def _layer(self, kind: str, def_id: str) -> int:
        """The index of the layer defining `def_id`: the first holding its file, else the shipped
        folder (where reading the missing file then fails, naming it)."""
        if kind not in self._layers:
            self._scan(kind)
        return self._layers[kind].get(def_id, len(self.roots) - 1)

    def path(self, kind: str, def_id: str) -> Path:
        """The file defining `def_id`: the first layer's that has it (looked up once)."""
        if (kind, def_id) not in self._paths:
            self._paths[(kind, def_id)] = self.roots[self._layer(kind, def_id)] / FOLDERS[kind] / f"{def_id}.json"
        return self._paths[(kind, def_id)]

    def shown(self, kind: str, def_id: str) -> str:
        """display(path(kind, def_id)), without pathlib per file: the display form of its folder
        (once per layer and kind) joined with its file name."""
        if (kind, def_id) not in self._shown_ids:
            folder = (self._layer(kind, def_id), kind)
            if folder not in self._folders_shown:
                self._folders_shown[folder] = self.display(self.roots[folder[0]] / FOLDERS[kind])
            self._shown_ids[(kind, def_id)] = os.path.join(self._folders_shown[folder], f"{def_id}.json")
        return self._shown_ids[(kind, def_id)]

    def get(self, kind: str, def_id: str, where: str = "") -> dict[str, Any]:
        """The validated definition of `kind` named `def_id` (any case); `where` names the option."""
        key = def_id.strip().lower()
        if (kind, key) not in self._cache:
            if kind not in self._id_sets:
                self._scan(kind)
            if key not in self._id_sets[kind]:
                raise unknown_id(kind, def_id, self.ids(kind), where or f"definitions/{FOLDERS[kind]}")
            self._cache[(kind, key)] = self._validated(kind, key)
        return self._cache[(kind, key)]

    def board(self, name: str, where: str) -> dict[str, Any]:
        """The validated board definition named by its id or by a PlatformIO board id it covers
        (any case); `where` names the option, for the error listing the valid names."""
        key = name.strip().lower()
        covering = self.covering(key)
        if key not in self.ids("board") and covering is None:
            raise unknown_id("board", name, sorted({*self.ids("board"), *self.covered_ids()}), where, ADD_BOARD)
        return self.get("board", key if key in self.ids("board") else str(covering))

    def covered_ids(self) -> list[str]:
        """Every PlatformIO board id some board definition covers (its platformio_boards)."""
        return [p for b in self.ids("board") for p in self.get("board", b)["platformio_boards"]]

    def covering(self, pio_board: str) -> str | None:
        """The id of the board definition whose platformio_boards holds `pio_board` (any case)."""
        return next((b for b in self.ids("board") for p in self.get("board", b)["platformio_boards"]
                     if p.lower() == pio_board.strip().lower()), None)

    def _validated(self, kind: str, def_id: str) -> dict[str, Any]:
        """Check one definition against its schema; its id must equal its file name (`def_id`,
        one of ids())."""
        data: dict[str, Any] = self.peek(kind, def_id)  # an object once the schema accepts it
        digest = (self._schemas_digest, kind, def_id, self._texts[(kind, def_id)])
        if digest in _VALID:
            return data
        errors = sorted(self._validators[kind].iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [f"{self.shown(kind, def_id)}: does not match schemas/{kind}.schema.json:"]
            for err in errors[:8]:
                at = "/".join(str(p) for p in err.absolute_path) or "(top level)"
                lines.append(f"  at {at}: {err.message}")
            raise FirmwareError("\n".join(lines))
        if data["id"] != def_id:
            raise FirmwareError(f"{self.shown(kind, def_id)}: id '{data['id']}' differs from the file name",
                                f"set \"id\": \"{def_id}\" or rename the file")
        found = rule_problems(kind, data)
        if found:
            raise FirmwareError("\n".join(f"{self.shown(kind, def_id)}: {problem}" for problem in found))
        _VALID.add(digest)
        return data

    def read_code(self, code: str | list[str], origin: str) -> list[tuple[str, bool]]:
        """The pieces of a code value, in order: (text, whether it is a Jinja template). Each
        '@file:PATH' line is that file's content (a .j2 file's as it is, to be rendered; a .cpp's
        or .h's without trailing newlines); each blank line is an empty piece. An included file
        may hold no '@file:' line of its own (references are one level deep), and only a .j2
        file may hold template syntax."""
        lines = code.splitlines() if isinstance(code, str) else code
        out: list[tuple[str, bool]] = []
        for line in lines:
            rel = line.strip()[len(FILE_PREFIX):].strip()
            if not rel:
                out.append(("", False))
                continue
            text = self.read_file_ref(rel, origin)
            template = rel.endswith(".j2")
            nested, marker = _code_problems(text, template)
            if nested:
                raise FirmwareError(f"{origin}: @file:{rel} line {nested} is an @file: reference itself "
                                    "(rule: no nested @file:)",
                                    "put the code in the file, or reference both files from the definition")
            if marker:
                raise FirmwareError(f"{origin}: @file:{rel} holds template syntax '{marker}' "
                                    "(rule: only a .j2 file is rendered with Jinja2)",
                                    f"rename it to {rel}.j2, or write the C++ without '{{{{' or '{{%'")
            out.append((text if template else text.rstrip("\n"), template))
        return out

    @cached_property
    def _resolved_roots(self) -> list[str]:
        return [os.path.realpath(layer) for layer in self.roots]

    def _real(self, layer: int, rel: str) -> str:
        """os.path.realpath(root / rel) for the layer's resolved root: its folder resolved once per
        folder, the file itself only when it is a link."""
        head, name = os.path.split(rel)
        if name in ("", ".", ".."):
            return os.path.realpath(os.path.join(self._resolved_roots[layer], rel))
        if (layer, head) not in self._real_dirs:
            self._real_dirs[(layer, head)] = os.path.realpath(os.path.join(self._resolved_roots[layer], head))
        target = os.path.join(self._real_dirs[(layer, head)], name)
        return os.path.realpath(target) if os.path.islink(target) else target

    def read_file_ref(self, rel: str, origin: str) -> str:
        """Content of an @file: reference, from the first layer that has it; the path must stay
        inside the definitions folder."""
        target = ""
        for layer, root in enumerate(self._resolved_roots):
            target = self._real(layer, rel)
            inside = os.path.normcase(root).rstrip(os.sep) + os.sep
            if not os.path.normcase(target).startswith(inside) and target != root:
                raise FirmwareError(f"{origin}: @file:{rel} points outside the definitions folder",
                                    "@file: paths are relative to definitions/, e.g. @file:commands/src/x.cpp")
            if layer == len(self.roots) - 1 or os.path.isfile(target):
                break
        return read_text(target, f"{origin}: @file:{rel}")

    def display(self, path: Path) -> str:
        """A path shown relative to its definitions folder's parent, as users see it."""
        if path not in self._shown:
            root = next((r for r in self.roots if path.is_relative_to(r)), None)
            self._shown[path] = str(path.relative_to(root.parent)) if root else str(path)
        return self._shown[path]

    @cached_property
    def _schemas_digest(self) -> str:
        """SHA-256 of the schema files' names and contents: part of every validation's key."""
        digest = hashlib.sha256()
        for path in sorted((self.root / "schemas").glob("*.schema.json")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    @cached_property
    def _validators(self) -> dict[str, Any]:
        """One jsonschema validator per kind, resolving references between the shipped schemas."""
        from jsonschema import Draft202012Validator  # noqa: PLC0415 - slow import, needed only here
        from referencing import Registry, Resource  # noqa: PLC0415 - loaded only when this runs

        schemas = {p.name: load_json(p) for p in (self.root / "schemas").glob("*.schema.json")}
        registry = Registry().with_resources(
            (name, Resource.from_contents(doc)) for name, doc in schemas.items())
        return {kind: Draft202012Validator(schemas[f"{kind}.schema.json"], registry=registry)
                for kind in FOLDERS}


@functools.lru_cache(maxsize=1024)
def _code_problems(text: str, template: bool) -> tuple[int | None, str | None]:
    """What read_code refuses in a referenced file's text (checked once per process and text):
    the number of its first line that is an @file: reference itself, and the template syntax a
    file other than a .j2 holds."""
    nested = next((n for n, ref in enumerate(text.splitlines(), 1) if ref.strip().startswith(FILE_PREFIX)), None)
    marker = None if template else TEMPLATE_SYNTAX.search(text)
    return nested, marker.group(0) if marker else None
