import assert from "node:assert/strict";
import { createBlockHasher } from "../../../src/ec/store/checksum.ts";
import {
  decodeShardFile,
  encodeShardFile,
  identityMismatch,
  SHARD_HEADER_BYTES,
} from "../../../src/ec/store/shard_format.ts";
import { seededBytes } from "./helpers.ts";

Deno.test("shard file: round trip, a flipped byte is pinned to its block, damage to the header hides the shard", async () => {
  const h = await createBlockHasher();
  const data = seededBytes(1, 10_000);
  const header = {
    storeId: "0f8e2b4c-1d2a-4b6c-9e7f-112233445566",
    stripeId: 7,
    shardIndex: 3,
    generation: 2,
    shardSize: data.length,
    blockSize: 4096,
    writeId: 12,
    stripeIndex: 4,
    dataBytes: 4 * data.length - 5,
    code: { algorithm: "LRC" as const, k: 4, l: 2, g: 2 },
  };
  const file = encodeShardFile(header, data, h);
  const ok = decodeShardFile(file, h)!;
  assert.deepEqual(ok.header, header);
  assert.deepEqual(ok.data, data);
  assert.deepEqual(ok.badBlocks, []);
  const flipped = file.slice();
  flipped[SHARD_HEADER_BYTES + 8 + 4096 + 8 + 100] ^= 1; // inside block 1
  assert.deepEqual(decodeShardFile(flipped, h)!.badBlocks, [1]);
  const badHeader = file.slice();
  badHeader[9] ^= 1;
  assert.equal(decodeShardFile(badHeader, h), null);
  assert.equal(decodeShardFile(file.subarray(0, file.length - 1), h), null);
  // The identity is compared field by field and the difference named.
  assert.equal(identityMismatch(ok.header, header), null);
  const other = { ...header, storeId: "99999999-1d2a-4b6c-9e7f-112233445566", stripeIndex: 5 };
  assert.equal(
    identityMismatch(other, header),
    "store 99999999-1d2a-4b6c-9e7f-112233445566, expected 0f8e2b4c-1d2a-4b6c-9e7f-112233445566; " +
      "stripe index 5, expected 4",
  );
  const rs = { ...header, code: { algorithm: "ReedSolomon" as const, k: 4, m: 4 } };
  assert.match(identityMismatch(rs, header)!, /^geometry RS 4\+4 .*, expected LRC 4\+2\+2 /);
});
