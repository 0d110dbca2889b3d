/** ObjectMeta checks every kind gets: name, labels and annotations (pure). */
import type { FieldError } from "./validation.ts";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Errors for a qualified key such as `example.com/name` (labels and annotations). */
function keyErrors(field: string, key: string): FieldError[] {
  const parts = key.split("/");
  const name = parts.length === 2 ? parts[1] : parts[0];
  const prefix = parts.length === 2 ? parts[0] : undefined;
  const bad = parts.length > 2 || !QUALIFIED_NAME.test(name) || name.length > 63 ||
    (prefix !== undefined && (!DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253));
  if (!bad) return [];
  return [{
    type: "Invalid",
    field,
    value: key,
    detail:
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  }];
}

/** Validates metadata.name (as a DNS subdomain, or a DNS label for namespaces), labels and annotations. */
export function validateObjectMeta(
  md: Record<string, unknown>,
  opts: { nameIsLabel?: boolean } = {},
): FieldError[] {
  const errs: FieldError[] = [];
  const name = String(md.name ?? "");
  if (opts.nameIsLabel) {
    if (!DNS1123_LABEL.test(name) || name.length > 63) {
      errs.push({
        type: "Invalid",
        field: "metadata.name",
        value: name,
        detail:
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      });
    }
  } else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    errs.push({
      type: "Invalid",
      field: "metadata.name",
      value: name,
      detail:
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    });
  }
  const labels = md.labels;
  if (labels !== undefined && labels !== null) {
    if (typeof labels !== "object" || Array.isArray(labels)) {
      errs.push({
        type: "TypeInvalid",
        field: "metadata.labels",
        value: labels,
        detail: "must be a map of strings",
      });
    } else {
      for (const [k, v] of Object.entries(labels)) {
        errs.push(...keyErrors("metadata.labels", k));
        if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) {
          errs.push({
            type: "Invalid",
            field: "metadata.labels",
            value: v,
            detail:
              "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
          });
        }
      }
    }
  }
  const ann = md.annotations;
  if (ann !== undefined && ann !== null) {
    if (typeof ann !== "object" || Array.isArray(ann)) {
      errs.push({
        type: "TypeInvalid",
        field: "metadata.annotations",
        value: ann,
        detail: "must be a map of strings",
      });
    } else {
      let size = 0;
      for (const [k, v] of Object.entries(ann)) {
        errs.push(...keyErrors("metadata.annotations", k.toLowerCase()));
        if (typeof v !== "string") {
          errs.push({
            type: "TypeInvalid",
            field: `metadata.annotations[${k}]`,
            value: v,
            detail: "must be a string",
          });
        } else size += k.length + v.length;
      }
      if (size > 256 * 1024) {
        errs.push({
          type: "TooLong",
          field: "metadata.annotations",
          value: "",
          detail: `may not be more than 262144 bytes`,
        });
      }
    }
  }
  const fin = md.finalizers;
  if (
    fin !== undefined && fin !== null &&
    (!Array.isArray(fin) || fin.some((f) => typeof f !== "string"))
  ) {
    errs.push({
      type: "TypeInvalid",
      field: "metadata.finalizers",
      value: fin,
      detail: "must be a list of strings",
    });
  }
  return errs;
}
