/**
 * The conformance suite's shape: each case states the kube-apiserver behaviour it expects and
 * the upstream file that defines it, and drives it once with kubectl and once with the official
 * Python client, each in its own namespace.
 */
import assert from "node:assert/strict";
import type { Sandbox } from "../../../src/sandbox/apiserver/mod.ts";
import { kubectl, type KubectlRun } from "../kubectl.ts";
import { python } from "../python.ts";

/** What a driver gets: the sandbox, its own namespace and scratch space. */
export interface Ctx {
  sb: Sandbox;
  /** A fresh namespace for this case and driver (also a prefix for cluster-scoped names). */
  ns: string;
  /** kubectl's HOME. */
  home: string;
  /** Where manifests are written. */
  dir: string;
}

/** One behaviour, driven by two real clients. */
export interface Case {
  name: string;
  /** The kube-apiserver behaviour the case expects. */
  expects: string;
  /** Where upstream defines it (kubernetes/kubernetes unless another repository is named). */
  upstream: string;
  kubectl(c: Ctx): Promise<void>;
  python(c: Ctx): Promise<void>;
}

/** kubectl in the case's namespace; the exit code is checked by the caller. */
export function kc(c: Ctx, ...args: string[]): Promise<KubectlRun> {
  return kubectl(c.sb, c.home, "-n", c.ns, ...args);
}

/** kubectl that must succeed; answers stdout. */
export async function kok(c: Ctx, ...args: string[]): Promise<string> {
  const r = await kc(c, ...args);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** kubectl `-o json` of one object. */
export async function kjson(c: Ctx, ...args: string[]): Promise<Record<string, unknown>> {
  return JSON.parse(await kok(c, ...args, "-o", "json"));
}

/** Writes a manifest into the case's directory; answers its path. */
export async function manifest(c: Ctx, name: string, obj: unknown): Promise<string> {
  const path = `${c.dir}/${c.ns}-${name}.json`;
  await Deno.writeTextFile(path, JSON.stringify(obj));
  return path;
}

/** The Python client, the case's namespace passed as NS. */
export function py<T = Record<string, unknown>>(c: Ctx, script: string): Promise<T> {
  return python<T>(c.sb, c.ns, script);
}

/** A ConfigMap manifest. */
export function configMap(name: string, ns: string, data: Record<string, string> = {}, meta = {}) {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, ...meta }, data };
}

/** A 1Gi hostPath PersistentVolume manifest. */
export function persistentVolume(name: string) {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      hostPath: { path: "/tmp" },
    },
  };
}
