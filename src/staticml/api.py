"""The same model folders behind an HTTP API: one onnxruntime session per model, dynamic micro-batching.

`POST /v1/predict`, `GET /v1/models`, `GET /healthz`, OpenAPI at `/openapi.json`; a task with a
route of its own (its `api` is a `tasks.base.Route`, e.g. `POST /v1/answer`) gets that route. Inference runs
in a worker thread; requests that arrive while a batch runs (or within `max_wait_ms` of the first)
are run together as one batch of at most `max_texts` texts. Bad input gets a 4xx JSON
`{"detail": "..."}` that says what to change.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from . import tasks
from .errors import UserError
from .runtime import Classifier
from .server import settle_heap
from .site_config import model_dirs

log = logging.getLogger("staticml.api")

MAX_TEXTS = 256  # inputs (texts, rows) per request
MAX_BODY_BYTES = 2 * 1024 * 1024
# Quantized MatMuls pick their activation scale from the whole batch: such a model's output for a
# text depends on the other texts of its batch, so it never shares a batch across requests.
BATCH_DEPENDENT_OPS = {"DynamicQuantizeLinear", "DynamicQuantizeMatMul", "MatMulIntegerToFloat"}


@dataclass(frozen=True)
class BatchSettings:
    """Micro-batching bounds; `max_texts=1` turns cross-request batching off."""

    max_texts: int = 32
    max_wait_ms: float = 0.0

    @classmethod
    def from_env(cls) -> "BatchSettings":
        """STATICML_API_MAX_BATCH and STATICML_API_MAX_WAIT_MS override the defaults."""
        try:
            max_texts = int(os.environ.get("STATICML_API_MAX_BATCH", cls.max_texts))
            max_wait_ms = float(os.environ.get("STATICML_API_MAX_WAIT_MS", cls.max_wait_ms))
        except ValueError as exc:
            raise UserError(f"STATICML_API_MAX_BATCH / STATICML_API_MAX_WAIT_MS: not a number ({exc})") from None
        if max_texts < 1 or max_wait_ms < 0:
            raise UserError("STATICML_API_MAX_BATCH must be >= 1 and STATICML_API_MAX_WAIT_MS >= 0")
        return cls(max_texts, max_wait_ms)


# ---- request and response shapes (they are the OpenAPI document) ----

def request_type(runners: dict[str, Any]) -> type[BaseModel]:
    """The request body the OpenAPI document promises: exactly what these models accept, one field
    per kind of input (each task's `api.field`: texts, rows), required when all models take the same."""
    apis = {api.field: api for api in (_api_of(r) for r in runners.values()) if isinstance(api, tasks.base.Api)}
    required = len(apis) == 1
    fields: dict[str, Any] = {
        name: (list[api.item] if required else list[api.item] | None,
               Field(... if required else None, min_length=1, max_length=MAX_TEXTS, description=api.description))
        for name, api in apis.items()}
    fields["model"] = (str | None, Field(None, description="a name from GET /v1/models; omit for the default model"))
    example = {"examples": [{"texts": ["I love this!"]}]} if "texts" in apis else {}
    return create_model("PredictRequest", __config__=ConfigDict(extra="forbid", json_schema_extra=example), **fields)


def _api_of(runner: Any) -> tasks.base.Api | tasks.base.Route:
    return tasks.get(runner.manifest["task"]).api


class Prediction(BaseModel):
    label: str
    scores: dict[str, float]
    set: list[str] | None = Field(None, description="models with prediction sets (manifest 'conformal'): the labels "
                                  "that hold the true one at the stated coverage, most probable first; absent otherwise")


class PredictResponse(BaseModel):
    predictions: list[Prediction]


class ModelInfo(BaseModel):
    name: str
    task: str
    labels: list[str]
    variant: str
    input: str = Field(description="the request field this model's inputs go in (texts, rows), or the route it answers on (/v1/answer)")
    max_length: int | None = Field(None, description="text models: tokens per text")
    features: list[dict[str, Any]] | None = Field(None, description="tabular models: the columns a row must have")
    micro_batching: bool = Field(description="false when the graph's output depends on the rest of its batch")


class ModelsResponse(BaseModel):
    default: str
    models: list[ModelInfo]


class BatchStats(BaseModel):
    requests: int = 0
    texts: int = 0
    batches: int = 0
    largest_batch: int = 0


class Health(BaseModel):
    status: str
    models: dict[str, BatchStats]


class Error(BaseModel):
    detail: str


class ApiError(Exception):
    def __init__(self, status: int, detail: str):
        self.status, self.detail = status, detail


# ---- micro-batching ----

@dataclass
class _Job:
    texts: list[str]
    future: asyncio.Future


def batch_dependent(path: Path) -> bool:
    graph = onnx.load(str(path), load_external_data=False).graph
    return any(node.op_type in BATCH_DEPENDENT_OPS for node in graph.node)


class Batcher:
    """One model's queue: gathers waiting requests into one `Classifier.predict` call in a thread.
    Requests are checked before they join a batch; should a batch still fail, each of its requests
    runs alone, so only the one that cannot be scored is refused."""

    def __init__(self, classifier: Classifier, settings: BatchSettings):
        self.classifier = classifier
        self.micro_batching = not batch_dependent(classifier.model_dir / classifier.manifest["variants"][classifier.variant])
        self.settings = settings if self.micro_batching else BatchSettings(max_texts=1)
        self.stats = BatchStats()
        self._queue: asyncio.Queue[_Job] | None = None
        self._carry: _Job | None = None  # a job that did not fit the previous batch
        self._task: asyncio.Task | None = None

    async def predict(self, texts: list[str]) -> list[dict]:
        if self._task is None:  # started lazily: the queue belongs to the server's event loop
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._serve())
        job = _Job(texts, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(job)
        return await job.future

    async def _serve(self) -> None:
        while True:
            jobs = await self._gather()
            texts = [text for job in jobs for text in job.texts]
            try:
                predictions = await asyncio.to_thread(self.classifier.predict, texts)
            except Exception as exc:  # keep serving: find the request at fault, answer every other one
                if len(jobs) == 1:
                    _settle(jobs, self.refusal(exc))
                else:
                    await self._run_alone(jobs)
                continue
            self._count(jobs, len(texts))
            _settle(jobs, predictions)

    async def _run_alone(self, jobs: list[_Job]) -> None:
        """A failed batch's requests, one run each: one bad request never fails another."""
        for job in jobs:
            try:
                predictions = await asyncio.to_thread(self.classifier.predict, job.texts)
            except Exception as exc:
                _settle([job], self.refusal(exc))
                continue
            self._count([job], len(job.texts))
            _settle([job], predictions)

    def refusal(self, exc: Exception) -> "ApiError":
        """A request that fails on its own: its input is at fault (4xx), unless the server ran out of memory."""
        if isinstance(exc, MemoryError):
            return ApiError(503, "the server is out of memory; retry later or send fewer texts per request")
        if isinstance(exc, UserError):
            return ApiError(422, str(exc))
        log.warning("model '%s' could not score a request", self.classifier.name, exc_info=exc)
        reason = (str(exc).splitlines() or [""])[0][:200]
        return ApiError(422, f"model '{self.classifier.name}' cannot score this input ({type(exc).__name__}: {reason})")

    async def _gather(self) -> list[_Job]:
        first = self._carry or await self._queue.get()
        self._carry = None
        jobs, count = [first], len(first.texts)
        deadline = asyncio.get_running_loop().time() + self.settings.max_wait_ms / 1000
        while count < self.settings.max_texts:
            job = await self._next(deadline)
            if job is None:
                break
            if count + len(job.texts) > self.settings.max_texts:
                self._carry = job
                break
            jobs.append(job)
            count += len(job.texts)
        return jobs

    async def _next(self, deadline: float) -> _Job | None:
        if not self._queue.empty():
            return self._queue.get_nowait()
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), remaining)
        except asyncio.TimeoutError:
            return None

    def _count(self, jobs: list[_Job], texts: int) -> None:
        stats = self.stats
        stats.requests += len(jobs)
        stats.texts += texts
        stats.batches += 1
        stats.largest_batch = max(stats.largest_batch, texts)


