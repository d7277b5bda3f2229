"""The one check every object of a retarget map file gets: it is an object and knows its keys."""

from __future__ import annotations

from typing import Any

__all__ = ["object_with_fields"]


def object_with_fields(data: Any, where: str, cls: type) -> dict[str, Any]:
    """``data`` when it is a JSON object whose keys are all fields of dataclass ``cls``.

    Raises:
        ValueError: naming ``where`` and the fault (not an object, unknown keys).
    """
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object")
    extra = set(data) - set(cls.__dataclass_fields__)
    if extra:
        raise ValueError(f"{where} has unknown keys {sorted(extra)}")
    return data
