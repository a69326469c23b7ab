"""Errors with one shape: ``{"error": {"code", "message", "field"}}`` in the API, a page in the dashboard.

Bad input is a 4xx naming the field, never a 500.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.services import ServiceError
from bot.texts import web as T
from bot.web.accounts import AccountError, Throttled
from bot.web.schemas import ApiModel
from bot.web.security import HashingBusy

log = logging.getLogger(__name__)


class ErrorDetail(ApiModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(ApiModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        detail = ErrorDetail(code=self.code, message=self.message, field=self.field)
        return ErrorBody(error=detail).model_dump(mode="json")


def not_found() -> ApiError:
    return ApiError(404, "not_found", T.NOT_FOUND)


def forbidden(message: str = T.FORBIDDEN) -> ApiError:
    return ApiError(403, "forbidden", message)


def invalid(field: str | None, message: str) -> ApiError:
    return ApiError(422, "invalid", message, field)


_PYDANTIC_REASONS = {
    "missing": "必填",
    "string_too_long": "太长（最多 {max_length} 个字）",
    "string_too_short": "太短（至少 {min_length} 个字）",
    "too_long": "太多（最多 {max_length} 项）",
    "too_short": "太少（至少 {min_length} 项）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "greater_than": "应大于 {gt}",
    "literal_error": "可选值：{expected}",
    "enum": "可选值：{expected}",
    "datetime_parsing": "应为日期时间，如 2026-12-01T09:00",
    "datetime_from_date_parsing": "应为日期时间，如 2026-12-01T09:00",
    "date_parsing": "应为日期，如 2026-12-01",
    "date_from_datetime_parsing": "应为日期，如 2026-12-01",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "extra_forbidden": "不认识的字段",
    "string_pattern_mismatch": "格式不正确",
}


def from_validation(exc: ValidationError) -> ApiError:
    """The first problem of a pydantic error, worded in Chinese, with its field path."""
    item = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in item.get("loc", ())) or None
    template = _PYDANTIC_REASONS.get(item["type"])
    reason = item.get("msg", "")
    if template:
        try:
            reason = template.format(**(item.get("ctx") or {}))
        except (KeyError, IndexError):
            reason = template
    elif item["type"] == "value_error":
        reason = str((item.get("ctx") or {}).get("error", reason))
    return invalid(field, T.INVALID_FIELD.format(field=field or "?", reason=reason))


def parse(model: type[BaseModel], data: Any):  # noqa: ANN201
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from exc


async def json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    try:
        raw = await request.read()
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "bad_json", T.BAD_JSON) from exc


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False, default=str))


def _http_error(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return not_found()
    if exc.status == 405:
        return ApiError(405, "method_not_allowed", T.METHOD_NOT_ALLOWED)
    if exc.status == 413:
        return ApiError(413, "too_large", T.TOO_LARGE.format(mb=20))
    if exc.status == 403:
        return forbidden()
    if exc.status == 401:
        return ApiError(401, "unauthenticated", T.UNAUTHENTICATED)
    return ApiError(exc.status, "http_error", exc.reason or T.BAD_REQUEST)


def translate(exc: Exception) -> ApiError | None:
    """Known exceptions as ApiError; None for a bug (a 500)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ValidationError):
        return from_validation(exc)
    if isinstance(exc, Throttled):
        return ApiError(429, "throttled", exc.message)
    if isinstance(exc, HashingBusy):
        return ApiError(429, "busy", T.LOGIN_BUSY)
    if isinstance(exc, AccountError):
        return invalid(exc.field, exc.message)
    if isinstance(exc, ServiceError):
        return ApiError(409, "rejected", str(exc), getattr(exc, "field", None))
    if isinstance(exc, LookupError):
        return not_found()
    if isinstance(exc, PermissionError):
        return forbidden()
    return None


@web.middleware
async def api_errors(request: web.Request, handler):  # noqa: ANN001, ANN201
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error = _http_error(exc)
    except Exception as exc:  # noqa: BLE001
        error = translate(exc)
        if error is None:
            log.exception("API %s %s failed", request.method, request.path)
            error = ApiError(500, "server_error", T.SERVER_ERROR)
    return json_response(error.body(), status=error.status)
