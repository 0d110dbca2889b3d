import assert from "node:assert/strict";

const CHILD = new URL("./fixtures/watch_abort_child.ts", import.meta.url).pathname;

Deno.test("kube client: aborting a watch ends it at once even after a garbage collection", async () => {
  // Before the fix, the body read outlived the abort once a GC had run (Deno's fetch stops
  // forwarding the abort to a response body), so shutdown waited for timeoutSeconds.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", CHILD],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, dec.decode(out.stderr));
  const r = JSON.parse(dec.decode(out.stdout).trim().split("\n").pop()!);
  assert.equal(r.outcome, "threw stopping");
  assert.ok(r.ms < 5000, `ended after ${r.ms} ms, not at the 10 s watch timeout`);
});
