#!/usr/bin/env python3
"""Simulated cluster agents for the rollout integration tests.

Acts as the bollardd of every node of the given clusters (one node each,
"<cluster>-a"), through etcd's JSON gateway:
  - keeps a node heartbeat at /bollard/v1/nodes/<cluster>/<node>
    (removed while the cluster is listed in <dir>/offline);
  - reconciles each Target of its cluster at the generation admitted to the
    cluster by the rollout (else the newest), like bollardd does, and
    reports Ready at that generation READY_AFTER seconds after it started
    reconciling it, unless the cluster is listed in <dir>/fail;
  - appends "<time> <cluster> admit|ready <target> <gen>" to <dir>/timeline.
Stops when <dir>/stop exists.
"""
import base64, json, os, sys, time, urllib.request

url, rollout, tdir, ready_after = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
clusters = sys.argv[5].split(",")

def b64(s): return base64.b64encode(s.encode()).decode()

def call(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)

def get_prefix(prefix):
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    r = call("/v3/kv/range", {"key": b64(prefix), "range_end": b64(end)})
    out = {}
    for kv in r.get("kvs", []):
        out[base64.b64decode(kv["key"]).decode()] = base64.b64decode(kv.get("value", "")).decode()
    return out

def put(k, v): call("/v3/kv/put", {"key": b64(k), "value": b64(v)})
def delete(k): call("/v3/kv/deleterange", {"key": b64(k)})

def listed(name):
    try:
        with open(os.path.join(tdir, name)) as f:
            return set(f.read().split())
    except FileNotFoundError:
        return set()

state = {}   # (cluster, target) -> [gen, since, ready_logged]
tl = open(os.path.join(tdir, "timeline"), "a", buffering=1)
while not os.path.exists(os.path.join(tdir, "stop")):
    now = time.time()
    offline, fail = listed("offline"), listed("fail")
    try:
        objs = get_prefix("/bollard/v1/objects/Target/")
        recs = get_prefix("/bollard/v1/rollouts/%s/admitted/" % rollout)
        for c in clusters:
            node = c + "-a"
            hb = "/bollard/v1/nodes/%s/%s" % (c, node)
            if c in offline:
                delete(hb)
            else:
                put(hb, json.dumps({"node": node}))
            rec = recs.get("/bollard/v1/rollouts/%s/admitted/%s" % (rollout, c))
            adm = json.loads(rec)["objects"] if rec else {}
            for k, v in objs.items():
                o = json.loads(v)
                if o["spec"]["cluster"] != c:
                    continue
                name = o["metadata"]["name"]
                gen = adm.get("Target/" + name, o["metadata"]["generation"])
                st = state.get((c, name))
                if st is None or st[0] != gen:
                    st = state[(c, name)] = [gen, now, False]
                    tl.write("%.3f %s admit %s %d\n" % (now, c, name, gen))
                ready = c not in fail and now - st[1] >= ready_after
                if ready and not st[2]:
                    st[2] = True
                    tl.write("%.3f %s ready %s %d\n" % (now, c, name, gen))
                put("/bollard/v1/status/Target/%s/%s" % (name, node), json.dumps({
                    "node": node, "observedGeneration": gen,
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                    "reason": "Converged" if ready else "Applying"}]}))
    except Exception as e:  # etcd busy: try again next round
        print("agent:", e, file=sys.stderr)
    time.sleep(0.1)
