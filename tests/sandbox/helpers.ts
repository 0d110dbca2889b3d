/** Shared helpers for sandbox API server tests: a client over plain HTTP and fixture loading. */
import { parseManifests, type Sandbox, startSandbox } from "../../src/sandbox/apiserver/mod.ts";

/** Directory of the YAML fixtures. */
export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** The test CRD (Widget, test.couchestor.io/v1) as an object. */
export function widgetCrd(): Record<string, unknown> {
  return parseManifests(Deno.readTextFileSync(`${FIXTURES}widget-crd.yaml`))[0];
}

/** A response with its parsed JSON body. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { items?: Record<string, unknown>[] };
}

/** Calls the sandbox over plain HTTP with its bearer token. */
export async function api(
  sb: Sandbox,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const res = await fetch(`${sb.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${sb.token}`,
      "content-type": "application/json",
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

/** A Widget object. */
export function widget(
  name: string,
  spec: Record<string, unknown>,
  labels?: Record<string, string>,
) {
  return {
    apiVersion: "test.couchestor.io/v1",
    kind: "Widget",
    metadata: { name, ...(labels ? { labels } : {}) },
    spec,
  };
}

/** Path of the widgets collection in a namespace. */
export const WIDGETS = "/apis/test.couchestor.io/v1/namespaces/default/widgets";

/** Reads newline-delimited watch events until `pred` returns true or the stream ends. */
export async function readWatch(
  body: ReadableStream<Uint8Array>,
  pred: (events: Record<string, unknown>[]) => boolean,
): Promise<Record<string, unknown>[]> {
  const events: Record<string, unknown>[] = [];
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    while (!pred(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) events.push(JSON.parse(line));
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

/** Runs `fn` against a fresh plain-HTTP sandbox and closes it. */
export async function withSandbox(fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await startSandbox({ tls: false });
  try {
    await fn(sb);
  } finally {
    await sb.close();
  }
}
