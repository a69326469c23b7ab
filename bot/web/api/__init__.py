"""The JSON API under ``/api/v1``: declared endpoints, validated input, an OpenAPI document.

An endpoint is declared once with its query/body/response models; the same declaration validates
the request (422 naming the field), builds the response through its model (nothing undeclared
goes out) and describes both in ``/api/docs``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from bot.web.errors import ApiError, ErrorBody, invalid, json_body, json_response, parse

Handler = Callable[..., Awaitable[Any]]  # plain data (or a Reply) that respond() builds into the model
PREFIX = "/api/v1"


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    multipart: bool = False
    admin: bool = False
    description: str = ""
    produces: tuple[str, ...] = ()
    others: dict[int, type[BaseModel]] = field(default_factory=dict)  # models of other success/failure bodies

    def model_for(self, status: int) -> type[BaseModel] | None:
        return self.response if status == self.status else self.others.get(status)


@dataclass(frozen=True)
class Reply:
    """A handler's answer with another status than the endpoint's own (its model is in ``others``)."""
    body: Any
    status: int


class ResponseModelError(RuntimeError):
    """A handler's answer does not fit the declared response model: a bug (500), never sent as is."""


def query_dict(request: web.Request) -> dict[str, Any]:
    """Query parameters for a model: repeated keys become lists, empty values are absent."""
    out: dict[str, Any] = {}
    for key in request.query:
        values = [v for v in request.query.getall(key) if v != ""]
        if values:
            out[key] = values if len(values) > 1 else values[0]
    return out


def path_int(request: web.Request, name: str) -> int:
    raw = request.match_info.get(name, "")
    if not raw.isdigit() or len(raw) > 12:
        raise invalid(name, f"“{name}”应为正整数")
    return int(raw)


@dataclass
class Api:
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(self, method: str, path: str, *, summary: str, tag: str, query: type[BaseModel] | None = None,
              body: type[BaseModel] | None = None, response: type[BaseModel] | None = None, status: int = 200,
              multipart: bool = False, admin: bool = False, description: str = "",
              produces: tuple[str, ...] = (), others: dict[int, type[BaseModel]] | None = None,
              ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, fn, summary, tag, query, body, response, status,
                                           multipart, admin, description, produces, dict(others or {})))
            return fn
        return register

    def install(self, app: web.Application) -> None:
        for ep in self.endpoints:
            app.router.add_route(ep.method, ep.path, _wrap(ep))

    # ------------------------------------------------------------ OpenAPI
    def openapi(self, title: str, version: str) -> dict[str, Any]:
        models = {m for ep in self.endpoints for m in (ep.body, ep.response, *ep.others.values()) if m is not None}
        models |= {ErrorBody}
        _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                     ref_template="#/components/schemas/{model}")
        schemas = defs.get("$defs", {})
        paths: dict[str, dict] = {}
        for ep in self.endpoints:
            op: dict[str, Any] = {"summary": ep.summary, "tags": [ep.tag], "operationId": ep.handler.__name__,
                                  "parameters": _path_params(ep.path) + _query_params(ep.query)}
            if ep.description:
                op["description"] = ep.description
            if ep.body is not None:
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{ep.body.__name__}"}}}}
            elif ep.multipart:
                op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"]}}}}
            ok: dict[str, Any] = {"description": "OK"}
            if ep.response is not None:
                ok["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ep.response.__name__}"}}}
            for media in ep.produces:
                ok.setdefault("content", {})[media] = {"schema": {"type": "string", "format": "binary"}}
            op["responses"] = {str(ep.status): ok, **_error_responses(ep)}
            for code, model in ep.others.items():
                other = op["responses"].setdefault(str(code), {"description": "OK" if code < 400 else "错误"})
                other["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
            paths.setdefault(PREFIX + ep.path, {})[ep.method.lower()] = op
        return {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version,
                     "description": "支部助手数据接口。认证：请求头 Authorization: Bearer <令牌>（令牌在管理后台“我的账号”中生成，"
                                    "或 `zhibu user token 用户名`）。列表分页：page、per_page（最大200）。"
                                    "错误统一为 {\"error\": {\"code\", \"message\", \"field\"}}。"},
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "components": {"schemas": schemas, "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "paths": paths,
        }


def _error_responses(ep: Endpoint) -> dict[str, Any]:
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    out = {"401": {"description": "未登录或令牌无效", **ref}, "403": {"description": "超出权限范围", **ref}}
    if "{" in ep.path:
        out["404"] = {"description": "不存在", **ref}
    if ep.query or ep.body or ep.multipart or "{" in ep.path:
        out["422"] = {"description": "输入不正确（field 指出哪个字段）", **ref}
    if ep.body or ep.multipart:
        out["400"] = {"description": "请求体不是有效的 JSON", **ref}
    if ep.method != "GET":
        out["409"] = {"description": "业务规则不允许（如工单已办结）", **ref}
    return out


def _path_params(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]
    return [{"name": n, "in": "path", "required": True,
             "schema": {"type": "integer"} if n.endswith("_id") else {"type": "string"}} for n in names]


def _query_params(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def _wrap(ep: Endpoint) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        from bot.web.state import principal

        if ep.admin and not principal(request).is_admin:
            from bot.texts import web as T

            raise ApiError(403, "forbidden", T.ADMIN_REQUIRED)
        kwargs: dict[str, Any] = {}
        if ep.query is not None:
            kwargs["query"] = parse(ep.query, query_dict(request))
        if ep.body is not None:
            data = await json_body(request)
            if not isinstance(data, dict):
                raise ApiError(400, "bad_json", "请求体应为 JSON 对象。")
            kwargs["body"] = parse(ep.body, data)
        return respond(ep, await ep.handler(request, **kwargs))

    handler.__name__ = ep.handler.__name__
    return handler


def respond(ep: Endpoint, result: Any) -> web.StreamResponse:
    """The one place an answer becomes JSON: built through the endpoint's declared model
    (extra fields forbidden), serialised with ``model_dump(mode="json")``."""
    if ep.response is None and isinstance(result, web.StreamResponse):
        return result  # a download without a JSON body
    status, data = (result.status, result.body) if isinstance(result, Reply) else (ep.status, result)
    model = ep.model_for(status)
    if model is None or isinstance(data, web.StreamResponse):
        raise ResponseModelError(f"{ep.method} {ep.path}: no response model declared for status {status}")
    try:
        out = data if type(data) is model else model.model_validate(data)
    except ValidationError as exc:
        raise ResponseModelError(f"{ep.method} {ep.path}: the answer does not fit {model.__name__}: {exc}") from exc
    return json_response(out.model_dump(mode="json"), status=status)


api = Api()  # endpoint modules (bot/web/api/*.py) declare themselves on this registry
