import assert from "node:assert/strict";
import { formatListenAddr, parseListenAddr } from "../../src/config/listen.ts";

Deno.test("listen addresses: empty host binds all interfaces, IPv6 in brackets", () => {
  assert.deepEqual(parseListenAddr(":8080"), { hostname: "0.0.0.0", port: 8080 });
  assert.deepEqual(parseListenAddr("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseListenAddr("[::1]:9000"), { hostname: "::1", port: 9000 });
  assert.deepEqual(parseListenAddr("localhost:1"), { hostname: "localhost", port: 1 });
  assert.equal(formatListenAddr({ hostname: "::1", port: 9000 }), "[::1]:9000");
});

Deno.test("listen addresses: no port, a port past 65535 or junk are rejected", () => {
  for (const bad of ["8080", ":", ":65536", "host:port", "a b:1", ""]) {
    assert.equal(parseListenAddr(bad), undefined, bad);
  }
});