def _settle(jobs: list[_Job], outcome: list[dict] | Exception) -> None:
    start = 0
    for job in jobs:
        end = start + len(job.texts)
        if not job.future.done():  # the client may have gone away
            if isinstance(outcome, Exception):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome[start:end])
        start = end


# ---- POST /v1/predict's common case, without FastAPI's per-request machinery ----

class FastPredict:
    """Answers the common POST /v1/predict (a JSON body under the size limit that validates, no CORS
    request) as FastAPI would, validated by the same request type and answered by the same endpoint,
    without the middleware, dependency and routing layers around it: they took half the CPU time of a
    one-text request. Anything else (a body that does not validate, a browser's cross-origin request,
    another content type, a chunked or oversized body) goes on to the app, which answers it as before."""

    def __init__(self, app: ASGIApp, body_type: type[BaseModel], predict: Any, max_bytes: int = MAX_BODY_BYTES):
        self.app, self.body_type, self.predict, self.max_bytes = app, body_type, predict, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._common(scope):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)
        if body is None:
            return
        if len(body) > self.max_bytes:
            await self.app(scope, _replay(body), send)  # BodyGuard refuses it (413)
            return
        request = self._validated(body)
        if request is None:
            await self.app(scope, _replay(body), send)  # FastAPI's path, for its error message
            return
        try:
            response = await self.predict(request)
        except ApiError as exc:
            response = _error(exc.status, exc.detail)
        await response(scope, receive, send)

    def _common(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/v1/predict":
            return False
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        return (b"origin" not in headers and headers.get(b"content-type") == b"application/json"
                and length.isdigit() and int(length) <= self.max_bytes)

    def _validated(self, body: bytes) -> BaseModel | None:
        """The body as FastAPI reads it (json.loads, then the request type), or None where FastAPI would refuse it."""
        try:
            return self.body_type.model_validate(json.loads(body))
        except (ValueError, RecursionError):  # not JSON, or not a valid request (pydantic's ValidationError is a ValueError)
            return None


# ---- body checks that must happen before parsing ----

class BodyGuard:
    """415 for a body that is not JSON, 413 for one over the size limit (read no further than it)."""

    def __init__(self, app: ASGIApp, paths: tuple[str, ...] = ("/v1/predict",), max_bytes: int = MAX_BODY_BYTES):
        self.app, self.paths, self.max_bytes = app, paths, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _is_json(headers.get("content-type", "")):
            got = headers.get("content-type") or "none"
            await _error(415, f"Content-Type is {got}; send the body as JSON with 'Content-Type: application/json'")(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)
        if body is None:
            return
        if len(body) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        await self.app(scope, _replay(body), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = f"{self.max_bytes / 1024 / 1024:g} MB"
        await _error(413, f"the body is over {limit}; send fewer or shorter texts per request")(scope, receive, send)


async def read_body(receive: Receive, max_bytes: int) -> bytes | None:
    """The request's body, read no further than the message that takes it past `max_bytes`; None when
    the client went away first."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > max_bytes:
            break
    return bytes(body)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _error(status: int, detail: str) -> JSONResponse:
    # A detail may quote the request (a key, a model name); a lone surrogate there must not turn a 4xx into a 500.
    return JSONResponse({"detail": detail.encode("utf-8", "backslashreplace").decode("utf-8")}, status_code=status)


def describe_validation(errors: list[dict], path: str = "/v1/predict") -> tuple[int, str]:
    """Pydantic's errors → one status and one sentence per problem, naming the field to change."""
    if any(e["type"] == "json_invalid" for e in errors):
        reason = next(e for e in errors if e["type"] == "json_invalid").get("ctx", {}).get("error", "")
        return 400, f"the body is not valid JSON ({reason}); send {{\"texts\": [\"...\"]}}"
    if path != "/v1/predict":  # a task's own route: its body is its own (the OpenAPI document shows it)
        return 422, "; ".join(_describe_own(e, path) for e in errors[:5])
    return 422, "; ".join(_describe(e) for e in errors[:5])


def _describe_own(error: dict, path: str) -> str:
    if error["type"] == "extra_forbidden":
        where = ".".join(str(p) for p in error["loc"] if p != "body")
        return f"{where} is not a field of POST {path}'s body (see /openapi.json)"
    if error["type"] in ("model_attributes_type", "dict_type") and list(error["loc"]) in (["body"], []):
        return f"the body must be a JSON object (POST {path}: see /openapi.json)"
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error") or error["msg"])  # the body type's own sentence
    return _describe(error)


def _describe(error: dict) -> str:
    loc = [part for part in error["loc"] if part != "body"]
    where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(loc)) or "the body"
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in ("model_attributes_type", "dict_type", "missing") and not loc:
        return 'the body must be a JSON object like {"texts": ["..."], "model": "optional name"}'
    if kind == "dict_type":
        return f"{where} must be an object {{column: value}}, not {_json_type(error.get('input'))}"
    if kind == "missing" and loc == ["rows"]:
        return 'rows is missing; send {"rows": [{column: value}]}'
    if kind == "missing":
        return f'{where} is missing; send {{"texts": ["..."]}}'
    if kind == "extra_forbidden":
        return f"{where} is not a field; the body takes 'texts' (or 'rows' for a tabular model) and optionally 'model'"
    if kind == "too_short" and loc in (["texts"], ["rows"]):
        return f"{loc[0]} is empty; send at least one"
    if kind == "too_long" and loc in (["texts"], ["rows"]):
        return f"{loc[0]} has {ctx.get('actual_length')} items; send at most {MAX_TEXTS} per request (split the list)"
    if kind == "string_too_long":
        return f"{where} has more than {ctx.get('max_length')} characters; shorten or split it"
    if kind == "string_unicode":
        return f"{where} is not valid Unicode text (it holds a lone surrogate such as \\ud800); send UTF-8 text"
    if kind == "string_type":
        return f"{where} must be a string, not {_json_type(error.get('input'))}"
    if kind == "list_type":
        what = "rows {column: value}" if loc[:1] == ["rows"] else "strings"
        return f"{where} must be a list of {what}, not {_json_type(error.get('input'))}"
    return f"{where}: {error['msg']}"


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# ---- the app ----

def load_models(dirs: list[Path], threads: int = 0) -> dict[str, Classifier]:
    """One runner (one onnxruntime session on `threads` threads, 0: every core) per model folder,
    created now, before serving; a task the API does not serve (its `api` is Declined) is refused with its reason."""
    classifiers: dict[str, Classifier] = {}
    for model_dir in dirs:
        task = tasks.for_model(model_dir)
        if isinstance(task.api, tasks.Declined):
            raise UserError(f"{model_dir}: a {task.name} model is not served by the HTTP API: {task.api.reason}")
        classifier = task.open(model_dir, threads=threads, spin=False)
        if classifier.name in classifiers:
            raise UserError(f"{model_dir}: a second model named '{classifier.name}'; names must differ")
        classifiers[classifier.name] = classifier
    if not classifiers:
        raise UserError("api: give at least one model folder")
    return classifiers


def create_api(classifiers: dict[str, Classifier], settings: BatchSettings | None = None,
               cors_origins: tuple[str, ...] = ("*",)) -> FastAPI:
    """The API app. `cors_origins`: the origins whose pages may call it (`staticml api` stands
    alone, so any page may: "*"); empty for no CORS at all (`serve --api`: page and API share an origin)."""
    settings = settings or BatchSettings.from_env()
    batchers = {name: Batcher(c, settings) for name, c in classifiers.items()}
    default = next(iter(batchers))
    app = FastAPI(title="staticml", summary="The same models as the page, behind an HTTP API.",
                  docs_url=None, redoc_url=None)  # the docs UI would load scripts from a CDN
    routes = {api.path: api for api in (_api_of(c) for c in classifiers.values()) if isinstance(api, tasks.base.Route)}
    app.add_middleware(BodyGuard, paths=("/v1/predict", *routes))
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["content-type"])

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(*describe_validation(list(exc.errors()), request.url.path))

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.detail)

    errors = {status: {"model": Error} for status in (400, 404, 413, 415, 422)}

    async def predict(body) -> JSONResponse:
        """Probabilities for each text (or row), from the same ONNX file (and tokenizer) as the page."""
        name = body.model or default
        if name not in batchers:
            raise ApiError(404, f"unknown model '{name}'; known models: {', '.join(batchers)} "
                                f"(omit \"model\" for the default, '{default}')")
        classifier = batchers[name].classifier
        api = _api_of(classifier)
        if not isinstance(api, tasks.base.Api):
            raise ApiError(422, f"model '{name}' is a {classifier.manifest['task']} model: send its requests to POST {api.path}")
        predictions = await batchers[name].predict(_inputs(body, classifier))
        problem = unscorable(predictions, _api_of(classifier).field)
        if problem:
            raise ApiError(422, problem)
        return JSONResponse({"predictions": predictions})

    if any(isinstance(_api_of(c), tasks.base.Api) for c in classifiers.values()):
        body_type = request_type(classifiers)
        predict.__annotations__["body"] = body_type  # FastAPI reads the body's type from here
        app.post("/v1/predict", response_model=PredictResponse, responses=errors)(predict)
        app.add_middleware(FastPredict, body_type=body_type, predict=predict)
    for route in routes.values():
        add_route(app, route, batchers, errors)

    @app.get("/v1/models", response_model=ModelsResponse)
    async def models() -> JSONResponse:
        answer = ModelsResponse(default=default, models=[_info(b) for b in batchers.values()])
        return JSONResponse(answer.model_dump(exclude_none=True))  # a text model has no features, a tabular one no max_length

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        """Liveness, and per model how requests were batched (requests, texts, batches, largest batch)."""
        return Health(status="ok", models={name: b.stats for name, b in batchers.items()})

    return app


