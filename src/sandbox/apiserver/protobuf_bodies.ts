/**
 * Just enough of Kubernetes' protobuf encoding to read what typed kubectl commands
 * post (`create namespace|configmap|secret generic|deployment|job|clusterrole|role`, `run`,
 * `auth can-i`): Namespace, ConfigMap, Secret, Pod, Deployment, Job, ClusterRole, Role,
 * SelfSubjectAccessReview and SelfSubjectRulesReview (field numbers from kubernetes/api
 * generated.proto files). Other kinds are refused with 415.
 */

/** One decoded field: number, wire type and raw value. */
interface Field {
  no: number;
  wire: number;
  varint?: bigint;
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: { i: number }): bigint {
  let shift = 0n;
  let v = 0n;
  for (;;) {
    if (pos.i >= buf.length) throw new Error("truncated varint");
    const b = buf[pos.i++];
    v |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return v;
    shift += 7n;
  }
}

/** Splits a protobuf message into its fields. */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const tag = Number(readVarint(buf, pos));
    const no = tag >> 3, wire = tag & 7;
    if (wire === 0) out.push({ no, wire, varint: readVarint(buf, pos) });
    else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      out.push({ no, wire, bytes: buf.subarray(pos.i, pos.i + len) });
      pos.i += len;
    } else if (wire === 1) pos.i += 8;
    else if (wire === 5) pos.i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const dec = new TextDecoder();
const str = (f: Field) => dec.decode(f.bytes);

/** A protobuf map<string, …> field (entries: key = 1, value = 2), values decoded by `value`. */
function entryMap(
  fs: Field[],
  no: number,
  value: (v: Field | undefined) => string,
): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.no === no);
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e.bytes!);
    const k = kv.find((f) => f.no === 1);
    out[k ? str(k) : ""] = value(kv.find((f) => f.no === 2));
  }
  return out;
}

/** map<string, bytes> as the JSON form has it (base64 values). */
const bytesMap = (fs: Field[], no: number) =>
  entryMap(fs, no, (v) => btoa(String.fromCharCode(...(v?.bytes ?? new Uint8Array()))));
/** map<string, string>. */
const stringMap = (fs: Field[], no: number) => entryMap(fs, no, (v) => (v ? str(v) : ""));

function objectMeta(buf: Uint8Array): Record<string, unknown> {
  const fs = fields(buf);
  const one = (no: number) => {
    const f = fs.find((x) => x.no === no);
    return f ? str(f) : undefined;
  };
  const m: Record<string, unknown> = {};
  if (one(1)) m.name = one(1);
  if (one(2)) m.generateName = one(2);
  if (one(3)) m.namespace = one(3);
  const labels = stringMap(fs, 11), annotations = stringMap(fs, 12);
  if (labels) m.labels = labels;
  if (annotations) m.annotations = annotations;
  const fin = fs.filter((f) => f.no === 14).map(str);
  if (fin.length) m.finalizers = fin;
  return m;
}

/** The string fields of a message, by name and field number. */
function strings(buf: Uint8Array, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const fs = fields(buf);
  names.forEach((n, i) => {
    const f = fs.find((x) => x.no === i + 1 && x.wire === 2);
    if (f) out[n] = str(f);
  });
  return out;
}

const RESOURCE_ATTRIBUTES = [
  "namespace",
  "verb",
  "group",
  "version",
  "resource",
  "subresource",
  "name",
];

/** SelfSubjectAccessReview / SelfSubjectRulesReview (spec = field 2). */
function decodeReview(
  out: Record<string, unknown>,
  fs: Field[],
): Record<string, unknown> | undefined {
  const spec = fs.find((f) => f.no === 2)?.bytes ?? new Uint8Array();
  if (out.kind === "SelfSubjectRulesReview") {
    out.spec = strings(spec, ["namespace"]);
    return out;
  }
  if (out.kind !== "SelfSubjectAccessReview") return undefined;
  const sf = fields(spec);
  const ra = sf.find((f) => f.no === 1), nra = sf.find((f) => f.no === 2);
  out.spec = {
    ...(ra ? { resourceAttributes: strings(ra.bytes!, RESOURCE_ATTRIBUTES) } : {}),
    ...(nra ? { nonResourceAttributes: strings(nra.bytes!, ["path", "verb"]) } : {}),
  };
  return out;
}

