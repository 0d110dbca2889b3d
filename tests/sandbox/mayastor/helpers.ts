/**
 * Shared set-up of the simulator tests: a simulator on a temp dir and a manual clock, and a
 * REST caller that checks every `/v0` answer against the real OpenAPI spec as it arrives.
 */
import { ManualClock } from "../../../src/clock.ts";
import type { SimPoolConfig, SimVolumeConfig } from "../../../src/sandbox/mayastor/cluster.ts";
import {
  type MayastorSim,
  type MayastorSimOptions,
  startMayastorSim,
} from "../../../src/sandbox/mayastor/server.ts";
import { SpecValidator } from "./openapi.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Four nodes, two hot and two cold pools, one pool each (a move is steerable by cordons). */
export const FOUR_NODES: SimPoolConfig[] = [
  { id: "hot-1", node: "node-1", capacityBytes: GiB, tier: "hot" },
  { id: "hot-2", node: "node-2", capacityBytes: GiB, tier: "hot" },
  { id: "cold-1", node: "node-3", capacityBytes: 4 * GiB, tier: "cold" },
  { id: "cold-2", node: "node-4", capacityBytes: 4 * GiB, tier: "cold" },
];

/** Volume size of the tests: 256 KiB, rebuilt at 64 KiB/s, so a rebuild takes 4 s. */
export const SIZE = 256 * 1024;
export const RATE = 64 * 1024;

/** A REST answer. */
export interface Answer<T = unknown> {
  status: number;
  body: T;
}

let validator: SpecValidator | undefined;

/** A running simulator, its clock and a spec-checked REST caller. */
export class SimEnv {
  /** Every `/v0` answer this environment saw, with the spec schema it was checked against. */
  readonly checked: string[] = [];

  private constructor(
    readonly sim: MayastorSim,
    readonly clock: ManualClock,
    readonly dir: string,
    readonly spec: SpecValidator,
  ) {}

  /** Starts a simulator (FOUR_NODES by default). */
  static async start(o: Partial<MayastorSimOptions> = {}): Promise<SimEnv> {
    validator ??= await SpecValidator.load();
    const clock = new ManualClock();
    const dir = await Deno.makeTempDir({ prefix: "mayastor-conformance-" });
    const sim = await startMayastorSim({
      dataDir: dir,
      clock,
      rebuildBytesPerSec: RATE,
      pools: FOUR_NODES,
      ...o,
    });
    return new SimEnv(sim, clock, dir, validator);
  }

  /** Calls `/v0<path>`; the answer must match the spec for its status. */
  async rest<T = unknown>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const res = await fetch(`${this.sim.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    const bare = new URL(`http://x${path}`).pathname;
    this.checked.push(this.spec.check(method, bare, res.status, parsed));
    return { status: res.status, body: parsed as T };
  }

  /** Calls `/sim<path>` (the admin API). */
  async admin(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(`${this.sim.adminUrl}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} /sim${path}: ${res.status} ${await res.text()}`);
    return res;
  }

  /** Seeds a volume (random bytes; published on its first replica's node by default). */
  seed(c: Partial<SimVolumeConfig> & { pools?: string[] }): Promise<string> {
    return this.sim.addVolume({ sizeBytes: SIZE, ...c });
  }

  /**
   * The legacy protocol's first two steps: a REST replica on `pool` (shared over nvmf) added
   * by URI to the volume's nexus. Returns the replica, its URI, the nexus and the child answer.
   */
  async addRawChild(volume: string, pool: string) {
    const replica = crypto.randomUUID();
    const r = await this.rest<{ uri: string }>("PUT", `/pools/${pool}/replicas/${replica}`, {
      size: SIZE,
      thin: false,
      share: "nvmf",
    });
    const v = await this.rest<V0Volume>("GET", `/volumes/${volume}`);
    const nexus = v.body.state.target!.uuid;
    const child = await this.rest<{ state: string }>(
      "PUT",
      `/nexuses/${nexus}/children/${seg(r.body.uri)}`,
    );
    return { replica, uri: r.body.uri, nexus, child };
  }

  /** Advances the clock by `ms` (in 1 s steps, so rebuilds and passes happen in order). */
  async advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 1000) {
      await this.clock.advance(Math.min(1000, ms - t));
      await this.sim.tick();
    }
  }

  /** Stops the simulator and removes its files. */
  async close(): Promise<void> {
    await this.sim.close();
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Runs `f` against a fresh simulator, closing it afterwards. */
export async function withSim(
  f: (env: SimEnv) => Promise<void>,
  o: Partial<MayastorSimOptions> = {},
): Promise<void> {
  const env = await SimEnv.start(o);
  try {
    await f(env);
  } finally {
    await env.close();
  }
}

/** Path segment encoding (child URIs go in one segment). */
export const seg = encodeURIComponent;

/** The JSON shapes the tests read (as the spec defines them). */
export interface V0Volume {
  spec: { uuid: string; num_replicas: number; target?: { node: string }; topology?: unknown };
  state: {
    status: string;
    target?: {
      uuid: string;
      node: string;
      children: { uri: string; state: string; rebuildProgress?: number }[];
    };
    replica_topology: Record<
      string,
      { node?: string; pool?: string; state: string; "child-status"?: string }
    >;
  };
}

/** GET /specs replica entries. */
export interface V0ReplicaSpec {
  uuid: string;
  pool: string;
  managed: boolean;
  owners: { volume?: string; nexuses: string[] };
  status: string;
}

/** The pools of a volume's owned replicas, sorted. */
export function poolsOf(v: V0Volume): string[] {
  return Object.values(v.state.replica_topology).map((t) => t.pool ?? "").sort();
}