def add_route(app: FastAPI, route: tasks.base.Route, batchers: dict[str, "Batcher"], errors: dict) -> None:
    """A task's own route: its body type, answered by `route.respond(runner, body)` in a worker thread,
    requests side by side (the runner is thread-safe, so a short request is not queued behind a long
    one); a request that fails is refused alone (4xx), the next one is answered."""
    names = [name for name, b in batchers.items() if _api_of(b.classifier) == route]

    async def respond(body) -> JSONResponse:
        name = body.model or names[0]
        if name not in batchers:
            raise ApiError(404, f"unknown model '{name}'; models on POST {route.path}: {', '.join(names)} (omit \"model\" for '{names[0]}')")
        batcher = batchers[name]
        if name not in names:
            raise ApiError(422, f"model '{name}' is a {batcher.classifier.manifest['task']} model: POST {route.path} is for "
                                f"{', '.join(names)}")
        try:
            answer = await asyncio.to_thread(route.respond, batcher.classifier, body)
        except Exception as exc:
            raise batcher.refusal(exc) from None
        batcher.stats.requests += 1
        return JSONResponse(answer)

    respond.__annotations__["body"] = route.body
    app.post(route.path, responses=errors, description=route.description, name=route.path.rsplit("/", 1)[-1])(respond)


