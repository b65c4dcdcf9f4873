"""``saliency-repro study serve`` and ``saliency-repro study export``.

``serve`` loads a study from the workflow's crowd design (``--configfile`` + ``--dataset``, or
``--design-dir`` + ``--label-names``) into the database (once; a restart continues it) and
serves it; with ``--db`` alone it serves the study the database already holds. ``export``
writes the counted answers as the long CSV the ``platform`` importer reads.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``study serve`` and ``study export`` to the package's command line."""
    p = sub.add_parser("study", help="host the crowd study (Prolific, MTurk or lab) and export its answers")
    ss = p.add_subparsers(dest="study_command", required=True)
    s = ss.add_parser("serve", help="serve a study's batches to workers")
    s.add_argument("--configfile", help="the workflow config whose crowd design to serve")
    s.add_argument("--dataset", help="the classification dataset (one study per dataset)")
    s.add_argument("--design-dir", help="instead of --configfile: <results>/<run>/crowd/<dataset>")
    s.add_argument("--label-names", help="with --design-dir: comma-separated label names, in label order")
    s.add_argument("--db", help="SQLAlchemy URL (default: sqlite file <results>/<run>/study/<dataset>.sqlite)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--public-url", help="the address workers use (printed links; default http://host:port)")
    s.add_argument("--lease-minutes", type=float, default=60.0,
                   help="a batch not finished this long after its start is released (default 60)")
    s.add_argument("--completion-url", default="",
                   help="Prolific: where a finished worker is sent, e.g. https://app.prolific.com/submissions/complete?cc=CODE")
    s.add_argument("--completion-code", default="", help="shown to finished lab/MTurk workers")
    s.add_argument("--token", default=os.environ.get("SALIENCY_STUDY_TOKEN", ""),
                   help="researcher view token (default: $SALIENCY_STUDY_TOKEN, else a new random one, printed)")
    s.add_argument("--min-seconds", type=float, default=None,
                   help="the importer's too-fast rule for the researcher view (default: config crowd.platform.min_seconds or 120)")
    s.add_argument("--sqlite-synchronous", default="NORMAL", choices=["NORMAL", "FULL"],
                   help="NORMAL: no committed answer lost when the server process dies; FULL: nor on power loss")
    s.add_argument("--keep-alive-seconds", type=float, default=75.0,
                   help="idle HTTP keep-alive kept open (longer than clients keep theirs, so a client "
                        "never sends on a connection the server is closing)")
    s.add_argument("--access-log", action="store_true", help="log every request")
    s.set_defaults(func=_serve)
    e = ss.add_parser("export", help="write the counted answers as the platform importer's long CSV")
    e.add_argument("--db", required=True, help="SQLAlchemy URL of the study database")
    e.add_argument("--out", required=True, help="CSV file to write")
    e.set_defaults(func=_export)


def _study_from_args(args: argparse.Namespace):
    from saliency_repro.study.db import StudyError
    from saliency_repro.study.source import design_root, load_study

    min_seconds = args.min_seconds
    if args.configfile:
        if not args.dataset:
            raise StudyError("--configfile needs --dataset")
        root, labels = design_root(args.configfile, args.dataset)
        if min_seconds is None:
            from saliency_repro.config import load_config

            plat = load_config(args.configfile)["crowd"].get("platform", {}) or {}
            min_seconds = float(plat.get("min_seconds", 120))
    elif args.design_dir:
        if not args.label_names:
            raise StudyError("--design-dir needs --label-names")
        root = Path(args.design_dir)
        labels = [x.strip() for x in args.label_names.split(",") if x.strip()]
    else:
        return None, None, 120.0 if min_seconds is None else min_seconds
    dataset = args.dataset or root.name
    db_url = args.db or f"sqlite:///{root.parent.parent / 'study' / (dataset + '.sqlite')}"
    return load_study(root, dataset, labels), db_url, 120.0 if min_seconds is None else min_seconds


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from saliency_repro.study.app import create_app, safe_url
    from saliency_repro.study.db import StudyError, engine_for, install
    from saliency_repro.study.service import Settings, Study

    try:
        data, db_url, min_seconds = _study_from_args(args)
        db_url = args.db or db_url
        if db_url is None:
            raise StudyError("give --configfile and --dataset (or --design-dir), or --db of a started study")
        if args.completion_url and not safe_url(args.completion_url):
            raise StudyError(f"--completion-url {args.completion_url!r} is not an http(s) URL")
        if db_url.startswith("sqlite:///"):
            Path(db_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = engine_for(db_url, args.sqlite_synchronous)
        if data is not None:
            loaded = install(engine, data)
            print(f"study {data.dataset}: {len(data.tasks)} tasks in {len(data.batches)} batches "
                  f"({'loaded now' if loaded else 'continuing'}) in {db_url}", flush=True)
        token = args.token or secrets.token_urlsafe(18)
        settings = Settings(lease_seconds=args.lease_minutes * 60, completion_url=args.completion_url,
                            completion_code=args.completion_code, admin_token=token,
                            min_seconds=min_seconds)
        study = Study(engine, settings)
    except (StudyError, SQLAlchemyError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    url = (args.public_url or f"http://{args.host}:{args.port}").rstrip("/")
    print(f"Prolific study URL: {url}/start?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}&STUDY_ID={{{{%STUDY_ID%}}}}"
          f"&SESSION_ID={{{{%SESSION_ID%}}}}")
    print(f"MTurk ExternalQuestion URL: {url}/start")
    print(f"lab link: {url}/start")
    print(f"researcher view: {url}/admin?token={token}", flush=True)
    uvicorn.run(create_app(study), host=args.host, port=args.port, log_level="warning",
                access_log=args.access_log, timeout_graceful_shutdown=5,
                timeout_keep_alive=args.keep_alive_seconds)
    return 0


def _export(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from saliency_repro.study.db import StudyError
    from saliency_repro.study.service import write_long_csv

    try:
        snap = write_long_csv(args.db, args.out)
    except (StudyError, SQLAlchemyError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    print(f"{snap['path']}: {snap['answers_counted']} counted answer(s) of study {snap['dataset']} "
          f"(last answer id {snap['last_answer_id']}, sha256 {snap['sha256'][:12]})")
    return 0
