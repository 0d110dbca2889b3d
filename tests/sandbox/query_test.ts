/**
 * Query parameters as kube-apiserver decodes and validates them (pure): booleans by
 * apimachinery's runtime/conversion.go, ListOptions by meta/internalversion/validation, the
 * write options by meta/v1/validation; refusals are 422 on `<Kind>Options.meta.k8s.io`.
 */
import assert from "node:assert/strict";
import { ApiError } from "../../src/sandbox/apiserver/errors.ts";
import { parseListQuery, parseWriteQuery, queryBool } from "../../src/sandbox/apiserver/query.ts";
import {
  canonicalMicroTime,
  dropEmptyMeta,
  stableJson,
} from "../../src/sandbox/apiserver/normalize.ts";

const q = (s: string) => new URLSearchParams(s);

/** Asserts a 422 on `<kind>` whose causes name `field` and match `message`. */
function refused(fn: () => unknown, kind: string, field: string, message: RegExp) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, 422);
    assert.equal(e.status.details?.kind, kind);
    assert.equal(e.status.details?.group, "meta.k8s.io");
    assert.ok(e.status.details?.causes?.some((c) => c.field === field), JSON.stringify(e.status));
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("query: a boolean is false only when absent, 0 or false (any case)", () => {
  for (const v of ["true", "True", "1", "", "yes", "Bogus"]) {
    assert.equal(queryBool(q(`watch=${v}`), "watch"), true, v);
  }
  for (const v of ["false", "False", "FALSE", "0"]) {
    assert.equal(queryBool(q(`watch=${v}`), "watch"), false, v);
  }
  assert.equal(queryBool(q(""), "watch"), false);
  assert.equal(parseListQuery(q("watch=True&allowWatchBookmarks=True")).allowWatchBookmarks, true);
  assert.equal(parseListQuery(q(""), true).watch, true, "the /watch/ path prefix");
});

Deno.test("query: ListOptions validation for lists and watches", () => {
  refused(
    () => parseListQuery(q("resourceVersionMatch=Exact")),
    "ListOptions",
    "resourceVersionMatch",
    /unless resourceVersion is provided/,
  );
  refused(
    () => parseListQuery(q("resourceVersion=0&resourceVersionMatch=Exact")),
    "ListOptions",
    "resourceVersionMatch",
    /"exact" is forbidden for resourceVersion "0"/,
  );
  refused(
    () => parseListQuery(q("resourceVersion=5&resourceVersionMatch=Newest")),
    "ListOptions",
    "resourceVersionMatch",
    /Unsupported value: "Newest"/,
  );
  refused(
    () => parseListQuery(q("sendInitialEvents=true")),
    "ListOptions",
    "sendInitialEvents",
    /forbidden for list/,
  );
  refused(
    () => parseListQuery(q("watch=1&sendInitialEvents=true")),
    "ListOptions",
    "resourceVersionMatch",
    /requires setting resourceVersionMatch to NotOlderThan/,
  );
  refused(
    () => parseListQuery(q("watch=1&resourceVersion=3&resourceVersionMatch=NotOlderThan")),
    "ListOptions",
    "resourceVersionMatch",
    /unless sendInitialEvents is provided/,
  );
  const ok = parseListQuery(q("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"));
  assert.equal(ok.sendInitialEvents, true);
  refused(() => parseListQuery(q("limit=abc")), "ListOptions", "limit", /must be an integer/);
});

Deno.test("query: write options — dryRun only All, fieldValidation, force and fieldManager on patches", () => {
  assert.equal(parseWriteQuery(q("dryRun=All"), "CreateOptions").dryRun, true);
  assert.equal(parseWriteQuery(q(""), "CreateOptions").dryRun, false);
  assert.equal(parseWriteQuery(q(""), "CreateOptions").fieldValidation, "Warn");
  refused(
    () => parseWriteQuery(q("dryRun=True"), "CreateOptions"),
    "CreateOptions",
    "dryRun",
    /Unsupported value: \["True"\]: supported values: "All"/,
  );
  refused(
    () => parseWriteQuery(q("dryRun=All&dryRun=x"), "UpdateOptions"),
    "UpdateOptions",
    "dryRun",
    /\["All","x"\]/,
  );
  refused(
    () => parseWriteQuery(q("fieldValidation=strict"), "CreateOptions"),
    "CreateOptions",
    "fieldValidation",
    /Unsupported value: "strict"/,
  );
  refused(
    () => parseWriteQuery(q("force=true"), "PatchOptions", "application/merge-patch+json"),
    "PatchOptions",
    "force",
    /may not be specified for non-apply patch/,
  );
  refused(
    () => parseWriteQuery(q(""), "PatchOptions", "application/apply-patch+yaml"),
    "PatchOptions",
    "fieldManager",
    /is required for apply patch/,
  );
  refused(
    () => parseWriteQuery(q(`fieldManager=${"m".repeat(129)}`), "CreateOptions"),
    "CreateOptions",
    "fieldManager",
    /Too long/,
  );
  const apply = parseWriteQuery(
    q("fieldManager=me&force=True"),
    "PatchOptions",
    "application/apply-patch+yaml",
  );
  assert.deepEqual([apply.fieldManager, apply.force], ["me", true]);
});

Deno.test("normalize: MicroTime needs six fraction digits and is written in UTC", () => {
  assert.equal(
    canonicalMicroTime("2026-01-01T02:30:00.123456+02:30"),
    "2026-01-01T00:00:00.123456Z",
  );
  assert.equal(canonicalMicroTime("2026-01-01T00:00:00.000001Z"), "2026-01-01T00:00:00.000001Z");
  for (const bad of ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.123Z", "yesterday"]) {
    assert.equal(canonicalMicroTime(bad), undefined, bad);
  }
});

Deno.test("normalize: empty metadata maps and lists vanish; stable JSON ignores key order", () => {
  const md: Record<string, unknown> = {
    name: "a",
    labels: {},
    annotations: {},
    finalizers: [],
    ownerReferences: null,
    uid: "u",
  };
  dropEmptyMeta(md);
  assert.deepEqual(md, { name: "a", uid: "u" });
  assert.equal(
    stableJson({ b: 1, a: [{ d: 2, c: 3 }] }),
    stableJson({ a: [{ c: 3, d: 2 }], b: 1 }),
  );
  assert.notEqual(stableJson([1, 2]), stableJson([2, 1]));
});
