"""Creates the data the contract fuzzing needs on a fresh `cutover serve`, through the
API, and writes schemathesis's configuration naming it.

Generated path ids almost never exist, so without real ones every operation below an
org would stop at 404 and schemathesis would never reach the body and query
validation behind it. This gives the fuzzer what a client would have: real ids (each
destructive operation gets a victim of its own, so the rest keep working) and real
list cursors, which, being signed, are like ids: only the server can make one.

Usage: setup.py BASE_URL TOKEN CONFIG_OUT
"""

import json
import sys
import urllib.request

BASE, TOKEN, CONFIG_OUT = sys.argv[1:4]


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


STEPS = [{"name": "llm", "type": "inference", "config": {"model": "small"}}]
STAGES = [{"name": "respond", "execution_mode": "sequential", "steps": STEPS}]

org = call("POST", "/v1/orgs", {"name": "Fuzz", "slug": "fuzz"})["org_id"]
call("POST", "/v1/orgs", {"name": "Fuzz spare", "slug": "fuzz-spare"})
ORG = f"/v1/orgs/{org}"
ws = call("POST", f"{ORG}/workspaces", {"name": "fuzz"})["workspace_id"]
call("POST", f"{ORG}/workspaces", {"name": "fuzz spare"})
WS = f"{ORG}/workspaces/{ws}"
app = call("POST", f"{WS}/apps", {"name": "fuzz"})["app_id"]
call("POST", f"{WS}/apps", {"name": "fuzz spare"})
APP = f"{WS}/apps/{app}"

aug = call("POST", f"{APP}/augmentations", {"name": "used", "stages": STAGES})["augmentation_id"]
spare_aug = call("POST", f"{APP}/augmentations", {"name": "spare"})["augmentation_id"]
endpoint = call(
    "POST", f"{APP}/endpoints",
    {"name": "chat", "path": "/chat", "method": "POST", "augmentation_id": aug},
)["endpoint_id"]
spare_endpoint = call(
    "POST", f"{APP}/endpoints",
    {"name": "spare", "path": "/spare", "method": "GET", "augmentation_id": aug},
)["endpoint_id"]

# v1 active, then v2 active (v1 archived), then rolled back to v1: the app is live
# (so deleting it is refused and it stays for the whole run), v2 is archived, v3 is
# ready, and the history has entries to page through.
v1 = call("POST", f"{APP}/releases", {"release_tag": "v1", "activate": True})["release_id"]
v2 = call("POST", f"{APP}/releases", {"release_tag": "v2", "activate": True})["release_id"]
call("POST", f"{APP}/releases/{v1}/rollback")
v3 = call("POST", f"{APP}/releases", {"release_tag": "v3"})["release_id"]
spare_release = call("POST", f"{APP}/releases", {"release_tag": "spare"})["release_id"]

spare_token = call("POST", f"{ORG}/tokens", {"name": "spare", "role": "viewer"})["token_id"]
call("POST", f"{ORG}/tokens", {"name": "spare 2", "role": "viewer"})

def victim(operation_id, **parameters):
    lines = ["", "[[operations]]", f'include-operation-id = "{operation_id}"']
    lines += [f'parameters = {{ {", ".join(f"{k} = {json.dumps(v)}" for k, v in parameters.items())} }}']
    return "\n".join(lines)


config = f"""# Written by scripts/contract-fuzz/setup.py for one run; see scripts/contract-fuzz.
[parameters]
org_id = "{org}"
workspace_id = "{ws}"
app_id = "{app}"
endpoint_id = "{endpoint}"
augmentation_id = "{aug}"
release_id = "{v3}"
token_id = "{spare_token}"
{victim("endpoints_delete", endpoint_id=spare_endpoint)}
{victim("augmentations_delete", augmentation_id=spare_aug)}
{victim("releases_delete", release_id=spare_release)}
"""
with open(CONFIG_OUT, "w") as out:
    out.write(config)
print(f"setup: org {org}, workspace {ws}, app {app}")
