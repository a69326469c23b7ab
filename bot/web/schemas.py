"""Shared pydantic pieces for forms and API bodies."""
from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator

T = TypeVar("T")


def _as_list(value: Any) -> Any:
    if value is None or value == "":
        return []
    if isinstance(value, (str, int)):
        return [value]
    return value


# A list that also accepts one value (an HTML form or query sends a single item as a string).
OneOrMany = Annotated[list[T], BeforeValidator(_as_list)]
