#!/usr/bin/env python3
"""Inputs for tools/bench-feeds.sh: a synthetic TAXII 2.1 collection for medallion, a MISP feed
directory made from real MISP events, and a medallion backend that serves large collections.

  gen_stix_collection.py taxii DIR N [--seed S] [--page-size P] [--backend indexed|memory]
      DIR/data.json    medallion memory-backend data: one API root `api1`, one collection
                       (COLLECTION below) of N STIX 2.1 indicators, their later versions and
                       revocations, the TLP 2.0 marking definitions and one identity; every
                       object version has a `manifest` entry with its `date_added`.
      DIR/config.json  medallion's configuration: that backend, user `user` / password `pass`,
                       max_page_size P (default 1000).
      DIR/stats.json   what was generated (objects, versions, latest versions served, …).
  gen_stix_collection.py misp SRC DIR [--copies K]
      DIR/manifest.json and DIR/<uuid>.json for every MISP event found under SRC (files of one
      event `{"Event": …}` or REST results `{"response": [{"Event": …}, …]}`), as a MISP feed
      serves them; with K > 1, K copies of each event under new uuids (same attributes).
  gen_stix_collection.py summary RESULTS.tsv
      Medians over rounds per binary and step of the rows tools/bench-feeds.sh wrote, and the
      old/new ratios when two binaries ran.

The `indexed` backend (IndexedMemoryBackend below; medallion loads it when this directory is
on PYTHONPATH) is medallion's MemoryBackend with `GET …/objects/` answered from an index:
medallion's own memory backend filters with loops that are quadratic in the collection size
(spec_version de-duplication, manifest matching, and a strptime scan of the whole manifest for
every `next` page), which takes hours for 100,000 objects, and its collection lookup, done
twice per request, deep-copies the whole collection, objects included. The indexed answer has the same
semantics for the requests a feed pull makes: `added_after`, `match[type]`, `match[version]`
(last by default, first, all), `limit`, `next`, ordered by `date_added`, with the
X-TAXII-Date-Added-First/Last headers (checked equal to medallion's own answers); any other
filter falls back to medallion's own code. Collection resources are copied without objects.
Everything else (Flask, routing, basic auth, media types, JSON encoding) is medallion's.
"""

import argparse
import bisect
import copy
import datetime as dt
import json
import os
import random
import re
import sys
import threading
import time
import uuid

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
MEDIA_TYPE = "application/stix+json;version=2.1"

# The TLP 2.0 marking definitions (STIX 2.1 extension-definition--60a3c5c5-…), by level.
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
IDENTITY = "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01"
# Where the collection's history starts (a year of indicators from here). Fixed and in the
# past, so that which indicators have expired does not depend on the day the benchmark runs.
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)

TLDS = ["com", "net", "org", "info", "ru", "cn", "xyz", "top", "io", "biz", "club", "online"]
WORDS = [
    "secure", "login", "update", "cdn", "mail", "account", "verify", "cloud", "portal", "api",
    "service", "support", "office", "bank", "pay", "drive", "files", "sync", "auth", "web",
]


def stamp(t):
    """STIX timestamp, milliseconds."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def added_stamp(t):
    """medallion's date_added: microseconds."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rand_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def domain(rng):
    n = rng.randint(1, 3)
    labels = [rng.choice(WORDS) + str(rng.randint(0, 9999)) for _ in range(n)]
    return ".".join(labels) + "." + rng.choice(TLDS)


def ipv4(rng):
    while True:
        a = rng.randint(1, 223)
        if a not in (10, 127):
            return "%d.%d.%d.%d" % (a, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))


