"""A digest of the code that makes something, found by following it rather than listed.

`code_digest` starts from a few roots (an engine's class, the function that finishes
each clip) and follows every name their code uses: the globals a function reads,
what it imports inside its body, the methods and bases of a class, the members of a
table such as a tuple or dict. It stays within the roots' own top-level packages
(numpy or piper-tts are not followed: engines report their libraries' versions).
The digest covers the source of every module it reaches and the values of that
module's constants (names in capitals), so editing how an engine is driven, a trim
threshold or the loudness target changes it, and editing code it never reaches (the
timeline, the CLI, another engine) does not.

Exception classes are not followed: a clip is never made from one.
"""

from __future__ import annotations

import dis
import hashlib
import importlib
import importlib.util
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

_PLAIN = (bool, int, float, complex, str, bytes, type(None))


def code_digest(*roots: object) -> str:
    """A SHA-256 hex digest of the modules `roots` reach and of their constants."""
    packages = {_package(getattr(root, "__module__", None)) for root in roots} - {""}
    digest = hashlib.sha256()
    for name in sorted(modules_reached(roots, packages)):
        digest.update(f"{name}\0".encode())
        module = sys.modules.get(name)
        if module is not None:  # else code made with exec under a made-up name
            digest.update(_source(module))
            digest.update(_constants(module).encode())
    return digest.hexdigest()


def modules_reached(roots: Iterable[object], packages: set[str]) -> set[str]:
    """The names of the modules in `packages` whose code `roots` can run."""
    modules: set[str] = set()
    seen: dict[int, object] = {}  # holds each object, so no id is reused while walking
    todo = list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen[id(obj)] = obj
        if isinstance(obj, types.ModuleType):
            if _package(obj.__name__) in packages:
                modules.add(obj.__name__)
                todo += [v for v in vars(obj).values() if _defined_in(v, obj.__name__)]
        elif isinstance(obj, types.FunctionType):
            if _package(obj.__module__) in packages:
                modules.add(obj.__module__)
                todo += _named_by(obj.__code__, obj.__globals__, packages)
                todo += [cell.cell_contents for cell in obj.__closure__ or () if _full(cell)]
                todo += [*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values()]
        elif isinstance(obj, type):
            if _package(obj.__module__) in packages and not issubclass(obj, BaseException):
                modules.add(obj.__module__)
                todo += [*vars(obj).values(), *obj.__bases__]
        elif isinstance(obj, staticmethod | classmethod | types.MethodType):
            todo.append(obj.__func__)
        elif isinstance(obj, property):
            todo += [obj.fget, obj.fset, obj.fdel]
        elif isinstance(obj, tuple | list | set | frozenset):
            todo += obj
        elif isinstance(obj, Mapping) and not isinstance(obj, types.MappingProxyType):
            todo += [*obj.keys(), *obj.values()]
        elif hasattr(obj, "__wrapped__"):  # functools.cache and other decorators
            todo.append(obj.__wrapped__)
        else:  # an instance (a default, a table's entry): its class's code runs
            todo.append(type(obj))
    return modules


def _named_by(code: types.CodeType, namespace: dict[str, Any], packages: set[str]) -> Iterator[Any]:
    """What the names in `code` (and in the functions nested in it) refer to."""
    for name in code.co_names:  # attribute names too: a stray match only adds a module
        if name in namespace:
            yield namespace[name]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _named_by(const, namespace, packages)
    yield from _imported_inside(code, namespace.get("__package__") or "", packages)


_IMPORT_NAME = bytes([dis.opmap["IMPORT_NAME"]])


def _imported_inside(code: types.CodeType, package: str, packages: set[str]) -> Iterator[Any]:
    """What `code` imports in its own body (`from ..audio import clip` in a function),
    from `packages` only: an import kept out of start-up is followed like any other."""
    if _IMPORT_NAME not in code.co_code[::2]:  # most functions import nothing
        return
    instructions = list(dis.get_instructions(code))
    for i, instruction in enumerate(instructions):
        if instruction.opname != "IMPORT_NAME" or i < 2:
            continue
        # IMPORT_NAME takes the level and the names imported from the two constants
        # loaded just before it.
        level, names = instructions[i - 2].argval, instructions[i - 1].argval
        if not isinstance(level, int):
            continue
        target = str(instruction.argval)
        name = importlib.util.resolve_name("." * level + target, package) if level else target
        if _package(name) not in packages:
            continue
        try:
            module = importlib.import_module(name)
            if not names:  # `import a.b`: whatever it uses of a.b
                yield module
            for member in names or ():
                found = getattr(module, member, None)
                yield found if found is not None else importlib.import_module(f"{name}.{member}")
        except ImportError:
            continue  # code that cannot be imported here makes no clip here either


def _package(module_name: str | None) -> str:
    return (module_name or "").partition(".")[0]


def _defined_in(value: object, module_name: str) -> bool:
    defined = isinstance(value, types.FunctionType | type)
    return defined and getattr(value, "__module__", None) == module_name


def _full(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _source(module: types.ModuleType) -> bytes:
    """The module's file as it is on disk (its source, or the bytecode it runs from)."""
    origin = getattr(module.__spec__, "origin", None) or getattr(module, "__file__", None)
    try:
        with open(origin or "", "rb") as f:
            return f.read()
    except OSError:
        return f"(no source for {module.__name__})".encode()


def _constants(module: types.ModuleType) -> str:
    """The module's constants as they are now: one computed at import (from the
    environment, say) is in no source."""
    lines = []
    for name, value in sorted(vars(module).items()):
        text = _plain(value) if name.isupper() else None
        if text is not None:
            lines.append(f"{name}={text}")
    return "\n".join(lines)


def _plain(value: object) -> str | None:
    """A stable text for a value made of numbers, strings, tuples, sets and dicts of
    them; None for anything else (its module's source stands for it)."""
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, dict):
        return _plain(tuple(value.items()))
    if isinstance(value, tuple | list | set | frozenset):
        items = _all_plain(value)
        if items is not None and isinstance(value, set | frozenset):
            items.sort()  # a set's order changes from one process to the next
        return None if items is None else f"{type(value).__name__}({','.join(items)})"
    return None


def _all_plain(values: Iterable[object]) -> list[str] | None:
    texts = []
    for value in values:
        text = _plain(value)
        if text is None:
            return None
        texts.append(text)
    return texts
