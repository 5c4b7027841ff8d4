#!/usr/bin/env python3
"""The crate's public API as text, one item per line, from rustdoc's JSON.

Usage: .ci/public-api.py target/doc/storages_s3.json > api.txt

Every item a user can name: modules, types, traits, functions, constants, macros, enum
variants, public fields, inherent methods and associated items, and the traits each type
implements (std's auto traits left out). Items are named by the path users write (re-exports
under the path they are re-exported at). Signatures are not rendered: the list shows what
is added, removed or renamed. CI compares it with the committed `api.txt`.
"""
import json
import sys

# Auto traits, std's blanket conversions, and `StructuralPartialEq`: the marker every
# `derive(PartialEq)` adds, which stable code cannot name (the `PartialEq` line says it).
AUTO = {"StructuralPartialEq", "Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe", "Freeze", "Any", "Borrow",
        "BorrowMut", "From", "Into", "TryFrom", "TryInto", "ToOwned", "CloneToUninit",
        "Same", "Instrument", "WithSubscriber", "VZip", "PolicyExt", "ErasedDestructor"}


def main(path):
    doc = json.load(open(path))
    index = doc["index"]
    out = set()

    def item(i):
        return index.get(str(i)) if isinstance(i, int) else index.get(i)

    def public(it):
        return it is not None and it.get("visibility") == "public"

    def local(i):
        it = item(i) if i is not None else None
        return it is not None and it.get("crate_id") == 0

    def impls_of(it, kind):
        return it["inner"][kind].get("impls", [])

    def members(name, it, kind):
        for impl_id in impls_of(it, kind):
            impl = item(impl_id)
            if impl is None:
                continue
            inner = impl["inner"]["impl"]
            trait = inner.get("trait")
            if inner.get("is_synthetic"):
                continue
            # std's blanket impls (From, Borrow, ...) reach every type; this crate's own
            # (a blocking storage is a Storage through its async storage) are promises.
            if inner.get("blanket_impl") and not (trait and local(trait.get("id"))):
                continue
            if trait:
                tname = trait.get("path") or trait.get("name") or ""
                tname = tname.split("::")[-1]
                if tname not in AUTO:
                    out.add(f"impl {tname} for {name}")
                continue
            for m in inner["items"]:
                mi = item(m)
                if public(mi):
                    k = next(iter(mi["inner"]))
                    out.add(f"{k} {name}::{mi['name']}")

    def visit(it, path, seen):
        if it is None or it["id"] in seen:
            return
        seen = seen | {it["id"]}
        kind = next(iter(it["inner"]))
        name = "::".join(path)
        if kind == "module":
            out.add(f"mod {name}")
            for child in it["inner"]["module"]["items"]:
                c = item(child)
                if not public(c):
                    continue
                ck = next(iter(c["inner"]))
                if ck == "use":
                    use = c["inner"]["use"]
                    target = item(use["id"]) if use.get("id") is not None else None
                    if use.get("is_glob"):
                        if target is not None and "module" in target["inner"]:
                            for g in target["inner"]["module"]["items"]:
                                gi = item(g)
                                if public(gi) and gi.get("name"):
                                    visit(gi, path + [gi["name"]], seen)
                        continue
                    if target is not None:
                        visit(target, path + [use["name"]], seen)
                    else:
                        out.add(f"use {name}::{use['name']} = {use['source']}")
                elif c.get("name"):
                    visit(c, path + [c["name"]], seen)
            return
        out.add(f"{kind} {name}")
        if kind == "struct":
            fields = it["inner"]["struct"]["kind"]
            plain = fields.get("plain") if isinstance(fields, dict) else None
            for f in (plain or {}).get("fields", []):
                fi = item(f)
                if public(fi):
                    out.add(f"field {name}.{fi['name']}")
            members(name, it, "struct")
        elif kind == "enum":
            for v in it["inner"]["enum"]["variants"]:
                out.add(f"variant {name}::{item(v)['name']}")
            members(name, it, "enum")
        elif kind == "trait":
            for m in it["inner"]["trait"]["items"]:
                out.add(f"trait-item {name}::{item(m)['name']}")

    root = item(doc["root"])
    visit(root, [root["name"]], frozenset())
    for line in sorted(out):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