def pattern(rng):
    """A STIX pattern and a name, in the mix a commercial or ISAC feed has."""
    r = rng.random()
    if r < 0.30:
        d = domain(rng)
        return "[domain-name:value = '%s']" % d, "Malicious domain %s" % d
    if r < 0.45:
        ip = ipv4(rng)
        return "[ipv4-addr:value = '%s']" % ip, "C2 address %s" % ip
    if r < 0.50:
        bits = rng.choice([16, 20, 24, 24, 24, 28, 29, 30])
        a = [int(x) for x in ipv4(rng).split(".")]
        n = (a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]) & ~((1 << (32 - bits)) - 1) & 0xFFFFFFFF
        net = "%d.%d.%d.%d/%d" % (n >> 24, n >> 16 & 255, n >> 8 & 255, n & 255, bits)
        return "[ipv4-addr:value = '%s']" % net, "Hostile network %s" % net
    if r < 0.55:
        groups = ["2001", "db8"] + ["%x" % rng.randint(0, 0xFFFF) for _ in range(6)]
        if rng.random() < 0.3:
            v = ":".join(groups[:4]) + "::/64"
        else:
            v = ":".join(groups)
        return "[ipv6-addr:value = '%s']" % v, "IPv6 address %s" % v
    if r < 0.75:
        path = "/".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
        u = "%s://%s/%s" % (rng.choice(["http", "https"]), domain(rng), path)
        if rng.random() < 0.3:
            u += "?id=%d" % rng.randint(0, 10**6)
        return "[url:value = '%s']" % u, "Malicious URL"
    if r < 0.80:
        e = "%s.%d@%s" % (rng.choice(WORDS), rng.randint(0, 999), domain(rng))
        return "[email-addr:value = '%s']" % e, "Phishing sender %s" % e
    if r < 0.88:
        h = "%032x" % rng.getrandbits(128)
        return "[file:hashes.MD5 = '%s']" % h, "Malware sample"
    if r < 0.97:
        h = "%064x" % rng.getrandbits(256)
        return "[file:hashes.'SHA-256' = '%s']" % h, "Malware sample"
    md5, sha = "%032x" % rng.getrandbits(128), "%064x" % rng.getrandbits(256)
    return ("[file:hashes.MD5 = '%s' OR file:hashes.'SHA-256' = '%s']" % (md5, sha),
            "Malware sample (MD5 and SHA-256)")


def collection(n, seed):
    """(objects in the order they were added, stats). Each object is (obj, date_added)."""
    rng = random.Random(seed)
    out = []
    t = EPOCH
    for level, mid in TLP2.items():
        out.append(({
            "type": "marking-definition", "spec_version": "2.1", "id": mid,
            "created": "2022-10-01T00:00:00.000Z", "name": "TLP:" + level.upper(),
            "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension",
                                            "tlp_2_0": level}},
        }, t))
        t += dt.timedelta(milliseconds=1)
    out.append(({
        "type": "identity", "spec_version": "2.1", "id": IDENTITY,
        "created": stamp(EPOCH), "modified": stamp(EPOCH),
        "name": "Synthetic Threat Intel Sharing Community", "identity_class": "organization",
    }, t))
    levels = ["clear", "green", "green", "green", "amber", "amber", "amber+strict", "red"]
    # Spread the indicators over a year; later versions follow a few days to months later.
    span = 365 * 86400.0
    later = []
    stats = {"indicators": n, "second_versions": 0, "revoked": 0}
    for i in range(n):
        created = EPOCH + dt.timedelta(seconds=span * i / max(n, 1) + rng.random())
        p, name = pattern(rng)
        ind = {
            "type": "indicator", "spec_version": "2.1", "id": "indicator--" + rand_uuid(rng),
            "created_by_ref": IDENTITY, "created": stamp(created), "modified": stamp(created),
            "name": name, "indicator_types": [rng.choice(
                ["malicious-activity", "malicious-activity", "anomalous-activity",
                 "compromised", "attribution"])],
            "pattern": p, "pattern_type": "stix", "pattern_version": "2.1",
            "valid_from": stamp(created), "confidence": rng.choice([15, 30, 50, 60, 75, 85, 100]),
            "object_marking_refs": [TLP2[rng.choice(levels)]],
        }
        r = rng.random()
        if r < 0.1:  # expired (by mid-2025 at the latest)
            ind["valid_until"] = stamp(created + dt.timedelta(days=rng.randint(30, 180)))
        elif r < 0.2:  # valid until well after any run of this benchmark
            ind["valid_until"] = stamp(created + dt.timedelta(days=rng.randint(3650, 7300)))
        if rng.random() < 0.3:
            ind["labels"] = [rng.choice(["phishing", "c2", "botnet", "ransomware", "apt"])]
        out.append((ind, created))
        r = rng.random()
        if r < 0.10:  # a second version: confidence revised
            when = created + dt.timedelta(days=rng.uniform(1, 90))
            v2 = dict(ind, modified=stamp(when), confidence=min(100, ind["confidence"] + 10))
            later.append((v2, when))
            stats["second_versions"] += 1
        elif r < 0.13:  # revoked
            when = created + dt.timedelta(days=rng.uniform(1, 90))
            v2 = dict(ind, modified=stamp(when), revoked=True)
            later.append((v2, when))
            stats["revoked"] += 1
    out.extend(later)
    out.sort(key=lambda x: x[1])
    # date_added: strictly increasing, as a server that appends would have it.
    prev = None
    for k, (o, when) in enumerate(out):
        if prev is not None and when <= prev:
            when = prev + dt.timedelta(microseconds=1)
        out[k] = (o, when)
        prev = when
    stats["objects"] = len(out)
    stats["latest_versions"] = len({o["id"] for o, _ in out})
    return out, stats


