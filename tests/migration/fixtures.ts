/** A planned move state for tests that only need a valid one (store, history, explain). */
import { type MoveState, planMove } from "../../src/migration/state.ts";

/** A Planned one-step move of `volume` (its Mayastor uuid defaults to the PV name). */
export function plannedMove(
  volume: string,
  o: Partial<{
    uuid: string;
    policy: string;
    from: "hot" | "warm" | "cold";
    to: "hot" | "warm" | "cold";
    now: number;
    timeoutMs: number;
    triggerIOPS: number;
  }> = {},
): MoveState {
  const from = o.from ?? "hot", to = o.to ?? "cold";
  return planMove({
    id: `move-${volume}`,
    policy: o.policy ?? "p",
    volume,
    volumeUuid: o.uuid ?? volume,
    from,
    to,
    steps: [{ old: "r-old", oldPool: `${from}-1`, targetPools: [`${to}-1`], targetNode: "node-t" }],
    replicas: ["r-old"],
    replicaCount: 1,
    healthyReplicas: 1,
    triggerIOPS: o.triggerIOPS ?? 3,
    now: o.now ?? Date.UTC(2026, 0, 1),
    timeoutMs: o.timeoutMs,
    dryRun: false,
    preservation: false,
  });
}
