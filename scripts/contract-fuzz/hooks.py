"""Schemathesis hooks for cutover's contract fuzzing: values only the server can make.

Some values a request carries are valid only if the server issued them, and no schema
can say so: list cursors (opaque and signed; any other answers 422, as docs/API.md says), an
endpoint's `augmentation_id`, a token's `workspace_ids`, and the environments and
release a deploy (or a cut with `activate: true`) names (they must name an existing
augmentation of the app, workspace of the org, environment of the workspace, release
of the app; 422 otherwise). A real client gets them from the server, so before each
request goes out this asks the server for one and swaps it in for the generated value:

- a generated cursor string becomes the `next_cursor` of the same list (same parent,
  same `include_archived`, same `environment`) read with `limit=1`, or is dropped when
  the list has no second page or cannot be read;
- a well-formed generated `augmentation_id` becomes an augmentation of the app in the
  path (one is made first if the app has none, as a client would do);
- a well-formed workspace id in `workspace_ids` becomes a workspace of the org in the
  path, or is left out if the org has none (the list may be empty);
- a well-formed `environment` or `from_environment` of a deploy or a cut becomes the
  slug of an environment of the workspace in the path, and a deploy's well-formed
  `release_id` a release of the app (one is cut first if the app has none).

A well-formed generated `Idempotency-Key` becomes a fresh one: a client makes a new
key for each new request, and the generator would send one example key with many
different requests (answered 422, "already used for a different request", as
docs/API.md says).

A generated `If-Match` becomes the tag the target has now (the document gives the
header no pattern: what a tag is, only the server can say), and a well-formed
`expected_release_id` the release the environment has now (null when it
has nothing): a client that sends a condition sends what it read (any other answers
412, as docs/API.md says). The target is the path's entity or app for a PATCH or
DELETE, and for a deployment write the environment it changes, read at
`…/releases/active[?environment=]`.

A diff's generated `against` becomes `previous` (the default), since a made-up
release or environment names nothing (422).

In the stateful phase (`CUTOVER_FUZZ_PHASE=stateful`), a DELETE goes for real (its
`dry_run` is dropped): that phase checks that what a 2xx DELETE named is gone, and a
dry run deletes nothing, by design. The other phases send dry-run DELETEs too.

When the parent in the path cannot be read (it does not exist), nothing is changed:
the request is refused with 404 whatever it carries.

Values that break the schema (a malformed id, a cursor that is not a string) are left
alone, so negative cases stay negative. Nothing here looks at answers or failures.
"""

import os
import re
import uuid
from collections.abc import MutableMapping

import requests
import schemathesis

BASE = os.environ["CUTOVER_FUZZ_URL"].rstrip("/")
SESSION = requests.Session()
SESSION.headers["Authorization"] = f"Bearer {os.environ['CUTOVER_FUZZ_TOKEN']}"

# The id forms of docs/API.md (a prefix and 26 Crockford base32 characters).
ID_BODY = r"[0-7][0-9a-hjkmnp-tv-z]{25}"
AUGMENTATION_ID = re.compile(rf"^aug_{ID_BODY}$")
RELEASE_ID = re.compile(rf"^rel_{ID_BODY}$")
# An environment named by its id or its slug (EnvironmentRef::PATTERN).
ENVIRONMENT_REF = re.compile(rf"^(?:env_{ID_BODY}|[a-z0-9][a-z0-9-]{{0,63}})$")
WORKSPACE_ID = re.compile(rf"^ws_{ID_BODY}$")
BOOLEAN_WORDS = {True: "true", False: "false", "true": "true", "false": "false"}
APP_PATH = re.compile(r"^(/v1/orgs/[^/]+/workspaces/[^/]+/apps/[^/]+)")
# What `Idempotency-Key` accepts (IdempotencyKey::PATTERN).
IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7E]{1,255}$")


def first_page(path, **query):
    """The first one-item page of the list at `path`, or None if it cannot be read."""
    try:
        answer = SESSION.get(BASE + path, params={"limit": "1", **query}, timeout=10)
    except requests.RequestException:
        return None
    return answer.json() if answer.status_code == 200 else None


def real_cursor(case):
    query = case.query
    if not isinstance(query, dict) or not isinstance(query.get("cursor"), str):
        return
    extra = {}
    if "include_archived" in query:
        flag = query["include_archived"]
        flag = BOOLEAN_WORDS.get(flag) if isinstance(flag, (bool, str)) else None
        if flag is None:
            return  # refused for its include_archived whatever the cursor
        extra["include_archived"] = flag
    if "environment" in query:
        environment = query["environment"]
        if not isinstance(environment, str) or not ENVIRONMENT_REF.match(environment):
            return  # refused for its environment whatever the cursor
        extra["environment"] = environment
    page = first_page(case.formatted_path, **extra)
    if page and page.get("next_cursor"):
        query["cursor"] = page["next_cursor"]
    else:
        # No second page, or a list that cannot be read (its parent does not exist):
        # a client has no cursor to send.
        del query["cursor"]


def first_id(path, items, key):
    """The id of the first item of the list at `path`: "" if the list is empty, None
    if it cannot be read."""
    page = first_page(path)
    if page is None:
        return None
    return page[items][0][key] if page.get(items) else ""