def cmd_taxii(a):
    os.makedirs(a.dir, exist_ok=True)
    objs, stats = collection(a.n, a.seed)
    base = "http://127.0.0.1:%d" % a.port
    manifest = [{
        "id": o["id"], "date_added": added_stamp(when),
        "version": o.get("modified", o.get("created")), "media_type": MEDIA_TYPE,
    } for o, when in objs]
    data = {
        "/discovery": {"title": "trawl bench", "default": base + "/api1/",
                       "api_roots": [base + "/api1/"]},
        "api1": {
            "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 100_000_000},
            "status": [],
            "collections": [{
                "id": COLLECTION, "title": "synthetic indicators", "can_read": True,
                "can_write": False, "media_types": [MEDIA_TYPE],
                "objects": [o for o, _ in objs], "manifest": manifest,
            }],
        },
    }
    with open(os.path.join(a.dir, "data.json"), "w") as f:
        json.dump(data, f, separators=(",", ":"))
    if a.backend == "indexed":
        backend = {"module": "gen_stix_collection", "module_class": "IndexedMemoryBackend"}
    else:
        backend = {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend"}
    backend["filename"] = os.path.abspath(os.path.join(a.dir, "data.json"))
    # A paging session outlives a slow pull (medallion's default is 30 s from the first page).
    backend["session_timeout"] = 3600
    config = {"backend": backend, "users": {"user": "pass"},
              "taxii": {"max_page_size": a.page_size}}
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(a.dir, "stats.json"), "w") as f:
        json.dump(stats, f)
    print(json.dumps(stats))


