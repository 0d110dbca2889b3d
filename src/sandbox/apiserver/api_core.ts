/**
 * API semantics independent of HTTP: create/get/list/update/patch/delete/watch on
 * resource definitions, following the Kubernetes API conventions (resourceVersion,
 * uid, generation, finalizers, status subresource, selectors, paging, CRDs).
 */
import type { Clock } from "../../clock.ts";
import { builtinDefaults } from "./builtin_defaults.ts";
import { crdStatus } from "./crd.ts";
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  type ErrTarget,
  expired,
  forbidden,
  invalid,
  notFound,
  tooLargeResourceVersion,
  unsupportedMediaType,
} from "./errors.ts";
import {
  deletionFinalizers,
  GarbageCollector,
  type GcHost,
  type Loc,
  type OwnerRef,
  type Propagation,
} from "./gc.ts";
import { dropEmptyMeta, normalizeMicroTimes, stableJson } from "./normalize.ts";
import { admit } from "./admission.ts";
import { type Page, Paging } from "./paging.ts";
import { applyConfig, type FieldContext, trackUpdate, updateManager } from "./apply.ts";
import { jsonPatch, mergePatch, PatchError } from "./patch.ts";
import { builtinShape, crdShape, type Shape } from "./shape.ts";
import { strategicMerge } from "./strategic.ts";
import { addProtectionFinalizer, ProtectionControllers } from "./protection.ts";
import {
  apiVersionOf,
  builtinResources,
  crdResources,
  type CrdSpec,
  qualifiedResource,
  type ResourceDef,
} from "./resources.ts";
import {
  type FieldRequirement,
  type LabelSelector,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from "./selectors.ts";
import { type KObj, ObjectStore, type Stored, type StoreEvent } from "./store.ts";

/** Per-request options that change how a write behaves. */
export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** The client's User-Agent: names the manager of a write without fieldManager. */
  userAgent?: string;
  /** `Strict` rejects unknown fields, `Warn` reports them, `Ignore` drops them silently. */
  fieldValidation?: "Strict" | "Warn" | "Ignore";
  force?: boolean;
}

/** The result of a write: the object and any warnings (unknown fields under `Warn`). */
export interface WriteResult {
  obj: KObj;
  warnings: string[];
  created?: boolean;
}

/** Parsed list/watch options. */
export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
  resourceVersion?: string | null;
  /** `Exact` lists the state at resourceVersion; `NotOlderThan` (or none) the latest. */
  resourceVersionMatch?: "" | "Exact" | "NotOlderThan";
}

/** Options of a DELETE. */
export interface DeleteOpts {
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  /** Unset: the object's orphan/foreground finalizer decides, else Background. */
  propagationPolicy?: Propagation;
  /** DeleteOptions.gracePeriodSeconds (Pods only). */
  gracePeriodSeconds?: number;
}

/** A page of a list. */
export type ListResult = Page;

/** What a watch delivers: events in order, or a terminal error Status. */
export interface WatchSink {
  event(type: "ADDED" | "MODIFIED" | "DELETED", s: Stored): void;
  /** Sent once after initial events when `sendInitialEvents=true`. */
  initialEventsEnd?(rv: number): void;
  error(e: ApiError): void;
}

/** Options for starting a watch. */
export interface WatchOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  resourceVersion?: string | null;
  sendInitialEvents?: boolean;
}

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];
const CRD_SK = "apiextensions.k8s.io/customresourcedefinitions";
const NS_SK = "/namespaces";

function isObj(v: unknown): v is KObj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function meta(o: KObj): KObj {
  return (isObj(o.metadata) ? o.metadata : {}) as KObj;
}

/** RFC 3339 seconds precision, as metav1.Time serialises. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A pod's deletion grace period (`CheckGracefulDeletion`, pkg/registry/core/pod/strategy.go):
 * the request's, else the pod's; 0 for an unscheduled or finished pod.
 */
function podGracePeriod(pod: KObj, requested: number | undefined): number {
  const spec = isObj(pod.spec) ? pod.spec : {};
  const phase = isObj(pod.status) ? pod.status.phase : undefined;
  let period = requested ?? Number(spec.terminationGracePeriodSeconds ?? 30);
  if (!spec.nodeName || phase === "Failed" || phase === "Succeeded") period = 0;
  return period < 0 ? 1 : period;
}

function target(def: ResourceDef, name?: string): ErrTarget {
  return {
    qualifiedResource: qualifiedResource(def),
    group: def.group,
    resource: def.resource,
    name,
  };
}

/** The canonical JSON of an object's parts: what bumps generation, and the rest. */
interface Canon {
  /** Everything but metadata (and status when it is a subresource). */
  spec: string;
  /** metadata without resourceVersion/managedFields, and status. */
  rest: string;
}

/** Canonical forms of stored objects (immutable once committed), computed once each. */
const canonCache = new WeakMap<KObj, Canon>();

