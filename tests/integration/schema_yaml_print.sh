#!/usr/bin/env bash
# schema_yaml_print: the YAML that `bollard get -o yaml` prints
# (bl_json_print_yaml) reads back as the same value in a YAML 1.1 reader
# (PyYAML) too, not only in bollard's own YAML 1.2-core reader: strings that
# look like numbers, booleans (yes/no/on/off/y/n), nulls, timestamps,
# indicators and control characters are quoted; the rest stays plain.
. "$(dirname "$0")/../lib/common.sh"
cd "$TOP"

command -v python3 >/dev/null || skip "python3 not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed"
[ -x "$BUILD/bollard-schema-gen" ] || die "$BUILD/bollard-schema-gen not built"

mk_tmp T
python3 - "$T" "$BUILD/bollard-schema-gen" <<'PY' || die "YAML print check failed"
import json, subprocess, sys
import yaml

tdir, gen = sys.argv[1], sys.argv[2]
vals = ["yes", "no", "on", "off", "y", "n", "Y", "NO", "On", "123", "1e3",
        "0x1F", "0o17", "0b101", "1_000", "1:20", "127.0.0.1", "10Gi",
        "2026-11-24", "2026-11-24T01:02:03Z", "~", "null", "Null", "true",
        "", " lead", "trail ", "a: b", "a #b", "#c", "- x", "[x]", "{x}",
        "*a", "&a", "!t", "%p", "@x", "`x", "|x", ">x", "'q'", '"d"',
        "\u00fcn\u00ef", "multi\nline", "tab\tx", "cr\rx", "nul-free\x01",
        "1.5", ".5", "-1", "+1", ".inf", "-.inf", ".nan", "=", "<<", "?x",
        "x?", "a,b", "3.", "1e", "e1", "0", "00", "-", "--", "---", "...",
        "a:b", "http://x", "x:", "5%", "iqn.2026-11.io.bollard:demo",
        "plain words here"]
doc = {("k%d" % i): v for i, v in enumerate(vals)}
doc.update({v: "as-key" for v in vals if v})
doc["ints"] = [0, -5, 3260, 9223372036854775807]
doc["bools"] = [True, False, None]
doc["floats"] = [1.5, 2.0, -0.25]
doc["nested"] = [vals, {"x": vals, "e": [], "o": {}}, [[1, 2], []]]
path = tdir + "/in.json"
with open(path, "w") as f:
    json.dump(doc, f)
out = subprocess.run([gen, "--to-yaml", path], check=True,
                     capture_output=True, text=True).stdout
back = yaml.safe_load(out)
bad = [k for k in doc if back.get(k) != doc[k] or
       type(back.get(k)) != type(doc[k])]
if bad or back != doc:
    print("mismatches:", bad[:20])
    sys.exit(1)
# plain where plain is safe
for v in ["127.0.0.1", "10Gi", "iqn.2026-11.io.bollard:demo",
          "plain words here", "a:b", "http://x", "5%"]:
    line = "k%d: %s" % (vals.index(v), v)
    if ("\n" + line + "\n") not in out:
        print("expected plain line:", line)
        sys.exit(1)
print("yaml print: %d values read back identically" % len(doc))
PY
echo "schema_yaml_print: ok"
