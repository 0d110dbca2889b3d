/**
 * Validates api-rest responses against the real `v0_api_spec.yaml` (fixtures/, copied from
 * openebs/mayastor-control-plane) with ajv: the operation is found by method and path template,
 * the schema by status (exact, then 4XX/5XX). `VolumeSpec.required` loses `num_paths` and
 * `protocol`, which the real server never sends.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";

const SPEC_PATH = new URL("./fixtures/v0_api_spec.yaml", import.meta.url);

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }>; $ref?: string }>;
}

type Spec = {
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { required?: string[] }>;
    responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  };
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A compiled spec: `check` throws with ajv's errors when a response does not fit. */
export class SpecValidator {
  readonly #spec: Spec;
  readonly #ajv: Ajv;
  readonly #routes: { method: string; re: RegExp; op: Operation; template: string }[] = [];
  readonly #cache = new Map<string, ValidateFunction>();

  private constructor(spec: Spec) {
    this.#spec = spec;
    const req = spec.components.schemas.VolumeSpec.required ?? [];
    spec.components.schemas.VolumeSpec.required = req.filter(
      (k) => k !== "num_paths" && k !== "protocol",
    );
    // OpenAPI 3.0 keywords (example, nullable) and formats ajv does not know.
    this.#ajv = new Ajv({ strict: false, allErrors: true });
    this.#ajv.addFormat("uuid", UUID);
    this.#ajv.addFormat("url", { validate: (s: string) => URL.canParse(s) });
    for (const f of ["int64", "int32", "uint8", "uint64"]) {
      this.#ajv.addFormat(f, { type: "number", validate: (n: number) => Number.isInteger(n) });
    }
    this.#ajv.addSchema({ components: spec.components }, "spec");
    for (const [template, ops] of Object.entries(spec.paths)) {
      const re = new RegExp(
        "^" + template.replace(/\{[^}]+\}/g, "[^/]+").replace(/\//g, "\\/") + "$",
      );
      for (const [method, op] of Object.entries(ops)) {
        this.#routes.push({ method: method.toUpperCase(), re, op, template });
      }
    }
    // Literal segments beat parameters (e.g. /volumes/snapshots over /volumes/{volume_id}).
    const params = (t: string) => t.split("{").length;
    this.#routes.sort((a, b) => params(a.template) - params(b.template));
  }

  /** Loads the spec fixture. */
  static async load(): Promise<SpecValidator> {
    return new SpecValidator(parse(await Deno.readTextFile(SPEC_PATH)) as Spec);
  }

  /** The spec's path template of a call (`/v0` stripped), if it has one. */
  template(method: string, path: string): string | undefined {
    return this.#routes.find((r) => r.method === method && r.re.test(path))?.template;
  }

  /**
   * Checks one response body; returns the schema's name (or "no body"). Throws when the call
   * has no operation in the spec, or the body does not validate.
   */
  check(method: string, path: string, status: number, body: unknown): string {
    const route = this.#routes.find((r) => r.method === method && r.re.test(path));
    if (!route) throw new Error(`${method} ${path}: no operation in v0_api_spec.yaml`);
    const key = String(status);
    const res = route.op.responses[key] ?? route.op.responses[`${key[0]}XX`];
    if (!res) throw new Error(`${method} ${route.template}: status ${status} is not in the spec`);
    const schema = this.#schemaOf(res);
    if (schema === undefined) {
      if (body !== undefined) throw new Error(`${method} ${route.template}: ${status} has no body`);
      return "no body";
    }
    const id = `${method} ${route.template} ${key}`;
    let v = this.#cache.get(id);
    if (!v) {
      v = this.#ajv.compile(this.#rebase(schema));
      this.#cache.set(id, v);
    }
    if (!v(body)) {
      throw new Error(
        `${id}: response does not match the spec: ${this.#ajv.errorsText(v.errors)}\n` +
          JSON.stringify(body).slice(0, 2000),
      );
    }
    return id;
  }

  #schemaOf(res: Operation["responses"][string]): unknown {
    const resolved = res.$ref ? this.#spec.components.responses[res.$ref.split("/").pop()!] : res;
    return resolved.content?.["application/json"]?.schema;
  }

  /** Rewrites local refs to the registered spec document. */
  #rebase(schema: unknown): Record<string, unknown> {
    return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"spec#/components/'));
  }
}
