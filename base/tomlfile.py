"""Reading TOML data files with errors that name the file and the field."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from mcusim.base.errors import BoardError

T = TypeVar("T")


def load_toml(path: Path, error: type[Exception] = BoardError) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path}: not valid TOML: {e}") from None


class Fields:
    """A TOML table being read field by field; every problem names file, field and expectation."""

    def __init__(self, data: Any, file: Path, where: str, error: type[Exception] = BoardError):
        self.file = file
        self.where = where
        self.error = error
        if not isinstance(data, dict):
            raise self.fail("", "a table", data)
        self.data: dict[str, Any] = data

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where and key else (self.where or key)

    def fail(self, key: str, expected: str, got: Any) -> Exception:
        return self.error(
            f"{self.file}: field '{self.path(key)}': expected {expected}, got {got!r}"
        )

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, convert: Callable[[Any], T], expected: str,
            default: T | None = None, required: bool = True) -> T:
        if key not in self.data:
            if required and default is None:
                raise self.error(
                    f"{self.file}: field '{self.path(key)}' is missing: expected {expected}"
                )
            return default  # type: ignore[return-value]
        value = self.data[key]
        try:
            return convert(value)
        except (TypeError, ValueError) as e:
            detail = f" ({e})" if str(e) else ""
            raise self.error(
                f"{self.file}: field '{self.path(key)}': expected {expected}, "
                f"got {value!r}{detail}"
            ) from None

    def table(self, key: str, required: bool = True) -> Fields | None:
        if key not in self.data:
            if required:
                raise self.error(f"{self.file}: table [{self.path(key)}] is missing")
            return None
        return Fields(self.data[key], self.file, self.path(key), self.error)

    def tables(self, key: str) -> list[Fields]:
        items = self.data.get(key, [])
        if not isinstance(items, list):
            raise self.fail(key, "an array of tables ([[" + key + "]])", items)
        return [Fields(t, self.file, f"{self.path(key)}[{i}]", self.error)
                for i, t in enumerate(items)]

    def unknown_keys(self, known: set[str]) -> None:
        extra = sorted(set(self.data) - known)
        if extra:
            raise self.error(
                f"{self.file}: unknown field '{self.path(extra[0])}': expected one of "
                + ", ".join(sorted(known))
            )


def as_str(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError("")
    return v


def as_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError("")
    return v


def as_uint32(v: Any) -> int:
    v = as_int(v)
    if not 0 <= v <= 0xFFFFFFFF:
        raise ValueError("out of the 32-bit address range")
    return v


def as_bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("")
    return v


def list_of(convert: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    def inner(v: Any) -> list[T]:
        if not isinstance(v, list):
            raise ValueError("")
        return [convert(x) for x in v]
    return inner
