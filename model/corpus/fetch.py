#!/usr/bin/python3
"""Download and unpack every source listed in train-sources.tsv (and nothing else).

Methods follow shared/data/CORPUS.md:
  deb:NAME  apt-get download NAME ; dpkg-deb -x FILE DIR    (nothing is installed)
  src:NAME  private apt config (deb-src, bookworm, main) ;
            apt-get source --download-only NAME ; tar -x the .orig tarballs
  npm:NAME  npm pack NAME@VERSION (--ignore-scripts) ; tar -x ;
            license re-read from package.json, only permissive ones are kept

Layout of the cache directory:
  dl/<kind>/<name>/        downloaded .deb / .dsc+tarballs / .tgz
  unpacked/<kind>/<name>/  unpacked tree, plus .fetch.json once complete (resume marker)
  apt-src/                 private apt state for deb-src (lists, cache, parts)
  fetch-status.tsv         one row per source: source, status, version, message

Resumable: a source whose unpacked/<kind>/<name>/.fetch.json exists is skipped.
Standard library only.  Usage:
  /usr/bin/python3 model/corpus/fetch.py [--sources TSV] [--cache DIR] [--workers N]
"""
import argparse
import concurrent.futures as cf
import csv
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_SOURCES = os.path.join(REPO_ROOT, "..", "shared", "data", "train-sources.tsv")
MARKER = ".fetch.json"

DEBIAN_URI = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

# SPDX ids we treat as permissive for npm packages (license re-read from package.json).
PERMISSIVE_SPDX = {
    "MIT", "MIT-0", "ISC", "BSD-2-CLAUSE", "BSD-3-CLAUSE", "0BSD", "APACHE-2.0",
    "CC0-1.0", "UNLICENSE", "BSL-1.0", "ZLIB", "PYTHON-2.0", "BLUEOAK-1.0.0",
    "WTFPL", "X11", "PSF-2.0", "CC-BY-4.0", "UPL-1.0",
}

_print_lock = threading.Lock()


def log(msg):
    with _print_lock:
        print(msg, flush=True)


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name.replace("/", "__"))


def read_sources(path):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            src = row["source"].strip()
            if not src or ":" not in src:
                continue
            kind, name = src.split(":", 1)
            rows.append({"source": src, "kind": kind, "name": name,
                         "version": row.get("version", ""),
                         "license": row.get("license_declared", ""),
                         "class": row.get("class", ""),
                         "bytes": row.get("bytes", "0")})
    return rows


def run(cmd, cwd=None, timeout=1800, env=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, env=env)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout or "").strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(cmd[:3])}... exit {p.returncode}: {' | '.join(tail)}")
    return p.stdout


def npm_license_ok(lic):
    """True if an npm package.json license value is permissive (SPDX OR/AND aware)."""
    if isinstance(lic, dict):
        lic = lic.get("type", "")
    if isinstance(lic, list):  # old "licenses": [{type: ...}] -> all must be ok
        return bool(lic) and all(npm_license_ok(x) for x in lic)
    if not isinstance(lic, str) or not lic.strip():
        return False
    expr = lic.replace("(", " ").replace(")", " ").upper()
    for alt in re.split(r"\s+OR\s+", expr):
        parts = [p.strip() for p in re.split(r"\s+AND\s+", alt) if p.strip()]
        if parts and all(p in PERMISSIVE_SPDX for p in parts):
            return True
    return False


# ---------------------------------------------------------------- apt (deb-src)
class AptSrc:
    def __init__(self, cache):
        self.dir = os.path.join(cache, "apt-src")
        self.lock = threading.Lock()
        self.ready = False

    def opts(self):
        d = self.dir
        return ["-o", "Dir::Etc::SourceList=/dev/null",
                "-o", f"Dir::Etc::SourceParts={d}/parts",
                "-o", f"Dir::State::Lists={d}/lists",
                "-o", f"Dir::Cache={d}/cache"]

    def ensure(self):
        with self.lock:
            if self.ready:
                return
            for sub in ("parts", "lists/partial", "cache/archives/partial"):
                os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
            with open(os.path.join(self.dir, "parts", "debian-src.sources"), "w") as f:
                f.write(f"Types: deb-src\nURIs: {DEBIAN_URI}\nSuites: bookworm\n"
                        f"Components: main\nSigned-By: {KEYRING}\n")
            if not glob.glob(os.path.join(self.dir, "lists", "*Sources*")):
                log("apt-src: apt-get update (private deb-src config)")
                run(["apt-get", "-q", *self.opts(), "update"], timeout=1800)
            # build the source package cache once, before workers use it concurrently
            run(["apt-cache", *self.opts(), "showsrc", "zlib"], timeout=600)
            self.ready = True


