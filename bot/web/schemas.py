"""Shared pydantic pieces for forms, API bodies and API responses."""
from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

T = TypeVar("T")


def _as_list(value: Any) -> Any:
    if value is None or value == "":
        return []
    if isinstance(value, (str, int)):
        return [value]
    return value


# A list that also accepts one value (an HTML form or query sends a single item as a string).
OneOrMany = Annotated[list[T], BeforeValidator(_as_list)]


class ApiModel(BaseModel):
    """A JSON API response: it declares every field it sends, and sends nothing else.

    The API's route wrapper builds each response through its declared model, so a field a view
    adds (an internal id, an unmasked value) fails loudly instead of leaking out undocumented.
    """
    model_config = ConfigDict(extra="forbid")
