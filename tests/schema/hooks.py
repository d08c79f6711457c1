"""Schemathesis hooks for Clipwave's schema test (tests/schema/run.sh).

Schemathesis generates each request from docs/openapi.yaml; these hooks
make sure the generated requests get past authentication and past the 404
of unknown ids often enough that the handlers behind them are tested too:

* ``ClipwaveAuth`` (an auth provider, so schemathesis knows the credentials
  are deliberate and its ``ignored_auth`` check probes each protected
  operation without them) gives every case fresh, valid credentials of the
  kind its route needs: a user access token (each operation has its own
  user; every case gets a newly refreshed token), an admin token for
  ``/users``, a service token from ``POST /token`` with the dev worker's
  client credentials for ``/internal/*``, and the worker's HTTP Basic
  credentials for ``POST /token``. Operations that end a session
  (``POST /logout``, ``PATCH /me``) get a brand-new user per case, so no
  case can revoke the credentials of another. A few cases on purpose get a
  valid token of the wrong kind (403 ``insufficient_scope``).
* ``before_call`` (whose edits schemathesis re-validates, so positive and
  negative cases stay labelled right) points path parameters, ``fid``,
  ``attempt`` and some bodies at real objects part of the time: jobs the
  caller uploaded (queued, or driven to ``done`` through the internal
  worker API), jobs a service token just claimed, users an admin just
  created, a real refresh token, the right current password, a valid
  media file for ``/upload`` and an mp3 for the worker's ``PUT`` (both
  swapped in by the serializers below), a satisfiable or unsatisfiable
  ``Range``. A negative case is never repaired: it gets a real id only
  when its invalid part is elsewhere, so the handler's own validation has
  to refuse it. Ids of the accounts the run relies on are never handed to
  a destructive admin call.
* ``filter_case`` skips the rare cases whose validity hangs on lengths in
  characters (JSON Schema) versus bytes (DESIGN §4).
* ``clipwave_response_basics`` (a check) asserts what DESIGN §3/§4a says
  every response keeps: an ``X-Request-Id`` header equal to an error
  body's ``request_id``, and ``WWW-Authenticate`` on every 401.

The app's URL and dev credentials come from ``CLIPWAVE_URL`` and
``CLIPWAVE_CREDENTIALS`` (run.sh sets both); ``SCHEMA_SEED`` seeds the
choices made here, as ``--seed`` seeds schemathesis.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import threading
import time
import uuid
import wave
from dataclasses import dataclass, field

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.transport.requests import REQUESTS_TRANSPORT
from schemathesis.transport.serialization import serialize_binary

BASE_URL = os.environ["CLIPWAVE_URL"].rstrip("/")
with open(os.environ["CLIPWAVE_CREDENTIALS"], encoding="utf-8") as _file:
    DEV = json.load(_file)
RNG = random.Random(int(os.environ.get("SCHEMA_SEED", "0")))
LOCK = threading.RLock()
HTTP = requests.Session()
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class FixtureError(RuntimeError):
    """A request the hooks rely on got an unexpected answer (a bug or a broken setup)."""


def api(method: str, path: str, expect: tuple[int, ...], **kwargs) -> requests.Response:
    """One request made by the hooks themselves; anything unexpected is an error."""
    response = HTTP.request(method, BASE_URL + path, timeout=60, **kwargs)
    if response.status_code not in expect:
        raise FixtureError(f"{method} {path} → {response.status_code}: {response.text[:300]}")
    return response


def chance(p: float) -> bool:
    return RNG.random() < p


# ---------------------------------------------------------------------------
# Media the gateway accepts (by magic bytes) and a stand-in mp3 output
# ---------------------------------------------------------------------------


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()


WAV = _wav()
# An ID3 tag then MPEG-1 Layer III frame headers: what the worker's PUT
# carries. The gateway stores it as is; nothing decodes it in this test.
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + (b"\xff\xfb\x90\x64" + b"\x00" * 413) * 4

# Real files for some positive cases, by case id. They are swapped in when
# the body is serialized: a hook that edits a binary body makes schemathesis
# re-validate it as not a string, i.e. label the case negative.
REAL_FILES: dict[str, bytes] = {}


@schemathesis.serializer("audio/mpeg", "audio/wav", "audio/ogg", "video/mp4", "video/webm")
def _raw_media(ctx, value) -> bytes:
    return REAL_FILES.get(ctx.case.id) or serialize_binary(value)


_multipart = REQUESTS_TRANSPORT._serializers["multipart/form-data"]


@REQUESTS_TRANSPORT.serializer("multipart/form-data")  # the transport's own form: returns requests' kwargs
def _multipart_with_real_file(ctx, value):
    if isinstance(value, dict):
        # A part's name travels in its Content-Disposition header, where
        # control characters are not allowed (RFC 9110 §5.5): such a body is
        # malformed HTTP, not a schema-valid upload, and the 400 it gets
        # says nothing about the spec. Generated extra fields like that go.
        value = {name: part for name, part in value.items() if not any(ord(c) < 32 or ord(c) == 127 for c in name)}
        if ctx.case.id in REAL_FILES:
            value["file"] = REAL_FILES[ctx.case.id]
    return _multipart(ctx, value)


# ---------------------------------------------------------------------------
# Principals: who a case acts as
# ---------------------------------------------------------------------------


@dataclass
class Principal:
    kind: str  # "user", "admin" or "service"
    user_id: str
    email: str = ""
    password: str = ""
    access: str = ""
    refresh: str = ""
    expires: float = 0.0
    done_jobs: list[str] = field(default_factory=list)
    queued_jobs: list[str] = field(default_factory=list)


TOKENS: dict[str, Principal] = {}  # access token → who it belongs to
OPERATION_USERS: dict[str, Principal] = {}
PROTECTED_IDS: set[str] = set()  # accounts a destructive admin call must never target
USED_REFRESH_TOKENS: list[str] = []
_admin: Principal | None = None
_service: Principal | None = None


def _remember(principal: Principal, pair: dict) -> Principal:
    principal.access = pair["access_token"]
    principal.refresh = pair.get("refresh_token", "")
    principal.expires = time.time() + int(pair["expires_in"])
    TOKENS[principal.access] = principal
    return principal


def _login(principal: Principal) -> Principal:
    pair = api("POST", "/login", (200,), json={"email": principal.email, "password": principal.password}).json()
    principal.user_id = pair["user_id"]
    return _remember(principal, pair)


def new_user(label: str, protected: bool = False) -> Principal:
    """Registers and logs in a new user."""
    email = f"{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')[:40]}-{uuid.uuid4().hex[:12]}@schema.test"
    password = uuid.uuid4().hex
    user_id = api("POST", "/register", (201,), json={"email": email, "password": password}).json()["user_id"]
    principal = _login(Principal("user", user_id, email, password))
    if protected:
        PROTECTED_IDS.add(principal.user_id)
    return principal


def fresh_access(principal: Principal) -> Principal:
    """A newly issued access token for `principal`'s session (a new session if it was revoked)."""
    if principal.refresh:
        response = api("POST", "/refresh", (200, 401), json={"refresh_token": principal.refresh})
        if response.status_code == 200:
            USED_REFRESH_TOKENS.append(principal.refresh)
            return _remember(principal, response.json())
    return _login(principal)


