/** Request bodies: JSON, YAML (for apply and create), and the protobuf kinds kubectl posts. */
import { parse as parseYaml } from "yaml";
import { badRequest, unsupportedMediaType } from "./errors.ts";
import { decodeK8sProtobuf } from "./protobuf_bodies.ts";

/** Reads and decodes a request body; undefined when it is empty. */
export async function readBody(req: Request, yamlOk: boolean): Promise<unknown> {
  const ct = (req.headers.get("content-type") ?? "").toLowerCase();
  if (ct.includes("protobuf")) {
    // We speak JSON; the protobuf bodies kubectl sends in practice are typed `create` commands.
    const obj = decodeK8sProtobuf(new Uint8Array(await req.arrayBuffer()));
    if (obj) return obj;
    throw unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    );
  }
  const text = await req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    if (yamlOk) {
      try {
        return parseYaml(text);
      } catch (e) {
        throw badRequest(`error decoding YAML: ${(e as Error).message}`);
      }
    }
    throw badRequest("the body of the request could not be decoded as JSON");
  }
}
