/**
 * Child process for the crash test: writes objects `<prefix>-<i>` through the journal of the
 * store in Deno.args[0] and prints "ack <i>" only after each write resolved (fdatasync done).
 * The parent SIGKILLs it at a random moment.
 */
import { EcStore } from "../../../src/ec/store/store.ts";
import { seededBytes, storeDeps } from "./helpers.ts";

const [dir, prefix, seedText] = Deno.args;
const seed = Number(seedText);
const store = await EcStore.open(dir, await storeDeps(), {
  journalCapacityBytes: 256 * 1024,
  destageThresholdPercent: 40,
});
const enc = new TextEncoder();
for (let i = 0;; i++) {
  const size = 1 + ((seed * 7919 + i * 104729) % 30_000);
  await store.write(`${prefix}-${i}`, seededBytes(seed * 100_000 + i, size));
  Deno.stdout.writeSync(enc.encode(`ack ${i}\n`));
}
