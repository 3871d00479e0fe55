#!/usr/bin/env bash
# schema_jsonschema: the generated JSON Schemas (schema/kinds/*.schema.json)
# agree with the C validator, checked by an independent implementation
# (python3-jsonschema, Draft 2020-12):
#   - every example manifest under examples/ validates against its kind's
#     schema (the C validator accepts them: test_schema_files);
#   - manifests the C validator rejects for a reason a schema can express
#     (unknown field, bad enum, wrong type, bad IQN, bad size) are rejected
#     by the schema too, checked against build/bollard-schema-gen --print
#     output so the binary and the committed files are both exercised.
. "$(dirname "$0")/../lib/common.sh"
cd "$TOP"

command -v python3 >/dev/null || skip "python3 not installed"
python3 -c 'import jsonschema, yaml' 2>/dev/null ||
	skip "python3-jsonschema / python3-yaml not installed (mk/deps.sh test)"
[ -x "$BUILD/bollard-schema-gen" ] || die "$BUILD/bollard-schema-gen not built"

mk_tmp T
for k in Cluster Secret Volume Target Rollout; do
	"$BUILD/bollard-schema-gen" --print "$k" > "$T/$k.json" ||
		die "schema-gen --print $k failed"
	lower=$(echo "$k" | tr A-Z a-z)
	cmp -s "$T/$k.json" "schema/kinds/$lower.schema.json" ||
		die "schema/kinds/$lower.schema.json differs from schema-gen output"
done

python3 - "$T" <<'PY' || die "JSON Schema check failed"
import glob, json, os, sys
import jsonschema, yaml

tdir = sys.argv[1]
schemas = {}
for k in ["Cluster", "Secret", "Volume", "Target", "Rollout"]:
    with open(os.path.join(tdir, k + ".json")) as f:
        s = json.load(f)
    jsonschema.Draft202012Validator.check_schema(s)
    schemas[k] = jsonschema.Draft202012Validator(s)

bad = 0
n = 0
for path in sorted(glob.glob("examples/**/*.y*ml", recursive=True)):
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if doc is None:
                continue
            n += 1
            errs = list(schemas[doc["kind"]].iter_errors(doc))
            for e in errs:
                print("%s: %s %s: %s" % (path, doc["kind"],
                      "/".join(str(p) for p in e.path), e.message))
            bad += len(errs)
print("examples: %d objects checked" % n)
if n < 10 or bad:
    sys.exit(1)

base = {
    "Target": {"apiVersion": "bollard.io/v1alpha1", "kind": "Target",
               "metadata": {"name": "t"},
               "spec": {"cluster": "c", "iqn": "iqn.2026-11.io.x:t"}},
    "Volume": {"apiVersion": "bollard.io/v1alpha1", "kind": "Volume",
               "metadata": {"name": "v"},
               "spec": {"cluster": "c", "size": "1Gi",
                        "backing": {"type": "file", "path": "v.img"},
                        "replication": "none"}},
}
for k, doc in base.items():
    if list(schemas[k].iter_errors(doc)):
        print("base %s rejected" % k)
        sys.exit(1)

def mutate(kind, fn):
    doc = json.loads(json.dumps(base[kind]))
    fn(doc)
    return doc

rejects = [
    ("unknown field", "Target",
     mutate("Target", lambda d: d["spec"].update(prot=1))),
    ("bad iqn", "Target", mutate("Target", lambda d: d["spec"].update(
        iqn="iqn.2026-13.io.x:t"))),
    ("port range", "Target",
     mutate("Target", lambda d: d["spec"].update(port=0))),
    ("lun range", "Target", mutate("Target", lambda d: d["spec"].update(
        luns=[{"lun": 16384, "volume": "v"}]))),
    ("bool type", "Target", mutate("Target", lambda d: d["spec"].update(
        features={"unmap": "yes"}))),
    ("bad size", "Volume",
     mutate("Volume", lambda d: d["spec"].update(size="10Q"))),
    ("bad enum", "Volume", mutate("Volume",
     lambda d: d["spec"]["backing"].update(type="zfs"))),
    ("replication", "Volume", mutate("Volume", lambda d: d["spec"].update(
        replication="maybe"))),
    ("protocol", "Volume", mutate("Volume", lambda d: d["spec"].update(
        replication={"protocol": "D"}))),
    ("missing", "Volume",
     mutate("Volume", lambda d: d["spec"].pop("cluster"))),
    ("name", "Volume",
     mutate("Volume", lambda d: d["metadata"].update(name="Bad_"))),
    ("kind const", "Volume",
     mutate("Volume", lambda d: d.update(kind="Target"))),
]
for what, kind, doc in rejects:
    if not list(schemas[kind].iter_errors(doc)):
        print("schema accepted a bad manifest: %s" % what)
        sys.exit(1)
print("rejects: %d bad manifests refused" % len(rejects))
PY
echo "schema_jsonschema: ok"