def _inputs(body: BaseModel, classifier: Classifier) -> list:
    """The inputs in the field the model's task takes (texts, rows), checked by the model (422 naming the field)."""
    field = _api_of(classifier).field
    given = [name for name, value in body if name != "model" and value is not None]
    if given != [field]:
        other = f"; {', '.join(n for n in given if n != field)} is for other models" if set(given) - {field} else ""
        raise ApiError(422, f'{field} is missing; model \'{classifier.name}\' takes {field}: send {{"{field}": [...]}}{other}')
    items = getattr(body, field)
    try:
        classifier.check(items)
    except UserError as exc:
        raise ApiError(422, str(exc)) from None
    return items


def unscorable(predictions: list[dict], what: str) -> str | None:
    """A prediction whose probabilities are not numbers (NaN): numbers far outside the training data
    can overflow inside the graph. JSON has no NaN, so such a request is refused, naming the item."""
    for i, prediction in enumerate(predictions):
        if not all(math.isfinite(p) for p in prediction["scores"].values()):
            return (f"{what}[{i}]: the model's probabilities for it are not numbers (NaN); its values are too far "
                    "outside what the model was trained on (check its numbers)")
    return None


def _info(batcher: Batcher) -> ModelInfo:
    c = batcher.classifier
    api = _api_of(c)
    served_as = api.field if isinstance(api, tasks.base.Api) else api.path
    return ModelInfo(name=c.name, task=c.manifest["task"], input=served_as, labels=c.labels, variant=c.variant,
                     max_length=c.manifest.get("max_length"), features=c.manifest.get("features"),
                     micro_batching=batcher.micro_batching)