def operation_user(label: str) -> Principal:
    with LOCK:
        if label not in OPERATION_USERS:
            OPERATION_USERS[label] = new_user(label, protected=True)
        return fresh_access(OPERATION_USERS[label])


def admin() -> Principal:
    global _admin
    with LOCK:
        if _admin is None:
            _admin = _login(Principal("admin", "", DEV["admin_email"], DEV["admin_password"]))
            PROTECTED_IDS.add(_admin.user_id)
            return _admin
        return fresh_access(_admin)


def service() -> Principal:
    """The worker's service token (reused while it has a minute left)."""
    global _service
    with LOCK:
        if _service is None or _service.expires - time.time() < 60:
            pair = api(
                "POST",
                "/token",
                (200,),
                auth=(DEV["worker_client_id"], DEV["worker_client_secret"]),
                data={"grant_type": "client_credentials"},
            ).json()
            _service = _remember(Principal("service", DEV["worker_client_id"]), pair)
        return _service


def bearer(principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {principal.access}"}


# ---------------------------------------------------------------------------
# Jobs in every state, through the real API
# ---------------------------------------------------------------------------


def upload(owner: Principal) -> str:
    response = api("POST", "/upload", (202,), headers={**bearer(owner), "Content-Type": "audio/wav"}, data=WAV)
    return response.json()["job_id"]


def claim() -> tuple[str, int] | None:
    """Claims the oldest claimable job as the worker would: (job id, attempt) or None."""
    response = api("POST", "/internal/jobs/claim", (200, 204), headers=bearer(service()), json={"worker_id": "schema-test"})
    if response.status_code == 204:
        return None
    job = response.json()
    return job["job_id"], int(job["attempt"])


def put_output(job_id: str, attempt: int) -> None:
    api(
        "PUT",
        f"/internal/jobs/{job_id}/output?attempt={attempt}",
        (204,),
        headers={**bearer(service()), "Content-Type": "audio/mpeg"},
        data=MP3,
    )


def finish(job_id: str, attempt: int) -> None:
    put_output(job_id, attempt)
    api("POST", f"/internal/jobs/{job_id}/complete", (200,), headers=bearer(service()), json={"attempt": attempt, "duration_secs": 0.1})


def claimed_job() -> tuple[str, int]:
    """A job this run's worker identity holds the lease of right now."""
    with LOCK:
        got = claim()
        if got is None:
            upload(operation_user("fixture feeder"))
            got = claim()
        if got is None:
            raise FixtureError("a job was uploaded but nothing could be claimed")
        return got


def done_job(owner: Principal) -> str | None:
    """Uploads a job for `owner` and drives it to `done` (None if another claimer took it)."""
    with LOCK:
        job_id = upload(owner)
        for _ in range(50):
            got = claim()
            if got is None:
                return None
            finish(*got)  # older jobs of other users get done too: more variety
            if got[0] == job_id:
                owner.done_jobs.append(job_id)
                return job_id
        return None


def jobs_of(owner: Principal) -> Principal:
    """Makes sure `owner` has a done and a queued job."""
    if not owner.done_jobs:
        done_job(owner)
    if not owner.queued_jobs:
        owner.queued_jobs.append(upload(owner))
    return owner


def any_job_id() -> str | None:
    with LOCK:
        ids = [j for user in OPERATION_USERS.values() for j in user.done_jobs + user.queued_jobs]
    return RNG.choice(ids) if ids else None


# ---------------------------------------------------------------------------
# Credentials per operation
# ---------------------------------------------------------------------------


def route_kind(case) -> str:
    path = case.operation.path
    if path.startswith("/internal/"):
        return "service"
    if path == "/users" or path.startswith("/users/"):
        return "admin"
    if path == "/token":
        return "client"
    if case.operation.definition.raw.get("security") == [{"bearer": []}]:
        return "user"
    return "public"


@schemathesis.auth(refresh_interval=None)
class ClipwaveAuth:
    """Fresh credentials of the right kind for every case (see the module doc)."""

    def get(self, case, ctx):
        kind = route_kind(case)
        method = case.operation.method.upper()
        label = f"{method} {case.operation.path}"
        if kind == "public":
            return None
        if kind == "client":
            return ("basic", DEV["worker_client_id"], DEV["worker_client_secret"])
        # A valid token of the wrong kind now and then: 403 insufficient_scope.
        if chance(0.05):
            wrong = operation_user("wrong kind") if kind != "user" else service()
            return ("bearer", wrong.access)
        if kind == "service":
            return ("bearer", service().access)
        if kind == "admin":
            return ("bearer", admin().access)
        if label in ("POST /logout", "PATCH /me"):
            return ("bearer", new_user(label).access)  # this case may end its session
        return ("bearer", operation_user(label).access)

    def set(self, case, data, ctx):
        if case.headers is None:
            case.headers = {}
        if data[0] == "basic":
            from requests.auth import _basic_auth_str

            case.headers["Authorization"] = _basic_auth_str(data[1], data[2])
        else:
            case.headers["Authorization"] = f"Bearer {data[1]}"


# ---------------------------------------------------------------------------
# Real objects in requests
# ---------------------------------------------------------------------------


def caller(case) -> Principal | None:
    header = (case.headers or {}).get("Authorization", "")
    if isinstance(header, str) and header.startswith("Bearer "):
        return TOKENS.get(header[len("Bearer ") :])
    return None


def set_range(case, owner_job_size: int = len(MP3)) -> None:
    roll = RNG.random()
    if roll < 0.25:
        case.headers["Range"] = f"bytes={RNG.randrange(0, 100)}-{RNG.randrange(100, owner_job_size + 50)}"
    elif roll < 0.35:
        case.headers["Range"] = f"bytes={owner_job_size + RNG.randrange(0, 1000)}-"
    elif roll < 0.4:
        case.headers["Range"] = f"bytes=-{RNG.randrange(1, 500)}"


def _job_for_reading(who: Principal, want_done: bool) -> str | None:
    jobs_of(who)
    roll = RNG.random()
    if roll < 0.08:
        return any_job_id()  # very likely someone else's: the same 404 as a missing one
    if want_done and who.done_jobs and roll < 0.8:
        return RNG.choice(who.done_jobs)
    pool = who.done_jobs + who.queued_jobs
    return RNG.choice(pool) if pool else None


def generated_negative(case, location: ParameterLocation) -> bool:
    """Whether schemathesis made this part of the case invalid on purpose (then it is left alone)."""
    meta = case._meta
    return meta is not None and meta.is_negative_at(location)


def negative_case(case) -> bool:
    """A case schemathesis expects the API to reject: the hooks fix nothing in it."""
    meta = case._meta
    return meta is not None and meta.generation.mode.is_negative


def may_point_at_real_object(case, id_at: ParameterLocation) -> bool:
    """Real ids go into positive cases, and into negative ones whose invalid
    part is elsewhere (then the handler's own validation is what answers)."""
    if generated_negative(case, id_at):
        return False
    if not negative_case(case):
        return True
    meta = case._meta
    return any(info.mode.is_negative for location, info in meta.components.items() if location != id_at)


PATH, QUERY, HEADER, BODY = ParameterLocation.PATH, ParameterLocation.QUERY, ParameterLocation.HEADER, ParameterLocation.BODY


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Points some cases at real objects (see the module doc); negative parts stay as generated."""
    if case.headers is None:
        case.headers = {}
    method = case.operation.method.upper()
    path = case.operation.path
    label = f"{method} {path}"
    who = caller(case)
    with LOCK:
        if path.startswith("/jobs/{id}") or label == "GET /download":
            _user_job(case, who, method, path, label)
        elif path.startswith("/internal/jobs/{id}"):
            _worker_job(case, who, path)
        elif path == "/users/{id}":
            _user_account(case, who, method)
        else:
            _bodies(case, who, label)


def _user_job(case, who, method, path, label):
    downloads = path.endswith("/audio") or label == "GET /download"
    id_at = QUERY if label == "GET /download" else PATH
    if who is None or who.kind != "user" or not may_point_at_real_object(case, id_at) or not chance(0.7):
        return
    if method == "DELETE":
        job = done_job(who) if chance(0.5) else upload(who)
    else:
        job = _job_for_reading(who, want_done=downloads)
    if job is None:
        return
    if id_at == QUERY:
        case.query = {**(case.query or {}), "fid": job}
    else:
        case.path_parameters = {**(case.path_parameters or {}), "id": job}
    if downloads and not negative_case(case):
        set_range(case)


def _worker_job(case, who, path):
    if who is None or who.kind != "service" or not may_point_at_real_object(case, PATH) or not chance(0.7):
        return
    if path.endswith("/input"):
        case.path_parameters = {**(case.path_parameters or {}), "id": any_job_id() or claimed_job()[0]}
        return
    job, attempt = claimed_job()
    case.path_parameters = {**(case.path_parameters or {}), "id": job}
    if negative_case(case):
        return
    if isinstance(case.body, dict) and chance(0.85):
        case.body = {**case.body, "attempt": attempt}
    if path.endswith("/output"):
        if chance(0.85):
            case.query = {**(case.query or {}), "attempt": attempt}
        if chance(0.5):
            REAL_FILES[case.id] = MP3
    if path.endswith("/complete") and chance(0.6):
        put_output(job, attempt)


def _user_account(case, who, method):
    if who is None or who.kind != "admin":
        return
    current = (case.path_parameters or {}).get("id")
    if method in ("PATCH", "DELETE"):
        if current in PROTECTED_IDS and not may_point_at_real_object(case, PATH):
            # Never the admin or an operation's user, whatever was generated
            # (an unknown id keeps a case schemathesis expects to fail failing).
            case.path_parameters = {**(case.path_parameters or {}), "id": uuid.uuid4().hex}
        elif current in PROTECTED_IDS or (may_point_at_real_object(case, PATH) and chance(0.6)):
            victim = api(
                "POST",
                "/users",
                (201,),
                headers=bearer(admin()),
                json={"email": f"victim-{uuid.uuid4().hex[:12]}@schema.test", "password": uuid.uuid4().hex},
            ).json()
            case.path_parameters = {**(case.path_parameters or {}), "id": victim["user_id"]}
    elif may_point_at_real_object(case, PATH) and chance(0.6):
        case.path_parameters = {**(case.path_parameters or {}), "id": RNG.choice(sorted(PROTECTED_IDS))}


def _bodies(case, who, label):
    body = case.body
    if negative_case(case) or label == "POST /login" and "Authorization" in case.headers:
        return
    if label == "POST /upload" and who is not None and chance(0.4):
        REAL_FILES[case.id] = WAV
    if not isinstance(body, dict):
        return
    if label == "PATCH /me" and who is not None and chance(0.6):
        case.body = {**body, "current_password": who.password}
    elif label == "POST /refresh":
        roll = RNG.random()
        if roll < 0.5:
            case.body = {**body, "refresh_token": _login(operation_user("refresh source")).refresh}
        elif roll < 0.6 and USED_REFRESH_TOKENS:
            case.body = {**body, "refresh_token": RNG.choice(USED_REFRESH_TOKENS)}
    elif label == "POST /verify" and chance(0.5):
        case.body = {**body, "access": operation_user("verify source").access}
    elif label == "POST /login":
        roll = RNG.random()
        if roll < 0.3:
            target = operation_user("login target")
            case.body = {**body, "email": target.email, "password": target.password}
        elif roll < 0.45:
            # Wrong passwords for one account: after five, 429 with Retry-After.
            target = operation_user("login victim")
            case.body = {**body, "email": target.email.upper() if chance(0.5) else target.email}
    elif label == "POST /register" and chance(0.1):
        case.body = {**body, "email": operation_user("register twin").email.upper()}


# ---------------------------------------------------------------------------
# What every response keeps (DESIGN §3, §4a)
# ---------------------------------------------------------------------------


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


@schemathesis.hook
def filter_case(ctx, case):
    """Skips the few cases whose validity depends on how a length is counted.

    JSON Schema's minLength/maxLength count characters; DESIGN §4 limits
    passwords to 8–1024 bytes and the auth component limits a trimmed,
    lower-cased e-mail to 254 bytes. A 4-character password of 4-byte
    characters is invalid to the spec and valid to the API: no spec can say
    otherwise, so such cases prove nothing either way.
    """
    body = case.body
    if not isinstance(body, dict):
        return True
    for name in ("password", "new_password"):
        value = body.get(name)
        if isinstance(value, str) and (8 <= len(value) <= 1024) != (8 <= _utf8_len(value) <= 1024):
            return False
    email = body.get("email")
    if isinstance(email, str) and (len(email) <= 254) != (_utf8_len(email.strip().lower()) <= 254):
        return False
    return True


def header(response, name: str) -> str | None:
    values = response.headers.get(name.lower())
    return values[0] if values else None


@schemathesis.check
def clipwave_response_basics(ctx, response, case):
    """X-Request-Id on every response (= an error body's request_id); WWW-Authenticate on every 401."""
    request_id = header(response, "X-Request-Id")
    if request_id is None or not REQUEST_ID.match(request_id):
        raise AssertionError(f"X-Request-Id missing or malformed: {request_id!r}")
    if response.status_code >= 400 and "json" in (header(response, "Content-Type") or ""):
        try:
            body = json.loads(response.content)
        except ValueError:
            raise AssertionError("an error response's JSON body does not parse") from None
        if isinstance(body, dict) and body.get("request_id") != request_id:
            raise AssertionError(f"body request_id {body.get('request_id')!r} != X-Request-Id {request_id!r}")
    if response.status_code == 401 and not header(response, "WWW-Authenticate"):
        raise AssertionError("401 without WWW-Authenticate")
    return None