# ---------------------------------------------------------------- per kind
def fetch_deb(row, dl, out):
    name = row["name"]
    debs = glob.glob(os.path.join(dl, "*.deb"))
    if not debs:
        run(["apt-get", "-q", "download", name], cwd=dl)
        debs = glob.glob(os.path.join(dl, "*.deb"))
    if not debs:
        raise RuntimeError("apt-get download produced no .deb")
    deb = sorted(debs)[-1]
    version = run(["dpkg-deb", "-f", deb, "Version"]).strip()
    run(["dpkg-deb", "-x", deb, out])
    # OpenJDK sources ship as src.zip inside openjdk-17-source
    for z in glob.glob(os.path.join(out, "usr", "lib", "jvm", "*", "lib", "src.zip")) + \
            glob.glob(os.path.join(out, "usr", "lib", "jvm", "*", "src.zip")):
        if os.path.islink(z):
            continue
        dest = os.path.join(out, "src.zip.d")
        with zipfile.ZipFile(z) as zf:
            for m in zf.infolist():
                n = os.path.normpath(m.filename)
                if n.startswith("..") or os.path.isabs(n) or m.is_dir():
                    continue
                zf.extract(m, dest)
        os.remove(z)
    return version


def dsc_complete(dl):
    """Upstream tarballs (.orig*, or the native .tar) named in the .dsc, all present with
    matching sha256; [] if anything is missing."""
    dscs = sorted(glob.glob(os.path.join(dl, "*.dsc")))
    if not dscs:
        return []
    with open(dscs[-1], encoding="utf-8", errors="replace") as f:
        text = f.read()
    m = re.search(r"^Checksums-Sha256:\n((?:[ \t].*\n?)+)", text, re.M)
    if not m:
        return []
    files = [ln.split() for ln in m.group(1).splitlines() if ln.strip()]
    files = [(h, n) for h, _, n in files if ".tar." in n and ".debian.tar." not in n
             and not n.endswith((".asc", ".sig"))]
    out = []
    for h, n in files:
        p = os.path.join(dl, n)
        if not os.path.isfile(p):
            return []
        d = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                d.update(chunk)
        if d.hexdigest() != h:
            return []
        out.append(p)
    return sorted(out)


def fetch_src(row, dl, out, apt):
    apt.ensure()
    name = row["name"]
    err = None
    if not dsc_complete(dl):
        try:
            run(["apt-get", "-q", *apt.opts(), "source", "--download-only", name], cwd=dl)
        except RuntimeError as e:
            err = e
    tars = dsc_complete(dl)
    if not tars:
        raise err or RuntimeError("apt-get source: .dsc or upstream tarballs missing")
    if err:  # e.g. the .debian.tar is missing on the mirror: upstream tarballs suffice
        log(f"note    {row['source']}: apt-get source failed but all upstream tarballs "
            f"listed in the .dsc were downloaded and verified; using them")
    version = ""
    with open(sorted(glob.glob(os.path.join(dl, "*.dsc")))[-1], encoding="utf-8",
              errors="replace") as f:
        for line in f:
            if line.startswith("Version:"):
                version = line.split(":", 1)[1].strip()
                break
    for t in tars:
        base = os.path.basename(t)
        m = re.search(r"\.orig-([A-Za-z0-9._+-]+?)\.tar\.", base)
        dest = os.path.join(out, "orig-" + m.group(1)) if m else out
        os.makedirs(dest, exist_ok=True)
        run(["tar", "-xf", t, "-C", dest, "--no-same-owner", "--no-same-permissions"])
    return version


def fetch_npm(row, dl, out, cache):
    name, ver = row["name"], row["version"]
    tgzs = glob.glob(os.path.join(dl, "*.tgz"))
    if not tgzs:
        run(["npm", "pack", f"{name}@{ver}", "--pack-destination", dl,
             "--ignore-scripts", "--silent", "--cache", os.path.join(cache, "npm-cache")],
            cwd=dl, timeout=900)
        tgzs = glob.glob(os.path.join(dl, "*.tgz"))
    if not tgzs:
        raise RuntimeError("npm pack produced no tarball")
    run(["tar", "-xzf", tgzs[0], "-C", out, "--no-same-owner", "--no-same-permissions"])
    # top-level package.json: package/ normally, @types/* use a folder named after the package
    pj = None
    for d in sorted(os.listdir(out)):
        cand = os.path.join(out, d, "package.json")
        if os.path.isfile(cand):
            pj = cand
            break
    if pj is None:
        raise RuntimeError("no package.json in tarball")
    with open(pj, encoding="utf-8", errors="replace") as f:
        meta = json.load(f)
    lic = meta.get("license", meta.get("licenses"))
    version = meta.get("version", ver)
    if not npm_license_ok(lic):
        raise LicenseRejected(f"package.json license {lic!r} is not permissive")
    return version, lic if isinstance(lic, str) else json.dumps(lic)