/**
 * How a message field decodes: `s` string, `i` integer (`pi`: a pointer, kept when 0), `b` bool
 * (`pb` pointer), `ss` repeated string, `map` map<string, string>, `qmap` map<string, Quantity>,
 * `meta` ObjectMeta, or a message type name (`[]` prefix: repeated). Go's generated marshallers
 * write non-pointer scalars even when zero, and JSON omits those: they are dropped here.
 */
type FieldKind = "s" | "i" | "pi" | "b" | "pb" | "ss" | "map" | "qmap" | "meta" | string;

/** Message layouts (field numbers from kubernetes/api core/v1, apps/v1, batch/v1, rbac/v1 generated.proto and apimachinery meta/v1). */
const MESSAGES: Record<string, Record<number, [string, FieldKind]>> = {
  PodSpec: {
    1: ["volumes", "[]Volume"],
    2: ["containers", "[]Container"],
    20: ["initContainers", "[]Container"],
    3: ["restartPolicy", "s"],
    4: ["terminationGracePeriodSeconds", "pi"],
    5: ["activeDeadlineSeconds", "pi"],
    6: ["dnsPolicy", "s"],
    7: ["nodeSelector", "map"],
    8: ["serviceAccountName", "s"],
    10: ["nodeName", "s"],
    11: ["hostNetwork", "b"],
    12: ["hostPID", "b"],
    13: ["hostIPC", "b"],
  },
  Volume: { 1: ["name", "s"] },
  Container: {
    1: ["name", "s"],
    2: ["image", "s"],
    3: ["command", "ss"],
    4: ["args", "ss"],
    5: ["workingDir", "s"],
    6: ["ports", "[]ContainerPort"],
    7: ["env", "[]EnvVar"],
    8: ["resources", "ResourceRequirements"],
    14: ["imagePullPolicy", "s"],
    16: ["stdin", "b"],
    17: ["stdinOnce", "b"],
    18: ["tty", "b"],
  },
  ContainerPort: {
    1: ["name", "s"],
    2: ["hostPort", "i"],
    3: ["containerPort", "i"],
    4: ["protocol", "s"],
  },
  EnvVar: { 1: ["name", "s"], 2: ["value", "s"] },
  ResourceRequirements: { 1: ["limits", "qmap"], 2: ["requests", "qmap"] },
  PodTemplateSpec: { 1: ["metadata", "meta"], 2: ["spec", "PodSpec"] },
  LabelSelector: { 1: ["matchLabels", "map"] },
  DeploymentSpec: {
    1: ["replicas", "pi"],
    2: ["selector", "LabelSelector"],
    3: ["template", "PodTemplateSpec"],
    4: ["strategy", "DeploymentStrategy"],
  },
  DeploymentStrategy: { 1: ["type", "s"] },
  JobSpec: {
    1: ["parallelism", "pi"],
    2: ["completions", "pi"],
    3: ["activeDeadlineSeconds", "pi"],
    4: ["selector", "LabelSelector"],
    5: ["manualSelector", "pb"],
    6: ["template", "PodTemplateSpec"],
    7: ["backoffLimit", "pi"],
    8: ["ttlSecondsAfterFinished", "pi"],
    9: ["completionMode", "s"],
    10: ["suspend", "pb"],
  },
  PolicyRule: {
    1: ["verbs", "ss"],
    2: ["apiGroups", "ss"],
    3: ["resources", "ss"],
    4: ["resourceNames", "ss"],
    5: ["nonResourceURLs", "ss"],
  },
  Pod: { 1: ["metadata", "meta"], 2: ["spec", "PodSpec"] },
  Deployment: { 1: ["metadata", "meta"], 2: ["spec", "DeploymentSpec"] },
  Job: { 1: ["metadata", "meta"], 2: ["spec", "JobSpec"] },
  RbacRole: { 1: ["metadata", "meta"], 2: ["rules", "[]PolicyRule"] },
};

/** The kinds typed kubectl commands post (`run`, `create deployment|job|clusterrole|role`). */
const TOP_LEVEL: Record<string, string> = {
  "v1/Pod": "Pod",
  "apps/v1/Deployment": "Deployment",
  "batch/v1/Job": "Job",
  "rbac.authorization.k8s.io/v1/ClusterRole": "RbacRole",
  "rbac.authorization.k8s.io/v1/Role": "RbacRole",
};