def events_in(path):
    """The MISP events of one file, or [] when it holds none."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        doc = json.loads(text)
    except ValueError:
        # Some published files have trailing commas; MISP itself would not emit them.
        try:
            doc = json.loads(re.sub(r",(\s*[\]}])", r"\1", text))
        except ValueError:
            return []
    if isinstance(doc, dict) and "Event" in doc:
        return [doc["Event"]]
    if isinstance(doc, dict) and "response" in doc:
        r = doc["response"]
        r = r if isinstance(r, list) else [r]
        return [e.get("Event", e) for e in r if isinstance(e, dict)]
    return []


def cmd_misp(a):
    os.makedirs(a.dir, exist_ok=True)
    manifest = {}
    files = events = attrs = 0
    for root, dirs, names in os.walk(a.src):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith(".json"):
                continue
            found = [e for e in events_in(os.path.join(root, name))
                     if isinstance(e, dict) and e.get("uuid")]
            files += bool(found)
            for ev in found:
                for copy in range(a.copies):
                    e = ev
                    if copy:
                        e = dict(ev, uuid=str(uuid.uuid5(uuid.UUID(ev["uuid"]), str(copy))),
                                 info="%s (copy %d)" % (ev.get("info", ""), copy))
                    if e["uuid"] in manifest:
                        continue
                    with open(os.path.join(a.dir, e["uuid"] + ".json"), "w") as f:
                        json.dump({"Event": e}, f)
                    manifest[e["uuid"]] = {
                        "info": e.get("info", ""), "date": e.get("date", ""),
                        "timestamp": str(e.get("timestamp", "0")),
                        "publish_timestamp": str(e.get("publish_timestamp", "0")),
                        "threat_level_id": str(e.get("threat_level_id", "4")),
                        "analysis": str(e.get("analysis", "0")),
                        "Orgc": {k: v for k, v in (e.get("Orgc") or {}).items()
                                 if k in ("name", "uuid")},
                        "Tag": [{"name": t.get("name"), "colour": t.get("colour")}
                                for t in e.get("Tag") or [] if isinstance(t, dict)],
                    }
                    events += 1
                    attrs += len(e.get("Attribute") or []) + sum(
                        len(o.get("Attribute") or []) for o in e.get("Object") or [])
    with open(os.path.join(a.dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    stats = {"files": files, "events": events, "attributes": attrs}
    with open(os.path.join(a.dir, "stats.json"), "w") as f:
        json.dump(stats, f)
    print(json.dumps(stats))


try:
    from medallion.backends.memory_backend import MemoryBackend
    from medallion.common import create_resource, find_att, string_to_datetime
except ImportError:  # generating inputs needs no medallion
    MemoryBackend = None

if MemoryBackend is not None:

    class IndexedMemoryBackend(MemoryBackend):
        """medallion's MemoryBackend, with `GET objects` answered from an index (see above)."""

        INDEXED = {"added_after", "match[type]", "match[version]", "limit", "next"}

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._lock = threading.Lock()
            self._index = {}  # collection id -> (object count, [(date_added, entry)], [date])
            self._pages = {}  # next token -> (args, remaining entries, last use)

        def _entries(self, collection):
            objects = collection.get("objects", [])
            cached = self._index.get(collection["id"])
            if cached and cached[0] == len(objects):
                return cached[1], cached[2]
            by_version = {}
            for o in objects:
                by_version[(o["id"], find_att(o))] = o
            entries = []
            for m in collection.get("manifest", []):
                o = by_version.get((m["id"], find_att(m)))
                if o is not None:
                    entries.append((string_to_datetime(m["date_added"]), m["date_added"],
                                    find_att(m), o))
            entries.sort(key=lambda e: e[0])
            dates = [e[0] for e in entries]
            self._index[collection["id"]] = (len(objects), entries, dates)
            return entries, dates

        @staticmethod
        def _about(collection):
            """A collection's resource: medallion deep-copies the whole collection, objects
            included, and then drops them, on every request (twice per `GET objects`)."""
            return {k: copy.deepcopy(v) for k, v in collection.items()
                    if k not in ("manifest", "responses", "objects")}

        def get_collections(self, api_root):
            if api_root not in self.data:
                return None
            return create_resource("collections", [
                self._about(c) for c in self._get(api_root).get("collections", [])])

        def get_collection(self, api_root, collection_id):
            if api_root not in self.data:
                return None
            for c in self._get(api_root).get("collections", []):
                if c["id"] == collection_id:
                    return self._about(c)
            return None

        def get_objects(self, api_root, collection_id, filter_args, allowed_filters, limit):
            if api_root not in self.data or not set(filter_args) <= self.INDEXED:
                return super().get_objects(api_root, collection_id, filter_args,
                                           allowed_filters, limit)
            with self._lock:
                now = time.time()
                for k in [k for k, v in self._pages.items() if now - v[2] > self.timeout]:
                    del self._pages[k]
                args = {k: v for k, v in filter_args.items() if k not in ("limit", "next")}
                if "next" in filter_args:
                    page = self._pages.get(filter_args["next"])
                    if page is None:
                        from medallion.exceptions import ProcessingError
                        raise ProcessingError("The server did not understand the request or "
                                              "filter parameters: 'next' not valid", 400)
                    if page[0] != args:
                        from medallion.exceptions import ProcessingError
                        raise ProcessingError("The server did not understand the request or "
                                              "filter parameters: params changed over "
                                              "subsequent transaction", 400)
                    token, remaining = filter_args["next"], page[1]
                else:
                    token, remaining = None, self._select(api_root, collection_id, args)
                chunk, rest = remaining[:limit], remaining[limit:]
                more = bool(rest)
                if more:
                    token = token or str(uuid.uuid4())
                    self._pages[token] = (args, rest, now)
                else:
                    if token:
                        self._pages.pop(token, None)
                    token = None
                headers = {}
                if chunk:
                    headers["X-TAXII-Date-Added-First"] = chunk[0][1]
                    headers["X-TAXII-Date-Added-Last"] = chunk[-1][1]
                return create_resource("objects", [e[3] for e in chunk], more, token), headers

        def _select(self, api_root, collection_id, args):
            api_info = self._get(api_root)
            for collection in api_info.get("collections", []):
                if collection["id"] == collection_id:
                    break
            else:
                return []
            entries, dates = self._entries(collection)
            if "added_after" in args:
                start = bisect.bisect_right(dates, string_to_datetime(args["added_after"]))
                entries = entries[start:]
            if "match[type]" in args:
                types = set(args["match[type]"].split(","))
                entries = [e for e in entries if e[3]["id"].split("--")[0] in types]
            versions = args.get("match[version]", "last").split(",")
            if "all" in versions:
                return entries
            keep = {}
            for k, e in enumerate(entries):
                for which in versions:
                    key = (which, e[3]["id"])
                    best = keep.get(key)
                    if (best is None or (which == "last" and e[2] > entries[best][2])
                            or (which == "first" and e[2] < entries[best][2])):
                        keep[key] = k
            return [entries[k] for k in sorted(set(keep.values()))]


