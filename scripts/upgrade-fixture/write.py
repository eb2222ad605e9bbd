# Writes the upgrade fixtures' data through a running cutover (of the version the
# fixture stands for): `write.py BASE_URL TOKEN` prints the ids it made.
import json, sys, urllib.request
BASE = sys.argv[1]
TOKEN = sys.argv[2]
def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method,
        headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            text = r.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read()}")
org = call("POST", "/v1/orgs", {"name": "Acme", "slug": "acme"})
o = org["org_id"]
ws = call("POST", f"/v1/orgs/{o}/workspaces", {"name": "prod"})
w = ws["workspace_id"]
app = call("POST", f"/v1/orgs/{o}/workspaces/{w}/apps", {"name": "support-bot"})
a = app["app_id"]
base = f"/v1/orgs/{o}/workspaces/{w}/apps/{a}"
aug = call("POST", base + "/augmentations", {"name": "rag"})
call("POST", base + "/endpoints", {"name": "chat", "path": "/chat", "method": "POST", "augmentation_id": aug["augmentation_id"]})
ids = {}
for tag in ["v1", "v2", "v3"]:
    r = call("POST", base + "/releases", {"release_tag": tag, "activate": True})
    ids[tag] = r["release_id"]
call("POST", base + f"/releases/{ids['v2']}/rollback")
r = call("POST", base + "/releases", {"release_tag": "v4"})
ids["v4"] = r["release_id"]
call("DELETE", base + f"/releases/{ids['v3']}")
idle = call("POST", f"/v1/orgs/{o}/workspaces/{w}/apps", {"name": "idle"})
print(json.dumps({"org_id": o, "workspace_id": w, "app_id": a, "idle_app_id": idle["app_id"], "releases": ids}))
