/**
 * Readiness registry behind `/readyz`: every component registers, then reports ready or
 * not-ready with a reason. The process is ready only when every registered component is.
 */

/** One component's readiness as `/readyz` shows it. */
export interface ComponentReadiness {
  name: string;
  ready: boolean;
  /** Why the component is not ready ("" when ready). */
  reason: string;
}

/** What a component holds to report its own readiness. */
export interface ReadinessHandle {
  /** The component can serve. */
  ready(): void;
  /** The component cannot serve, and why (shown in the `/readyz` body). */
  notReady(reason: string): void;
}

/** The set of components `/readyz` waits for. */
export class Readiness {
  #states = new Map<string, ComponentReadiness>();
  #shuttingDown = false;

  /** Registers a component, not ready until it says so ("starting"). Names must be unique. */
  register(name: string, reason = "starting"): ReadinessHandle {
    if (this.#states.has(name)) throw new Error(`readiness component "${name}" registered twice`);
    const state: ComponentReadiness = { name, ready: false, reason };
    this.#states.set(name, state);
    return {
      ready: () => {
        state.ready = true;
        state.reason = "";
      },
      notReady: (why: string) => {
        state.ready = false;
        state.reason = why;
      },
    };
  }

  /** Marks the whole process not ready while it shuts down, so traffic drains first. */
  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  /** Every component's state, in registration order. */
  components(): ComponentReadiness[] {
    return [...this.#states.values()].map((s) => ({ ...s }));
  }

  /** Ready when not shutting down and every component is ready; reasons name the laggards. */
  status(): { ready: boolean; reasons: string[] } {
    const reasons = this.components().filter((c) => !c.ready).map((c) => `${c.name}: ${c.reason}`);
    if (this.#shuttingDown) reasons.unshift("shutting down");
    return { ready: reasons.length === 0, reasons };
  }
}