def cmd_summary(a):
    with open(a.tsv) as f:
        head, *rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    rows = [dict(zip(head, r)) for r in rows]
    groups = {}
    for r in rows:
        groups.setdefault((r["feed"], r["step"], r["bin"]), []).append(r)

    def med(rs, k):
        v = sorted(float(r[k]) for r in rs if r[k] not in ("", "-"))
        if not v:
            return None
        m = len(v) // 2
        return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2

    cols = ["wall_s", "cpu_s", "srv_cpu_s", "maxrss_mib"]
    print("medians over rounds (%s)" % ", ".join(cols))
    print("%-6s %-12s %-4s %6s %10s %9s %9s %9s %11s" % (
        "feed", "step", "bin", "rounds", "objects", *cols))
    for (feed, step, b), rs in groups.items():
        vals = [med(rs, k) for k in cols]
        print("%-6s %-12s %-4s %6d %10s %9s %9s %9s %11s" % (
            feed, step, b, len(rs), rs[0]["objects"],
            *("-" if v is None else "%.3f" % v for v in vals)))
    olds = {k for k in groups if k[2] == "old"}
    if olds:
        print("old/new ratio of medians (> 1: the new binary is faster / smaller)")
        for (feed, step, _b) in sorted(olds):
            new = groups.get((feed, step, "new"))
            if not new:
                continue
            old = groups[(feed, step, "old")]
            out = []
            for k in ("wall_s", "cpu_s", "maxrss_mib"):
                o, n = med(old, k), med(new, k)
                out.append("%s %s" % (k, "%.2f" % (o / n) if o is not None and n else "-"))
            print("  %-6s %-12s %s" % (feed, step, ", ".join(out)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("taxii", help="a medallion memory-backend collection")
    t.add_argument("dir")
    t.add_argument("n", type=int)
    t.add_argument("--seed", type=int, default=7)
    t.add_argument("--port", type=int, default=5000, help="for the discovery document only")
    t.add_argument("--page-size", type=int, default=1000)
    t.add_argument("--backend", choices=["indexed", "memory"], default="indexed")
    m = sub.add_parser("misp", help="a MISP feed directory from real events")
    m.add_argument("src")
    m.add_argument("dir")
    m.add_argument("--copies", type=int, default=1)
    s = sub.add_parser("summary", help="medians and ratios of a results file")
    s.add_argument("tsv")
    a = p.parse_args()
    {"taxii": cmd_taxii, "misp": cmd_misp, "summary": cmd_summary}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