def an_augmentation(app):
    """An augmentation of the app at `app`, made first if it has none (as a client
    would), or None if the app cannot be read."""
    real = first_id(f"{app}/augmentations", "augmentations", "augmentation_id")
    if real == "":
        made = SESSION.post(
            f"{BASE}{app}/augmentations", json={"name": f"fuzz-{uuid.uuid4().hex}"}, timeout=10
        )
        real = made.json()["augmentation_id"] if made.status_code == 201 else None
    return real


def a_release(app):
    """A release of the app at `app`, cut first if it has none, or None if the app
    cannot be read."""
    real = first_id(f"{app}/releases", "releases", "release_id")
    if real == "":
        made = SESSION.post(
            f"{BASE}{app}/releases", json={"release_tag": f"fuzz-{uuid.uuid4().hex[:12]}"},
            timeout=10,
        )
        real = made.json()["release_id"] if made.status_code == 201 else None
    return real


def real_environments(body, app, fields):
    """Swaps each well-formed environment reference among `fields` of `body` for the
    slug of an environment of the app's workspace."""
    workspace = app.split("/apps/")[0]
    for field in fields:
        value = body.get(field)
        if isinstance(value, str) and ENVIRONMENT_REF.match(value):
            real = first_id(f"{workspace}/environments", "environments", "slug")
            if real:
                body[field] = real


def real_references(case):
    body = case.body
    if not isinstance(body, dict):
        return
    path = case.formatted_path
    if path.endswith("/deployments"):
        app = path[: -len("/deployments")]
        real_environments(body, app, ["environment", "from_environment"])
        value = body.get("release_id")
        if isinstance(value, str) and RELEASE_ID.match(value):
            real = a_release(app)
            if real:
                body["release_id"] = real
    if path.endswith("/releases"):
        real_environments(body, path[: -len("/releases")], ["environment"])
    value = body.get("augmentation_id")
    if isinstance(value, str) and AUGMENTATION_ID.match(value) and "/endpoints" in path:
        real = an_augmentation(path.split("/endpoints")[0])
        if real:
            body["augmentation_id"] = real
    ids = body.get("workspace_ids")
    if isinstance(ids, list) and path.endswith("/tokens"):
        org = path[: -len("/tokens")]
        real = first_id(f"{org}/workspaces", "workspaces", "workspace_id")
        for index, value in reversed(list(enumerate(ids))):
            if real is not None and isinstance(value, str) and WORKSPACE_ID.match(value):
                if real:
                    ids[index] = real
                else:
                    del ids[index]


def fresh_key(case):
    headers = case.headers
    if not isinstance(headers, MutableMapping):
        return
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str):
            if IDEMPOTENCY_KEY.match(value):
                headers[name] = f"fuzz-{uuid.uuid4().hex}"


def condition_target(case):
    """What the request's condition is about: (the path whose `ETag` `If-Match` names,
    the environment an `expected_release_id` is about, or None for an entity)."""
    path, method = case.formatted_path, case.method.upper()
    app = APP_PATH.match(path)
    if app is None:
        return None
    active = f"{app.group(1)}/releases/active"
    body = case.body if isinstance(case.body, dict) else {}
    if path.endswith(("/activate", "/rollback")) and "/releases/" in path:
        return active, "default"
    if path.endswith("/rollback") and "/environments/" in path:
        environment = path.split("/environments/")[1][: -len("/rollback")]
        return f"{active}?environment={environment}", environment
    if path.endswith("/deployments") and method == "POST":
        environment = body.get("environment")
        if not isinstance(environment, str):
            return None
        return f"{active}?environment={environment}", environment
    if method in ("PATCH", "DELETE"):
        return path, None
    return None


def real_condition(case):
    target = condition_target(case)
    if target is None:
        return
    where, environment = target
    try:
        read = SESSION.get(f"{BASE}{where}", timeout=10)
    except requests.RequestException:
        return
    headers = case.headers
    if isinstance(headers, MutableMapping):
        for name, value in list(headers.items()):
            if name.lower() == "if-match" and isinstance(value, str):
                if read.status_code == 200 and read.headers.get("ETag"):
                    headers[name] = read.headers["ETag"]
                else:
                    del headers[name]
    body = case.body
    if environment is not None and isinstance(body, dict):
        value = body.get("expected_release_id")
        if value is None or (isinstance(value, str) and RELEASE_ID.match(value)):
            if "expected_release_id" in body:
                body["expected_release_id"] = (
                    read.json().get("release_id") if read.status_code == 200 else None
                )


def real_against(case):
    """A diff's `against` becomes `previous`: what a generated string names (a tag, a
    number, an environment) exists only if the server made it, so any other answers
    422, as docs/API.md says."""
    query = case.query
    if isinstance(query, MutableMapping) and isinstance(query.get("against"), str):
        query["against"] = "previous"


def real_deletes_when_stateful(case):
    """A stateful DELETE is the real one: schemathesis then reads what it deleted and
    expects 404, which a dry run (200, nothing deleted) never gives."""
    query = case.query
    stateful = os.environ.get("CUTOVER_FUZZ_PHASE") == "stateful"
    if stateful and case.method.upper() == "DELETE" and isinstance(query, MutableMapping):
        query.pop("dry_run", None)


@schemathesis.hook
def before_call(context, case, kwargs):
    real_deletes_when_stateful(case)
    real_against(case)
    real_cursor(case)
    real_references(case)
    real_condition(case)
    fresh_key(case)