# ---- several worker processes behind one port (staticml api --workers N)

MODELS_ENV = "STATICML_API_MODELS"  # the model folders, os.pathsep-separated, for each worker process
THREADS_ENV = "STATICML_API_THREADS"  # onnxruntime threads per session in each worker


def default_workers() -> int:
    """One worker process per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_environment(dirs: list[Path], workers: int) -> dict[str, str]:
    """What each worker's `app_from_environment` reads: the models, and a share of the cores for each session."""
    threads = max(1, default_workers() // workers)
    return {MODELS_ENV: os.pathsep.join(str(Path(d).absolute()) for d in dirs), THREADS_ENV: str(threads)}


def app_from_environment() -> FastAPI:
    """The app factory each worker process runs (uvicorn imports it by name): the models named in
    STATICML_API_MODELS, each worker with its own sessions and its own micro-batching."""
    dirs = [Path(d) for d in os.environ[MODELS_ENV].split(os.pathsep) if d]
    app = create_api(load_models(dirs, threads=int(os.environ.get(THREADS_ENV, "0"))))
    settle_heap()
    return app


def site_api(site: Path, config: dict) -> FastAPI:
    """The API for a built site's models, on the site's origin (so no CORS: other sites' pages
    cannot call it from their visitors' browsers); its site.json tells the page a server is there."""
    app = create_api(load_models(list(model_dirs(site, config).values())), cors_origins=())
    served_config = {**config, "api_url": config.get("api_url") or "./"}

    @app.get("/site.json", include_in_schema=False)
    async def site_json() -> JSONResponse:
        return JSONResponse(served_config)

    return app