/** A signed integer from a varint (int32/int64 two's complement). */
function signed(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

/** Decodes a message by its layout; unknown fields are skipped. */
function decodeMessage(buf: Uint8Array, type: string): Record<string, unknown> {
  const layout = MESSAGES[type] ?? {};
  const out: Record<string, unknown> = {};
  for (const f of fields(buf)) {
    const spec = layout[f.no];
    if (!spec) continue;
    const [name, kind] = spec;
    const repeated = kind.startsWith("[]");
    let v: unknown;
    if (kind === "s") v = str(f) || undefined;
    else if (kind === "i") v = signed(f.varint ?? 0n) || undefined;
    else if (kind === "pi") v = signed(f.varint ?? 0n);
    else if (kind === "b") v = f.varint === 1n ? true : undefined;
    else if (kind === "pb") v = f.varint === 1n;
    else if (kind === "ss") v = str(f);
    else if (kind === "map" || kind === "qmap") {
      const kv = fields(f.bytes!);
      const k = kv.find((x) => x.no === 1), val = kv.find((x) => x.no === 2);
      // A Quantity is a message whose field 1 is its string form.
      const text = !val
        ? ""
        : kind === "qmap"
        ? str(fields(val.bytes!).find((x) => x.no === 1)!)
        : str(val);
      out[name] = { ...(out[name] as Record<string, string> ?? {}), [k ? str(k) : ""]: text };
      continue;
    } else if (kind === "meta") v = objectMeta(f.bytes!);
    else v = decodeMessage(f.bytes!, repeated ? kind.slice(2) : kind);
    if (v === undefined) continue;
    if (kind === "ss" || repeated) out[name] = [...(out[name] as unknown[] ?? []), v];
    else out[name] = v;
  }
  return out;
}

/** Decodes a `k8s\0`-prefixed protobuf body; returns undefined for kinds it can't read. */
export function decodeK8sProtobuf(body: Uint8Array): Record<string, unknown> | undefined {
  if (body.length < 4 || dec.decode(body.subarray(0, 4)) !== "k8s\0") return undefined;
  const unknown = fields(body.subarray(4));
  const typeMeta = unknown.find((f) => f.no === 1);
  const raw = unknown.find((f) => f.no === 2);
  if (!typeMeta || !raw) return undefined;
  const tm = fields(typeMeta.bytes!);
  const apiVersion = tm.find((f) => f.no === 1), kind = tm.find((f) => f.no === 2);
  const av = apiVersion ? str(apiVersion) : "v1";
  if (!kind) return undefined;
  const typed = TOP_LEVEL[`${av}/${str(kind)}`];
  if (typed) {
    return { apiVersion: av, kind: str(kind), ...decodeMessage(raw.bytes!, typed) };
  }
  if (av !== "v1" && av !== "authorization.k8s.io/v1") return undefined;
  const fs = fields(raw.bytes!);
  const md = fs.find((f) => f.no === 1);
  const out: Record<string, unknown> = {
    apiVersion: av,
    kind: str(kind),
    metadata: md ? objectMeta(md.bytes!) : {},
  };
  if (av === "authorization.k8s.io/v1") return decodeReview(out, fs);
  const flag = (no: number) => fs.find((f) => f.no === no)?.varint;
  switch (str(kind)) {
    case "Namespace": {
      const spec = fs.find((f) => f.no === 2);
      const fin = spec ? fields(spec.bytes!).filter((f) => f.no === 1).map(str) : [];
      if (fin.length) out.spec = { finalizers: fin };
      return out;
    }
    case "ConfigMap": {
      const data = stringMap(fs, 2), bin = bytesMap(fs, 3);
      if (data) out.data = data;
      if (bin) out.binaryData = bin;
      if (flag(4) !== undefined) out.immutable = flag(4) === 1n;
      return out;
    }
    case "Secret": {
      const data = bytesMap(fs, 2), type = fs.find((f) => f.no === 3);
      if (data) out.data = data;
      if (type) out.type = str(type);
      if (flag(5) !== undefined) out.immutable = flag(5) === 1n;
      return out;
    }
    default:
      return undefined;
  }
}
