import assert from "node:assert/strict";
import { createBlockHasher } from "../../../src/ec/store/checksum.ts";
import { decodeShardFile, encodeShardFile } from "../../../src/ec/store/shard_format.ts";
import { seededBytes } from "./helpers.ts";

Deno.test("shard file: round trip, a flipped byte is pinned to its block, damage to the header hides the shard", async () => {
  const h = await createBlockHasher();
  const data = seededBytes(1, 10_000);
  const header = {
    stripeId: 7,
    shardIndex: 3,
    generation: 2,
    shardSize: data.length,
    blockSize: 4096,
  };
  const file = encodeShardFile(header, data, h);
  const ok = decodeShardFile(file, h)!;
  assert.deepEqual(ok.header, header);
  assert.deepEqual(ok.data, data);
  assert.deepEqual(ok.badBlocks, []);
  const flipped = file.slice();
  flipped[32 + 8 + 4096 + 8 + 100] ^= 1; // inside block 1
  assert.deepEqual(decodeShardFile(flipped, h)!.badBlocks, [1]);
  const badHeader = file.slice();
  badHeader[9] ^= 1;
  assert.equal(decodeShardFile(badHeader, h), null);
  assert.equal(decodeShardFile(file.subarray(0, file.length - 1), h), null);
});
