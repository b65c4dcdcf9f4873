"""The study's web application (Starlette, Jinja2 templates with autoescaping).

Routes (workers): ``/start`` (arrival: Prolific ``PROLIFIC_PID``/``STUDY_ID``/``SESSION_ID``,
MTurk ExternalQuestion ``workerId``/``assignmentId``/``hitId``/``turkSubmitTo`` with the
``ASSIGNMENT_ID_NOT_AVAILABLE`` preview, or a lab worker id typed into a form), ``/b/<token>``
(the current task, or the end of the batch), ``POST /b/<token>/answer`` (one answer, stored
before the reply; answers ``303`` to the next task, or JSON with ``Accept:
application/json``). Researcher: ``/admin`` (progress), ``/admin/progress.json``,
``/admin/export.csv`` (the long CSV), ``POST /admin/release`` (a person's lease), all behind
the token (``Authorization: Bearer <token>`` or ``?token=``).
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from saliency_repro.crowd.export import IDK_TEXT
from saliency_repro.crowd.steps import question_for
from saliency_repro.study.service import Arrival, Study, StudyRequestError

LOG = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
NOT_AVAILABLE = "ASSIGNMENT_ID_NOT_AVAILABLE"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    # scripts: only the page's own inline keyboard handler; MTurk shows the page in a frame
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "script-src 'unsafe-inline'; form-action *; base-uri 'none'",
}


def create_app(study: Study) -> Starlette:
    """The ASGI application serving ``study``."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    s = study.settings
    keys = "123456789"[:len(study.label_names)]

    def page(name: str, status: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("title", "Guess the label")
        html = env.get_template(name).render(labels=study.label_names, idk=IDK_TEXT,
                                             question=question_for(study.label_names), **ctx)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def error(exc: StudyRequestError, json: bool = False, token: str = "") -> Response:
        if json:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        return page("error.html", exc.status, message=str(exc), token=token)

    def example() -> dict:
        first = next(iter(study.batch_task_ids.values()))[0]
        return study.task(first)

    async def start(request: Request) -> Response:
        q = request.query_params
        try:
            if "PROLIFIC_PID" in q:
                who = Arrival("prolific", q["PROLIFIC_PID"], q.get("SESSION_ID", ""),
                              q.get("STUDY_ID", ""))
            elif "assignmentId" in q:
                if q["assignmentId"] == NOT_AVAILABLE:  # MTurk preview: an example, no batch
                    return page("preview.html", task=example(), keys=keys)
                submit_to = q.get("turkSubmitTo", "")
                if submit_to.rstrip("/") not in s.mturk_submit_hosts:
                    raise StudyRequestError(400, f"turkSubmitTo {submit_to[:60]!r} is not one of "
                                                 f"{list(s.mturk_submit_hosts)}")
                who = Arrival("mturk", q.get("workerId", ""), q["assignmentId"], q.get("hitId", ""),
                              submit_to.rstrip("/"))
            elif "worker" in q:
                who = Arrival("lab", q["worker"].strip())
            else:
                return page("lab.html")
            token = await run_in_threadpool(study.arrive, who)
        except StudyRequestError as exc:
            return error(exc)
        if token is None:
            full = page("full.html", 200)
            full.headers["X-Study-State"] = "full"
            return full
        return RedirectResponse(f"/b/{token}", status_code=303, headers=SECURITY_HEADERS)

    async def batch(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            lv = await run_in_threadpool(study.lease, token)
        except StudyRequestError as exc:
            return error(exc)
        if lv.state == "finished":
            if lv.platform == "prolific" and s.completion_url:
                return RedirectResponse(s.completion_url, status_code=303, headers=SECURITY_HEADERS)
            action = f"{lv.submit_to}/mturk/externalSubmit" if lv.platform == "mturk" else ""
            return page("done.html", lv=lv, action=action, code=s.completion_code,
                        completion_url=s.completion_url)
        if lv.state != "active":
            return page("expired.html", 410, lv=lv)
        task = study.task(lv.task_ids[lv.n_answered])
        return page("task.html", lv=lv, task=task, keys=keys,
                    position=lv.n_answered + 1)

    async def answer(request: Request) -> Response:
        token = request.path_params["token"]
        want_json = "application/json" in request.headers.get("accept", "")
        try:
            fields = await read_form(request, s.max_body_bytes)
            lv = await run_in_threadpool(study.answer, token, fields["task_id"], fields["answer"])
        except StudyRequestError as exc:
            return error(exc, want_json, token)
        if want_json:
            nxt = None if lv.state == "finished" else study.task(lv.task_ids[lv.n_answered])
            return JSONResponse({"stored": True, "answered": lv.n_answered, "of": lv.n_tasks,
                                 "next": nxt, "done": lv.state == "finished"})
        return RedirectResponse(f"/b/{token}", status_code=303, headers=SECURITY_HEADERS)

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        given = given[7:] if given.lower().startswith("bearer ") else request.query_params.get("token", "")
        return bool(s.admin_token) and hmac.compare_digest(given.encode(), s.admin_token.encode())

    async def admin(request: Request) -> Response:
        if not authorized(request):
            return PlainTextResponse("admin token required", status_code=401)
        prog = await run_in_threadpool(study.progress)
        if request.url.path.endswith(".json"):
            return JSONResponse(prog)
        return page("admin.html", prog=prog, token_q=urlencode({"token": s.admin_token}),
                    title=f"Study {study.dataset}")

    async def export(request: Request) -> Response:
        if not authorized(request):
            return PlainTextResponse("admin token required", status_code=401)
        text = await run_in_threadpool(study.long_csv)
        return Response(text, media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="study_{study.dataset}_answers.csv"'})

    async def release(request: Request) -> Response:
        if not authorized(request):
            return PlainTextResponse("admin token required", status_code=401)
        try:
            fields = await read_form(request, s.max_body_bytes, ("person_key",))
        except StudyRequestError as exc:
            return error(exc, True)
        ok = await run_in_threadpool(study.release, fields["person_key"])
        return JSONResponse({"released": ok}, status_code=200 if ok else 404)

    async def done_page(request: Request) -> Response:
        return page("thanks.html", code=request.query_params.get("cc", ""))

    routes = [
        Route("/", start), Route("/start", start), Route("/b/{token}", batch),
        Route("/b/{token}/answer", answer, methods=["POST"]),
        Route("/admin", admin), Route("/admin/progress.json", admin),
        Route("/admin/export.csv", export), Route("/admin/release", release, methods=["POST"]),
        Route("/done", done_page),
        Route("/healthz", lambda r: PlainTextResponse("ok")),
    ]
    app = Starlette(routes=routes)
    app.state.study = study
    return app


async def read_form(request: Request, limit: int,
                    names: tuple[str, ...] = ("task_id", "answer")) -> dict[str, str]:
    """The urlencoded body's fields ``names``, each exactly once; 413 over ``limit`` bytes,
    415 another content type, 400 malformed or missing fields (read before anything is done)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise StudyRequestError(415, "send the form as application/x-www-form-urlencoded")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise StudyRequestError(413, f"request body over {limit} bytes")
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise StudyRequestError(413, f"request body over {limit} bytes")
    except ClientDisconnect:  # the worker left mid-request: nothing was read, nothing is done
        raise StudyRequestError(400, "the request was not received whole") from None
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True,
                          max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        raise StudyRequestError(400, "malformed form body") from None
    out = {}
    for n in names:
        v = parsed.get(n, [])
        if len(v) != 1:
            raise StudyRequestError(400, f"the form needs exactly one {n!r} field")
        out[n] = v[0]
    extra = set(parsed) - set(names)
    if extra:
        raise StudyRequestError(400, f"unexpected form field {sorted(extra)[0][:40]!r}")
    return out


def safe_url(url: str) -> bool:
    """A completion URL must be http(s) with a host."""
    p = urlsplit(url)
    return p.scheme in ("http", "https") and bool(p.netloc)
