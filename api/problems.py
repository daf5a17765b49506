"""HTTP errors as RFC 9457 problem documents, for every failure the service can answer with.

Typed stage errors go through api/errors.problem(); HTTP-layer refusals (auth, size, rate, content
type) raise HttpProblem. Validation errors name the field, never echo the submitted value, and an
unexpected exception becomes a bare 500 with the request id to quote — no message, no traceback.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import problem
from api.logs import get_logger
from privacy.errors import AirlockError

MEDIA_TYPE = "application/problem+json"


class HttpProblem(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers or {}


def problem_response(status: int, title: str, detail: str | None, request: Request,
                     headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.url.path
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(HttpProblem)
    async def _http_problem(request: Request, error: HttpProblem):
        return problem_response(error.status, error.title, error.detail, request, error.headers)

    @app.exception_handler(AirlockError)
    async def _airlock(request: Request, error: AirlockError):
        doc = problem(error, request.url.path)
        return problem_response(doc["status"], doc["title"], doc["detail"], request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError):
        # Name where and why, never the submitted value (it may hold PII).
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return problem_response(422, "Invalid request", f"{where}: {first.get('msg', 'invalid')}", request)

    @app.exception_handler(StarletteHTTPException)
    async def _starlette(request: Request, error: StarletteHTTPException):
        titles = {404: "Not found", 405: "Method not allowed"}
        return problem_response(error.status_code, titles.get(error.status_code, "HTTP error"), None, request,
                                getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception):
        get_logger().error("unhandled_error", error_type=type(error).__name__, path=request.url.path)
        return problem_response(500, "Internal error", "quote the request id to the operator", request)
