import assert from "node:assert/strict";
import fc from "fast-check";
import { parseExposition, parseSampleLine } from "../../src/metrics/exposition.ts";

Deno.test("exposition: comments, labels with escapes, special values, timestamps", () => {
  const text = [
    "# HELP volume_num_read_ops Read ops",
    "# TYPE volume_num_read_ops gauge",
    'volume_num_read_ops{node="n1",pv_name="pv-1"} 1234',
    'volume_num_read_ops{ node = "n1" , pv_name="a\\"b\\\\c\\nd", } 5 1700000000000',
    "up 1",
    "nan_metric NaN",
    'inf_metric{le="+Inf"} +Inf',
    "neg -1.5e3",
    "",
  ].join("\n");
  const p = parseExposition(text);
  assert.equal(p.skipped, 0);
  assert.equal(p.samples.length, 6);
  assert.deepEqual(p.samples[0], {
    name: "volume_num_read_ops",
    labels: { node: "n1", pv_name: "pv-1" },
    value: 1234,
  });
  assert.equal(p.samples[1].labels.pv_name, 'a"b\\c\nd');
  assert.equal(p.samples[1].timestampMs, 1700000000000);
  assert.ok(Number.isNaN(p.samples[3].value));
  assert.equal(p.samples[4].value, Infinity);
  assert.equal(p.samples[5].value, -1500);
});

Deno.test("exposition: malformed lines are skipped and counted, the rest kept", () => {
  const bad = [
    "{no_name} 1",
    'm{a="1" 2',
    'm{a="1",a="2"} 3',
    "m{a=1} 1",
    "m abc",
    "m 1 2 3",
    'm{a="x\\q"} 1',
    "m 1 1.5",
    "9lives 1",
    "m",
  ];
  const p = parseExposition(["ok 1", ...bad, 'ok2{x="y"} 2'].join("\n"));
  assert.equal(p.samples.length, 2);
  assert.equal(p.skipped, bad.length);
  assert.equal(p.skippedExamples.length, 5);
});

Deno.test("property: the parser never throws, and round-trips what it renders", () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
    parseExposition(s);
  }));
  const label = fc.string({ maxLength: 12 });
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,15}$/),
      fc.dictionary(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/), label, { maxKeys: 4 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      (name, labels, value) => {
        const esc = (v: string) =>
          v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
        const body = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(",");
        const line = `${name}{${body}} ${value}`;
        const s = parseSampleLine(line);
        assert.ok(s, line);
        assert.equal(s.name, name);
        assert.deepEqual(s.labels, { ...labels });
        assert.ok(s.value === value, `${s.value} vs ${value}`); // -0 renders as "0"
      },
    ),
  );
});