class LicenseRejected(Exception):
    pass


def fetch_one(row, cache, apt):
    kind, name = row["kind"], row["name"]
    sname = safe_name(name)
    final = os.path.join(cache, "unpacked", kind, sname)
    marker = os.path.join(final, MARKER)
    if os.path.isfile(marker):
        with open(marker) as f:
            info = json.load(f)
        return dict(info, status="cached")
    dl = os.path.join(cache, "dl", kind, sname)
    os.makedirs(dl, exist_ok=True)
    tmp = final + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    t0 = time.time()
    license_seen = row["license"]
    try:
        if kind == "deb":
            version = fetch_deb(row, dl, tmp)
        elif kind == "src":
            version = fetch_src(row, dl, tmp, apt)
        elif kind == "npm":
            version, license_seen = fetch_npm(row, dl, tmp, cache)
        else:
            raise RuntimeError(f"unknown source kind {kind!r}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    nfiles, nbytes = 0, 0
    for dp, _, fns in os.walk(tmp):
        for fn in fns:
            p = os.path.join(dp, fn)
            if os.path.isfile(p) and not os.path.islink(p):
                nfiles += 1
                nbytes += os.path.getsize(p)
    info = {"source": row["source"], "kind": kind, "name": name,
            "version": version, "version_listed": row["version"],
            "license": license_seen, "class": row["class"],
            "files": nfiles, "bytes": nbytes, "seconds": round(time.time() - t0, 1)}
    with open(os.path.join(tmp, MARKER), "w") as f:
        json.dump(info, f, indent=1)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    return dict(info, status="ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sources", default=DEFAULT_SOURCES)
    ap.add_argument("--cache", default="/work/corpus-cache")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--only", nargs="*", help="restrict to these source ids (still must be in the tsv)")
    args = ap.parse_args()

    rows = read_sources(args.sources)
    if args.only:
        wanted = set(args.only)
        unknown = wanted - {r["source"] for r in rows}
        if unknown:
            sys.exit(f"not in {args.sources}: {sorted(unknown)}")
        rows = [r for r in rows if r["source"] in wanted]
    os.makedirs(args.cache, exist_ok=True)
    apt = AptSrc(args.cache)
    log(f"{len(rows)} sources from {args.sources} -> {args.cache} ({args.workers} workers)")

    results = {}
    # big sources first so the tail of the run is short
    order = sorted(rows, key=lambda r: -int(r.get("bytes") or 0))
    with cf.ThreadPoolExecutor(max_workers=args.workers) as ex:
        futs = {ex.submit(fetch_one, r, args.cache, apt): r for r in order}
        for fut in cf.as_completed(futs):
            r = futs[fut]
            try:
                info = fut.result()
                results[r["source"]] = (info["status"], info.get("version", ""), "")
                if info["status"] == "ok":
                    log(f"ok      {r['source']} {info['version']} "
                        f"({info['files']} files, {info['bytes'] / 1e6:.1f} MB, {info['seconds']}s)")
            except LicenseRejected as e:
                results[r["source"]] = ("license-rejected", "", str(e))
                log(f"SKIP    {r['source']}: {e}")
            except Exception as e:  # one bad source never stops the others
                results[r["source"]] = ("failed", "", str(e))
                log(f"FAILED  {r['source']}: {e}")

    status_path = os.path.join(args.cache, "fetch-status.tsv")
    # merge with earlier status rows for sources not in this run (--only)
    old = {}
    if os.path.isfile(status_path):
        with open(status_path, encoding="utf-8") as f:
            for row in csv.reader(f, delimiter="\t"):
                if row and row[0] != "source":
                    old[row[0]] = tuple(row[1:4])
    old.update(results)
    with open(status_path, "w", encoding="utf-8") as f:
        f.write("source\tstatus\tversion\tmessage\n")
        for s in sorted(old):
            st, ver, msg = old[s]
            f.write(f"{s}\t{st}\t{ver}\t{msg.replace(chr(9), ' ')}\n")
    bad = {s: v for s, v in results.items() if v[0] not in ("ok", "cached")}
    log(f"done: {len(results) - len(bad)} ok/cached, {len(bad)} not fetched "
        f"(see {status_path})")
    for s, (st, _, msg) in sorted(bad.items()):
        log(f"  {st:16s} {s}: {msg}")


if __name__ == "__main__":
    main()