function canon(def: ResourceDef, o: KObj, cache = false): Canon {
  const hit = canonCache.get(o);
  if (hit) return hit;
  const { metadata: _m, status, ...rest } = o;
  const statusIsSpec = !(def.statusSubresource || def.crd === undefined);
  const { resourceVersion: _r, managedFields: _f, generation: _g, ...m } = meta(o);
  const c = {
    spec: stableJson(statusIsSpec ? { ...rest, status } : rest),
    rest: stableJson({ m, status }),
  };
  if (cache) canonCache.set(o, c);
  return c;
}

/** The API's behaviour over an ObjectStore. */
export class ApiCore {
  readonly store: ObjectStore;
  #clock: Clock;
  #defs = new Map<string, ResourceDef>();
  #paging: Paging;
  #gc: GarbageCollector;
  #protection: ProtectionControllers;
  #settling = false;
  /** Called whenever the set of served resources changes (discovery/OpenAPI caches). */
  onResourcesChanged: () => void = () => {};

  constructor(opts: { clock: Clock; historyLimit?: number; onCommit?: (ev: StoreEvent) => void }) {
    this.#clock = opts.clock;
    this.#paging = new Paging(opts.clock);
    this.store = new ObjectStore({
      historyLimit: opts.historyLimit,
      onCommit: (ev) => {
        this.#gc.observe(ev, ev.key);
        this.#protection.observe(ev);
        opts.onCommit?.(ev);
      },
    });
    for (const d of builtinResources()) this.#defs.set(`${d.group}/${d.version}/${d.resource}`, d);
    this.#gc = new GarbageCollector(this.#gcHost());
    this.#protection = new ProtectionControllers({
      stored: (loc) => this.store.get(loc.sk, loc.key),
      pods: (ns) => this.store.list("/pods", `${ns}/`),
      updateMeta: (loc, uid, mutate) => this.#updateMeta(loc, uid, mutate),
    });
  }

  /** The collector's view of the API (owner lookup by kind, DELETE, metadata updates). */
  #gcHost(): GcHost {
    return {
      stored: (loc) => this.store.get(loc.sk, loc.key),
      owner: (ref, ns) => this.#owner(ref, ns),
      delete: (loc, uid, policy) => {
        const s = this.store.get(loc.sk, loc.key);
        const def = this.#storageDef(loc.sk);
        if (!s || !def || meta(s.obj).uid !== uid) return;
        const m = meta(s.obj);
        try {
          this.delete(def, m.namespace as string | undefined, String(m.name), {
            preconditions: { uid },
            propagationPolicy: policy,
          });
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
        }
      },
      updateMeta: (loc, uid, mutate) => this.#updateMeta(loc, uid, mutate),
    };
  }

  #owner(ref: OwnerRef, ns: string | undefined): Stored | "absent" | "unresolvable" {
    const [group, version] = ref.apiVersion.includes("/")
      ? ref.apiVersion.split("/")
      : ["", ref.apiVersion];
    const defs = this.definitions().filter((d) => d.group === group && d.kind === ref.kind);
    const def = defs.find((d) => d.version === version) ?? defs[0];
    if (!def || (def.namespaced && ns === undefined)) return "unresolvable";
    const s = this.store.get(
      def.storageKey,
      ApiCore.key(def.namespaced ? ns : undefined, ref.name),
    );
    return s && meta(s.obj).uid === ref.uid ? s : "absent";
  }

  /** The definition that serves a table in its stored shape. */
  #storageDef(sk: string): ResourceDef | undefined {
    for (const d of this.#defs.values()) {
      if (d.storageKey === sk && !d.convert && d.version === d.storageVersion) return d;
    }
    return undefined;
  }

  /** A metadata-only update by a controller (the object with this uid only). */
  #updateMeta(loc: Loc, uid: string, mutate: (md: KObj) => void): void {
    const s = this.store.get(loc.sk, loc.key);
    const def = this.#storageDef(loc.sk);
    if (!s || !def || meta(s.obj).uid !== uid) return;
    const obj = structuredClone(s.obj);
    mutate(meta(obj));
    try {
      this.#replace(def, s, obj, "", {});
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  }

  /** Runs the controllers (garbage collector, volume protection) until nothing is left to do. */
  #settle(): void {
    if (this.#settling) return;
    this.#settling = true;
    try {
      do {
        this.#gc.drain();
        this.#protection.drain();
      } while (this.#gc.pending || this.#protection.pending);
    } finally {
      this.#settling = false;
    }
  }

  /** Rebuilds the controllers' indexes and the CRD registrations after a restore. */
  afterRestore(): void {
    this.reloadCrds();
    this.#gc.reset();
    for (const sk of this.store.tables()) {
      for (const s of this.store.list(sk)) {
        const m = meta(s.obj);
        const key = ApiCore.key(m.namespace as string | undefined, String(m.name));
        const ev = { rv: s.rv, storageKey: sk, key, type: "MODIFIED" as const, cur: s };
        this.#gc.observe(ev, key);
        this.#protection.observe(ev);
      }
    }
    this.#settle();
  }

  /** Creates the system namespaces (skipped for names that exist, e.g. after a restore). */
  bootstrap(): void {
    for (const name of SYSTEM_NAMESPACES) {
      if (this.store.get(NS_SK, name)) continue;
      this.create(this.lookup("", "v1", "namespaces")!, undefined, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
      });
    }
  }

  /** Re-registers CRDs found in the store (after restoring a snapshot). */
  reloadCrds(): void {
    for (const s of this.store.list(CRD_SK)) this.#registerCrd(s.obj);
  }

  /** The definition serving `group/version/resource`. */
  lookup(group: string, version: string, resource: string): ResourceDef | undefined {
    return this.#defs.get(`${group}/${version}/${resource}`);
  }

  /** Every served definition. */
  definitions(): ResourceDef[] {
    return [...this.#defs.values()];
  }

  /** Storage key of an object (`ns/name` or `name`). */
  static key(ns: string | undefined, name: string): string {
    return ns ? `${ns}/${name}` : name;
  }

  #now(): string {
    return rfc3339(this.#clock.now());
  }

  /** The object as served at `def.version`. */
  view(def: ResourceDef, s: Stored): KObj {
    if (def.convert) return def.convert.fromStorage(s.obj);
    const av = apiVersionOf(def);
    return s.obj.apiVersion === av ? s.obj : { ...s.obj, apiVersion: av };
  }

  /** GET one object. */
  get(def: ResourceDef, ns: string | undefined, name: string): Stored {
    const s = this.store.get(def.storageKey, ApiCore.key(def.namespaced ? ns : undefined, name));
    if (!s) throw notFound(target(def, name));
    return s;
  }

  /** Parses selectors, mapping syntax errors to 400. */
  #selectors(
    def: ResourceDef,
    o: { labelSelector?: string | null; fieldSelector?: string | null },
  ) {
    try {
      const labels = parseLabelSelector(o.labelSelector);
      const fields = parseFieldSelector(o.fieldSelector).map((f) =>
        def.convert ? { ...f, path: def.convert.fieldPath(f.path) } : f
      );
      for (const f of fields) {
        if (
          !def.extraFieldSelectors && f.path !== "metadata.name" && f.path !== "metadata.namespace"
        ) {
          throw badRequest(`field label not supported: ${f.path}`);
        }
      }
      return { labels, fields };
    } catch (e) {
      if (e instanceof SelectorError) throw badRequest(e.message);
      throw e;
    }
  }

  #matches(
    ns: string | undefined,
    sel: { labels: LabelSelector; fields: FieldRequirement[] },
    o: KObj,
  ): boolean {
    const m = meta(o);
    if (ns && m.namespace !== ns) return false;
    if (!matchLabels(sel.labels, m.labels as Record<string, string> | undefined)) return false;
    return sel.fields.length === 0 || matchFields(sel.fields, o);
  }

  /** LIST with selectors and paging (`limit`/`continue` over a consistent snapshot). */
  list(def: ResourceDef, ns: string | undefined, o: ListOptions): ListResult {
    const limit = o.limit && o.limit > 0 ? o.limit : 0;
    if (o.continue) return this.#paging.resume(o.continue, limit);
    const sel = this.#selectors(def, o);
    const scoped = def.namespaced && ns;
    const at = this.#listVersion(o);
    const all = at === undefined
      ? this.store.list(def.storageKey, scoped ? `${ns}/` : undefined)
      : this.#listAt(def, at).filter((s) => !scoped || String(meta(s.obj).namespace) === ns);
    const items = sel.labels.length === 0 && sel.fields.length === 0
      ? all
      : all.filter((s) => this.#matches(scoped ? ns : undefined, sel, s.obj));
    return this.#paging.first(items, at ?? this.store.resourceVersion, limit);
  }

  /**
   * The resourceVersion a list is served at: `Exact` → that version (undefined = the latest);
   * a version newer than the store is 504 "Too large resource version", as the etcd3 store and
   * the watch cache answer (k8s.io/apiserver/pkg/storage/errors.go NewTooLargeResourceVersionError).
   */
  #listVersion(o: ListOptions): number | undefined {
    const text = o.resourceVersion ?? "";
    if (text === "" || (text === "0" && o.resourceVersionMatch !== "Exact")) return undefined;
    const rv = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(rv)) {
      throw badRequest(`invalid resource version: ${text}`);
    }
    if (rv > this.store.resourceVersion) {
      throw tooLargeResourceVersion(rv, this.store.resourceVersion);
    }
    return o.resourceVersionMatch === "Exact" ? rv : undefined;
  }

  /** A table as it was at `rv`, or 410 when that history is compacted. */
  #listAt(def: ResourceDef, rv: number): Stored[] {
    const items = this.store.listAt(def.storageKey, rv);
    if (!items) throw expired("The resourceVersion for the provided list is too old.");
    return items;
  }

  /** Checks namespace existence for a namespaced write. */
  #checkNamespace(def: ResourceDef, ns: string | undefined, name: string): void {
    if (!def.namespaced) return;
    if (!ns) {
      throw badRequest("the server could not find the requested resource: namespace is required");
    }
    const nsObj = this.store.get(NS_SK, ns);
    if (!nsObj) {
      throw notFound({
        qualifiedResource: "namespaces",
        group: "",
        resource: "namespaces",
        name: ns,
      });
    }
    if (meta(nsObj.obj).deletionTimestamp) {
      throw forbidden(
        target(def, name),
        `unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
  }

  /** Validation and admission of a write (admission.ts); answers its warnings. */
  #admit(def: ResourceDef, obj: KObj, old: KObj | undefined, opts: WriteOptions): string[] {
    return admit(def, obj, old, opts.fieldValidation, (ns) => {
      const s = this.store.get(NS_SK, ns);
      return s ? meta(s.obj).labels as Record<string, unknown> | undefined : undefined;
    });
  }

  #checkKind(def: ResourceDef, body: unknown): KObj {
    if (!isObj(body)) throw badRequest("the body of the request is not a JSON object");
    const av = apiVersionOf(def);
    if (body.kind !== undefined && body.kind !== def.kind) {
      throw badRequest(
        `the kind in the data (${
          String(body.kind)
        }) does not match the expected kind (${def.kind})`,
      );
    }
    if (body.apiVersion !== undefined && body.apiVersion !== av) {
      const [g] = String(body.apiVersion).includes("/") ? String(body.apiVersion).split("/") : [""];
      if (
        g !== def.group ||
        !this.lookup(def.group, String(body.apiVersion).split("/").pop()!, def.resource)
      ) {
        throw badRequest(
          `the API version in the data (${
            String(body.apiVersion)
          }) does not match the expected API version (${av})`,
        );
      }
    }
    return body;
  }

  /** POST: creates an object. */
  create(
    def: ResourceDef,
    ns: string | undefined,
    body: unknown,
    opts: WriteOptions = {},
    apply?: { manager: string },
  ): WriteResult {
    const src = this.#checkKind(def, body);
    const m = { ...meta(src) };
    if (def.namespaced) {
      if (
        m.namespace !== undefined && m.namespace !== "" && ns !== undefined && m.namespace !== ns
      ) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      ns = ns ?? (m.namespace as string | undefined);
      m.namespace = ns;
    } else delete m.namespace;
    if (!m.name && typeof m.generateName === "string" && m.generateName) {
      const chars = "bcdfghjklmnpqrstvwxz2456789";
      let suffix = "";
      for (let i = 0; i < 5; i++) suffix += chars[Math.floor(Math.random() * chars.length)];
      m.name = `${m.generateName}${suffix}`;
    }
    const name = typeof m.name === "string" ? m.name : "";
    if (!name) {
      throw invalid(def.kind, def.group, "", [
        {
          reason: "FieldValueRequired",
          message: "Required value: name or generateName is required",
          field: "metadata.name",
        },
      ]);
    }
    this.#checkNamespace(def, ns, name);
    const key = ApiCore.key(def.namespaced ? ns : undefined, name);
    if (this.store.get(def.storageKey, key)) throw alreadyExists(target(def, name));
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.managedFields;
    delete m.selfLink;
    m.uid = crypto.randomUUID();
    m.creationTimestamp = this.#now();
    m.generation = 1;
    const shaped: KObj = { ...src, apiVersion: apiVersionOf(def), kind: def.kind, metadata: m };
    const obj: KObj = structuredClone(def.convert ? def.convert.toStorage(shaped) : shaped);
    if (def.statusSubresource && def.crd) delete obj.status;
    if (!def.crd) builtinDefaults(def.storageKey, obj);
    if (!opts.dryRun) addProtectionFinalizer(def.storageKey, obj);
    this.#canonical(def, obj);
    const warnings = this.#admit(def, obj, undefined, opts);
    if (def.storageKey === CRD_SK) {
      obj.status = crdStatus(obj.spec as CrdSpec, this.#now());
    }
    const cx = this.#fieldContext(def, "");
    if (apply) {
      const owned = applyConfig(undefined, structuredClone(src), apply.manager, true, cx);
      if (meta(owned).managedFields) meta(obj).managedFields = meta(owned).managedFields;
    } else trackUpdate(undefined, obj, updateManager(opts.fieldManager, opts.userAgent), cx);
    if (opts.dryRun) return { obj: this.view(def, { obj, rv: 0 }), warnings, created: true };
    meta(obj).resourceVersion = String(this.store.nextVersion());
    const s = this.store.commit(def.storageKey, key, "ADDED", obj);
    if (def.storageKey === CRD_SK) this.#registerCrd(obj);
    this.#settle();
    return {
      obj: this.view(def, this.store.get(def.storageKey, key) ?? s),
      warnings,
      created: true,
    };
  }

  /** How a kind's lists and maps merge (CRD schema, or the built-in types' tags). */
  #shape(def: ResourceDef): Shape {
    return def.crd ? crdShape(def.crd.schema) : builtinShape(def.storageKey);
  }

  #fieldContext(def: ResourceDef, sub: "" | "status"): FieldContext {
    return {
      shape: this.#shape(def),
      subresource: sub,
      statusSubresource: def.statusSubresource,
      apiVersion: apiVersionOf(def),
      now: this.#now(),
    };
  }

  /**
   * managedFields of a non-apply write: the request's own list when it changed it (`[{}]`
   * clears it), else the old entries updated for what this write changed.
   */
  #trackFields(
    def: ResourceDef,
    old: Stored,
    obj: KObj,
    sub: "" | "status",
    opts: WriteOptions,
    given: unknown,
  ): void {
    const om = meta(old.obj);
    if (
      sub === "" && Array.isArray(given) &&
      JSON.stringify(given) !== JSON.stringify(om.managedFields ?? [])
    ) {
      if (given.length === 1 && isObj(given[0]) && Object.keys(given[0]).length === 0) {
        delete meta(obj).managedFields;
      } else meta(obj).managedFields = given;
      return;
    }
    if (om.managedFields) meta(obj).managedFields = om.managedFields;
    else delete meta(obj).managedFields;
    trackUpdate(
      old.obj,
      obj,
      updateManager(opts.fieldManager, opts.userAgent),
      this.#fieldContext(def, sub),
    );
  }

  /** The decoder's canonical form: empty metadata maps dropped, MicroTimes in UTC. */
  #canonical(def: ResourceDef, obj: KObj): void {
    dropEmptyMeta(meta(obj));
    normalizeMicroTimes(def.storageKey, def.kind, obj);
  }

  /** PUT (main resource or `status`): replaces an object, honouring resourceVersion preconditions. */
  update(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    body: unknown,
    sub: "" | "status",
    opts: WriteOptions = {},
  ): WriteResult {
    const src = this.#checkKind(def, body);
    const bm = meta(src);
    if (bm.name !== undefined && bm.name !== name) {
      throw badRequest(
        `the name of the object (${String(bm.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (
      def.namespaced && typeof bm.namespace === "string" && bm.namespace !== "" &&
      ns !== undefined && bm.namespace !== ns
    ) {
      // k8s.io/apiserver/pkg/endpoints/handlers/rest.go checkName
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    const old = this.store.get(def.storageKey, ApiCore.key(def.namespaced ? ns : undefined, name));
    if (!old) {
      // AllowCreateOnUpdate (Lease, Event strategies): a PUT of a missing object creates it.
      if (def.createOnUpdate && sub === "") return this.create(def, ns, src, opts);
      throw notFound(target(def, name));
    }
    const rvGiven = bm.resourceVersion !== undefined && bm.resourceVersion !== "";
    if (!rvGiven && !def.unconditionalUpdate) {
      // k8s.io/apiserver/pkg/registry/generic/registry/store.go Update: strategies whose
      // AllowUnconditionalUpdate() is false (Lease, CRDs, custom resources) need the version.
      throw invalid(def.resource, def.group, name, [{
        reason: "FieldValueInvalid",
        field: "metadata.resourceVersion",
        message: "Invalid value: 0: must be specified for an update",
      }]);
    }
    if (rvGiven && String(bm.resourceVersion) !== String(old.rv)) {
      throw conflict(target(def, name));
    }
    if (bm.uid !== undefined && bm.uid !== "" && bm.uid !== meta(old.obj).uid) {
      throw conflict(
        target(def, name),
        `Precondition failed: UID in precondition: ${String(bm.uid)}, UID in object meta: ${
          String(meta(old.obj).uid)
        }`,
      );
    }
    return this.#replace(def, old, src, sub, opts);
  }

  #replace(
    def: ResourceDef,
    old: Stored,
    src: KObj,
    sub: "" | "status",
    opts: WriteOptions,
    applied = false,
  ): WriteResult {
    if (def.convert) src = def.convert.toStorage(src);
    const givenFields = meta(src).managedFields;
    const om = meta(old.obj);
    const name = String(om.name);
    let obj: KObj;
    if (sub === "status") {
      obj = structuredClone({ ...old.obj, status: src.status });
      if (src.status === undefined) delete obj.status;
    } else {
      const m: KObj = { ...meta(src) };
      for (
        const k of [
          "uid",
          "creationTimestamp",
          "generation",
          "deletionTimestamp",
          "deletionGracePeriodSeconds",
          "name",
          "namespace",
        ]
      ) {
        if (om[k] === undefined) delete m[k];
        else m[k] = om[k];
      }
      delete m.selfLink;
      obj = structuredClone({ ...src, metadata: m });
      if (def.statusSubresource) {
        if (old.obj.status === undefined) delete obj.status;
        else obj.status = structuredClone(old.obj.status);
      }
      if (om.deletionTimestamp) {
        const before = new Set((om.finalizers as string[] | undefined) ?? []);
        const added = ((m.finalizers as string[] | undefined) ?? []).filter((f) => !before.has(f));
        if (added.length > 0) {
          throw invalid(def.kind, def.group, name, [{
            reason: "FieldValueForbidden",
            message:
              `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${
                JSON.stringify(added)
              }`,
            field: "metadata.finalizers",
          }]);
        }
      }
    }
    obj.apiVersion = def.storageApiVersion;
    obj.kind = def.kind;
    if (def.storageKey === NS_SK && sub === "") obj.spec = old.obj.spec; // namespace spec is finalize-only
    if (applied) meta(obj).managedFields = givenFields;
    else this.#trackFields(def, old, obj, sub, opts, givenFields);
    this.#canonical(def, obj);
    const warnings = this.#admit(def, obj, old.obj, opts);
    if (def.storageKey === CRD_SK) {
      obj.status = old.obj.status ?? crdStatus(obj.spec as CrdSpec, this.#now());
    }
    const was = canon(def, old.obj, true), now = canon(def, obj);
    if (now.spec !== was.spec) {
      meta(obj).generation = Number(om.generation ?? 1) + 1;
    }
    meta(obj).resourceVersion = String(old.rv);
    // A no-op write (apart from resourceVersion/managedFields) keeps the version.
    if (now.spec === was.spec && now.rest === was.rest) {
      return { obj: this.view(def, old), warnings };
    }
    if (opts.dryRun) return { obj: this.view(def, { obj, rv: old.rv }), warnings };
    const fin = meta(obj).finalizers as string[] | undefined;
    const key = ApiCore.key(def.namespaced ? String(om.namespace) : undefined, name);
    meta(obj).resourceVersion = String(this.store.nextVersion());
    if (om.deletionTimestamp && (!fin || fin.length === 0)) {
      const s = this.store.commit(def.storageKey, key, "DELETED", obj);
      this.#afterDelete(def, obj);
      this.#settle();
      return { obj: this.view(def, s), warnings };
    }
    const s = this.store.commit(def.storageKey, key, "MODIFIED", obj);
    if (def.storageKey === CRD_SK) this.#registerCrd(obj);
    this.#settle();
    return { obj: this.view(def, this.store.get(def.storageKey, key) ?? s), warnings };
  }

  /** PATCH with merge, JSON, strategic (as merge, built-ins only) or apply semantics. */
  patch(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    contentType: string,
    rawBody: unknown,
    sub: "" | "status",
    opts: WriteOptions = {},
  ): WriteResult {
    const type = contentType.split(";")[0].trim().toLowerCase();
    const key = ApiCore.key(def.namespaced ? ns : undefined, name);
    const old = this.store.get(def.storageKey, key);
    if (type === "application/apply-patch+yaml") {
      if (!opts.fieldManager) {
        throw invalid("PatchOptions", "meta.k8s.io", "", [
          {
            reason: "FieldValueRequired",
            message: "Required value: is required for apply patch",
            field: "fieldManager",
          },
        ]);
      }
      const applied = this.#checkKind(def, rawBody);
      const am = meta(applied);
      if (am.name !== undefined && am.name !== name) {
        throw badRequest(
          `the name of the object (${
            String(am.name)
          }) does not match the name on the URL (${name})`,
        );
      }
      const manager = opts.fieldManager;
      if (!old) {
        if (sub === "status") throw notFound(target(def, name));
        return this.create(def, ns, { ...applied, metadata: { ...am, name } }, opts, { manager });
      }
      if (am.resourceVersion !== undefined && String(am.resourceVersion) !== String(old.rv)) {
        throw conflict(target(def, name));
      }
      const config = sub === "status"
        ? { apiVersion: applied.apiVersion, kind: applied.kind, status: applied.status ?? {} }
        : applied;
      const merged = applyConfig(
        this.view(def, old),
        config,
        manager,
        opts.force === true,
        this.#fieldContext(def, sub),
      );
      meta(merged).resourceVersion = String(old.rv);
      return this.#replace(def, old, merged, sub, opts, true);
    }
    if (!old) throw notFound(target(def, name));
    const base = this.view(def, old);
    let next: unknown;
    try {
      if (type === "application/merge-patch+json") next = mergePatch(base, rawBody);
      else if (type === "application/json-patch+json") next = jsonPatch(base, rawBody);
      else if (type === "application/strategic-merge-patch+json") {
        if (def.crd) {
          throw unsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
          );
        }
        next = strategicMerge(base, rawBody, this.#shape(def));
      } else {
        throw unsupportedMediaType(
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${
            def.crd ? "" : ", application/strategic-merge-patch+json"
          }`,
        );
      }
    } catch (e) {
      if (e instanceof PatchError) {
        throw invalid(def.kind, def.group, name, [{
          reason: "FieldValueInvalid",
          message: e.message,
        }]);
      }
      throw e;
    }
    if (!isObj(next)) throw badRequest("patch did not produce an object");
    const nm = meta(next);
    if (nm.name !== name) {
      throw badRequest(
        `the name of the object (${String(nm.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (nm.resourceVersion !== undefined && String(nm.resourceVersion) !== String(old.rv)) {
      throw conflict(target(def, name));
    }
    return this.#replace(def, old, next, sub, opts);
  }

  /**
   * DELETE: removes the object, or marks it deleting while finalizers remain; the propagation
   * policy sets the garbage collector's orphan/foreground finalizers first (gc.ts).
   */
  delete(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    o: DeleteOpts = {},
  ): { obj: KObj; finalized: boolean } {
    const old = this.get(def, ns, name);
    const om = meta(old.obj);
    const pre = o.preconditions;
    if (pre?.uid && pre.uid !== om.uid) {
      throw conflict(
        target(def, name),
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${
          String(om.uid)
        }`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== String(old.rv)) {
      throw conflict(
        target(def, name),
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${old.rv}`,
      );
    }
    const key = ApiCore.key(def.namespaced ? String(om.namespace) : undefined, name);
    const grace = def.storageKey === "/pods" ? podGracePeriod(old.obj, o.gracePeriodSeconds) : 0;
    if (grace > 0 && !o.dryRun) {
      // Graceful deletion: the kubelet would finish it; the sandbox runs none (a runner or a
      // DELETE with gracePeriodSeconds=0 does). pkg/registry/core/pod/strategy.go, and
      // BeforeDelete in k8s.io/apiserver/pkg/registry/rest/delete.go.
      if (om.deletionTimestamp) return { obj: this.view(def, old), finalized: false };
      const obj = structuredClone(old.obj);
      meta(obj).deletionTimestamp = rfc3339(this.#clock.now() + grace * 1000);
      meta(obj).deletionGracePeriodSeconds = grace;
      meta(obj).resourceVersion = String(this.store.nextVersion());
      const s = this.store.commit(def.storageKey, key, "MODIFIED", obj);
      return { obj: this.view(def, s), finalized: false };
    }
    const before = (om.finalizers as string[] | undefined) ?? [];
    const fin = deletionFinalizers(before, o.propagationPolicy);
    const finChanged = fin.length !== before.length || fin.some((f) => !before.includes(f));
    const nsFinalizing = def.storageKey === NS_SK && this.#namespaceHasContent(name);
    if (fin.length > 0 || nsFinalizing) {
      if (o.dryRun) return { obj: this.view(def, old), finalized: false };
      if (!om.deletionTimestamp || finChanged) {
        const obj = structuredClone(old.obj);
        const m = meta(obj);
        m.deletionTimestamp ??= this.#now();
        m.deletionGracePeriodSeconds ??= 0;
        m.finalizers = fin;
        dropEmptyMeta(m);
        if (def.storageKey === NS_SK) {
          obj.status = { ...(obj.status as KObj ?? {}), phase: "Terminating" };
        }
        m.resourceVersion = String(this.store.nextVersion());
        const s = this.store.commit(def.storageKey, key, "MODIFIED", obj);
        if (def.storageKey === NS_SK) this.#emptyNamespace(name);
        this.#settle();
        const now = this.store.get(def.storageKey, key);
        return { obj: this.view(def, now ?? s), finalized: !now };
      }
      if (!nsFinalizing) return { obj: this.view(def, old), finalized: false };
      this.#emptyNamespace(name);
      this.#settle();
      const now = this.store.get(def.storageKey, key);
      return { obj: this.view(def, now ?? old), finalized: !now };
    }
    if (o.dryRun) return { obj: this.view(def, old), finalized: true };
    const obj = structuredClone(old.obj);
    if (finChanged) meta(obj).finalizers = fin;
    dropEmptyMeta(meta(obj));
    meta(obj).resourceVersion = String(this.store.nextVersion());
    if (def.storageKey === CRD_SK) this.#dropCrdObjects(obj);
    const s = this.store.commit(def.storageKey, key, "DELETED", obj);
    this.#afterDelete(def, obj);
    this.#settle();
    return { obj: this.view(def, s), finalized: true };
  }

  /** DELETE on a collection: deletes every matching object. */
  deleteCollection(
    def: ResourceDef,
    ns: string | undefined,
    o: ListOptions,
    del: DeleteOpts = {},
  ): KObj[] {
    const r = this.list(def, ns, {
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
    });
    const out: KObj[] = [];
    for (const s of r.items) {
      const m = meta(s.obj);
      if (
        !this.store.get(
          def.storageKey,
          ApiCore.key(m.namespace as string | undefined, String(m.name)),
        )
      ) {
        continue; // collected meanwhile as a dependent of an earlier item
      }
      out.push(
        this.delete(def, m.namespace as string | undefined ?? ns, String(m.name), {
          dryRun: del.dryRun,
          propagationPolicy: del.propagationPolicy,
        }).obj,
      );
    }
    return out;
  }

  #namespaceHasContent(ns: string): boolean {
    for (const d of this.#defs.values()) {
      if (d.namespaced && this.store.list(d.storageKey, `${ns}/`).length > 0) return true;
    }
    return false;
  }

  /** Deletes every object in a terminating namespace, then the namespace once it is empty. */
  #emptyNamespace(ns: string): void {
    const seen = new Set<string>();
    for (const d of this.#defs.values()) {
      if (!d.namespaced || seen.has(d.storageKey)) continue;
      seen.add(d.storageKey);
      for (const s of this.store.list(d.storageKey, `${ns}/`)) {
        if (!meta(s.obj).deletionTimestamp) this.delete(d, ns, String(meta(s.obj).name));
      }
    }
    this.#finalizeNamespace(ns);
  }

  #finalizeNamespace(ns: string): void {
    const s = this.store.get(NS_SK, ns);
    if (!s || !meta(s.obj).deletionTimestamp || this.#namespaceHasContent(ns)) return;
    const obj = structuredClone(s.obj);
    meta(obj).resourceVersion = String(this.store.nextVersion());
    this.store.commit(NS_SK, ns, "DELETED", obj);
  }

  #afterDelete(def: ResourceDef, obj: KObj): void {
    const m = meta(obj);
    if (def.namespaced && typeof m.namespace === "string") this.#finalizeNamespace(m.namespace);
    if (def.storageKey === CRD_SK) this.#unregisterCrd(obj);
  }

  #dropCrdObjects(crd: KObj): void {
    const spec = crd.spec as CrdSpec;
    const sk = `${spec.group}/${spec.names.plural}`;
    for (const s of this.store.list(sk)) {
      const obj = structuredClone(s.obj);
      const m = meta(obj);
      m.resourceVersion = String(this.store.nextVersion());
      this.store.commit(
        sk,
        ApiCore.key(m.namespace as string | undefined, String(m.name)),
        "DELETED",
        obj,
      );
    }
    this.store.dropTable(sk);
  }

  #registerCrd(obj: KObj): void {
    this.#unregisterCrd(obj, false);
    const name = String(meta(obj).name);
    for (const d of crdResources(name, obj.spec as CrdSpec)) {
      this.#defs.set(`${d.group}/${d.version}/${d.resource}`, d);
    }
    this.onResourcesChanged();
  }

  #unregisterCrd(obj: KObj, notify = true): void {
    const name = String(meta(obj).name);
    for (const [k, d] of this.#defs) if (d.crd?.name === name) this.#defs.delete(k);
    if (notify) this.onResourcesChanged();
  }

  /**
   * WATCH: replays history after `resourceVersion` (or the current state as ADDED when
   * it is unset/"0"), then streams live events. Returns the stop function.
   */
  watch(def: ResourceDef, ns: string | undefined, o: WatchOptions, sink: WatchSink): () => void {
    const sel = this.#selectors(def, o);
    const scoped = def.namespaced ? ns : undefined;
    const match = (x: Stored | undefined) => x !== undefined && this.#matches(scoped, sel, x.obj);
    const deliver = (ev: StoreEvent) => {
      if (ev.type === "ADDED") {
        if (match(ev.cur)) sink.event("ADDED", ev.cur);
      } else if (ev.type === "DELETED") {
        if (match(ev.cur) || match(ev.prev)) sink.event("DELETED", ev.cur);
      } else {
        const was = match(ev.prev), is = match(ev.cur);
        if (was && is) sink.event("MODIFIED", ev.cur);
        else if (is) sink.event("ADDED", ev.cur);
        else if (was) sink.event("DELETED", ev.cur);
      }
    };
    const rvText = o.resourceVersion ?? "";
    if (rvText === "" || rvText === "0" || o.sendInitialEvents) {
      for (const s of this.store.list(def.storageKey, scoped ? `${scoped}/` : undefined)) {
        if (match(s)) sink.event("ADDED", s);
      }
      if (o.sendInitialEvents) sink.initialEventsEnd?.(this.store.resourceVersion);
    } else {
      const rv = Number(rvText);
      if (!Number.isInteger(rv) || rv < 0) {
        sink.error(badRequest(`invalid resource version: ${rvText}`));
        return () => {};
      }
      const evs = this.store.eventsSince(def.storageKey, rv);
      if (!evs) {
        sink.error(expired(`too old resource version: ${rv} (${this.store.compactedVersion})`));
        return () => {};
      }
      for (const ev of evs) deliver(ev);
    }
    return this.store.subscribe(def.storageKey, deliver);
  }
}

export { ApiError };
