#!/usr/bin/env bash
# Every --json object wksp_ctl prints validates against
# docs/wksp_ctl.schema.json (the $defs entry of its command, and the
# top-level oneOf), and commands that report the same fact agree on its key,
# type and value: checkpt-query and checkpt-verify (style as written,
# allocation count and bytes, file size), alloc / info / tag-query / query
# (gaddr, size, tag), usage / query / list (used bytes and count).
# Needs Debian's python3-jsonschema (./bazelw installs it): fails without it.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
schema="${TEST_SRCDIR}/${TEST_WORKSPACE}/docs/wksp_ctl.schema.json"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export WKSP_SHMEM_ROOT="$tmp/shm"
mkdir -p "$WKSP_SHMEM_ROOT"
py=/usr/bin/python3
if ! $py -c 'import jsonschema' 2>/dev/null; then
  echo "FAIL: $py cannot import jsonschema: install python3-jsonschema (./bazelw does)"
  exit 1
fi
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
outs="$tmp/outputs.tsv"
: >"$outs"
# j DEF ARGS...: runs wksp_ctl --json ARGS, records each output line under
# schema definition DEF.
j() {
  local def=$1; shift
  local o
  if ! o=$("$ctl" --json "$@"); then fail "wksp_ctl --json $*"; return; fi
  [[ -n "$o" ]] || fail "wksp_ctl --json $*: no output"
  while IFS= read -r line; do printf '%s\t%s\t%s\n' "$def" "$*" "$line" >>"$outs"; done <<<"$o"
}

"$ctl" new w 16M normal 0 600 || fail "new"
printf 'junk' >"$WKSP_SHMEM_ROOT/junk"
j alloc alloc w 0 100K
j alloc tag 7 alloc w 64 1000
j info info w 7
j info info w 9                     # no allocation: nulls
g=$("$ctl" info w 7 | sed 's/^w:\([0-9]*\) .*/\1/')
j tag_query tag-query "w:$g"
j tag_query tag-query "w:$((g + 1000))"  # past it: free, null
j usage_report usage w 7
j query query w
j list list
j supported_styles supported-styles
j version --version
"$ctl" memset "w:$g" 5 || fail "memset"
for style in 1 2 3; do
  f="$tmp/w.s$style"
  "$ctl" -q checkpt w "$f" 600 "$style" "json test" || fail "checkpt $style"
  for v in 0 1 2 3 4; do j checkpt_query checkpt-query "$f" "$v"; done
  j checkpt_verify checkpt-verify "$f"
done
"$ctl" -q --seal no checkpt w "$tmp/w.unsealed" 600 3 x || fail "unsealed checkpt"
j checkpt_verify checkpt-verify "$tmp/w.unsealed"
j checkpt_query checkpt-query "$tmp/w.unsealed" 3
j torrent torrent-create "$tmp/w.s3" "$tmp/w.torrent"
j torrent --listen 127.0.0.1:0 --seconds 0.2 seed "$tmp/w.torrent" "$tmp/w.s3"
j torrent --hybrid torrent-create "$tmp/w.s3" "$tmp/w.h.torrent"
j torrent torrent-v1 "$tmp/w.h.torrent" "$tmp/w.v1.torrent"
j torrent --listen 127.0.0.1:0 --seconds 0.2 --companion "$tmp/w.v1.torrent" \
  seed "$tmp/w.h.torrent" "$tmp/w.s3"

$py - "$schema" "$outs" <<'EOF' || fails=$((fails + 1))
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
top = jsonschema.Draft202012Validator(schema)
by = {}
bad = 0
for row in open(sys.argv[2], encoding="utf-8"):
    d, cmd, text = row.rstrip("\n").split("\t", 2)
    obj = json.loads(text)
    sub = dict(schema, **{"$ref": "#/$defs/" + d})
    sub.pop("oneOf")
    errs = [e.message for e in jsonschema.Draft202012Validator(sub).iter_errors(obj)]
    errs += ["top-level oneOf: " + e.message for e in top.iter_errors(obj)]
    for e in errs:
        print(f"FAIL schema {d} ({cmd}): {e}\n  {text}")
        bad += 1
    if not errs:
        print(f"ok   schema {d}: {cmd}")
    by.setdefault(d, []).append((cmd, obj))

def agree(what, a, b):
    global bad
    if a != b:
        print(f"FAIL agree {what}: {a!r} != {b!r}")
        bad += 1
    else:
        print(f"ok   agree {what}")

# checkpt-query and checkpt-verify of the same file.
q3 = {c.split()[1]: o for c, o in by["checkpt_query"] if c.endswith(" 3")}
for c, v in by["checkpt_verify"]:
    q = q3[c.split()[1]]
    for k in ("style", "alloc_cnt", "alloc_sz", "sealed", "path"):
        agree(f"{k} of {c.split()[1]}", q[k], v[k])
    if q["file_sz"] is not None:
        agree(f"file_sz of {c.split()[1]}", q["file_sz"], v["file_sz"])
styles = sorted({o["style"] for _, o in by["checkpt_query"]})
agree("styles as written", styles, [1, 2, 3])
# alloc / info / tag-query / query.
allocs = [o for _, o in by["alloc"]]
tagged = [a for a in allocs if a["tag"] == 7][0]
info7 = [o for _, o in by["info"] if o["tag"] == 7][0]
agree("info gaddr = alloc gaddr", info7["gaddr"], tagged["gaddr"])
agree("info sz = alloc sz", info7["sz"], tagged["sz"])
info9 = [o for _, o in by["info"] if o["tag"] == 9][0]
agree("info of no allocation", (info9["gaddr"], info9["sz"]), (None, None))
tq = [o for _, o in by["tag_query"]]
agree("tag-query tag", tq[0]["tag"], 7)
agree("tag-query of free space", tq[1]["tag"], None)
query = by["query"][0][1]
parts = {p["lo"]: p for p in query["partitions"] if p["tag"]}
for a in allocs:
    agree(f"query has alloc {a['gaddr']}", parts[a["gaddr"]]["tag"], a["tag"])
usage = by["usage_report"][0][1]
agree("usage = query usage", usage["usage"], query["usage"])
entry = [e for e in by["list"][0][1]["workspaces"] if e["wksp"] == "w"][0]
agree("list used_sz", entry["used_sz"], query["usage"]["used_sz"])
agree("list used_cnt", entry["used_cnt"], query["usage"]["used_cnt"])
agree("list part_max", entry["part_max"], query["part_max"])
junk = [e for e in by["list"][0][1]["workspaces"] if e["wksp"] == "junk"][0]
agree("junk's workspace facts are null", (junk["footprint"], junk["lock"]), (None, None))
t = [o for _, o in by["torrent"]]
agree("seed's info-hash = torrent-create's", t[1]["info_hash"], t[0]["info_hash"])
agree("v1-only companion's info-hash", len(t[3]["info_hash"]), 40)
agree("seed's hybrid info-hash", t[4]["info_hash"], t[2]["info_hash"])
agree("seed's companions", t[4]["companions"], [t[3]["info_hash"]])
sys.exit(1 if bad else 0)
EOF

"$ctl" delete w || fail "delete w"
rm -f "$WKSP_SHMEM_ROOT/junk"
[[ $fails -eq 0 ]] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
