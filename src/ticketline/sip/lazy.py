"""A lock-free ``cached_property`` for frozen dataclasses.

Python 3.11's ``functools.cached_property`` takes a lock on every first access,
which costs more than the header parses it caches; messages are not shared
across threads while being built, so the lock buys nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class lazy(Generic[T]):
    """Compute the attribute on first access and store it in the instance ``__dict__``."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object, owner: type | None = None) -> T | lazy[T]:
        if instance is None:
            return self
        value = self._compute(instance)
        # A non-data descriptor: the instance attribute shadows it from now on.
        instance.__dict__[self._name] = value
        return value
