/** The Containerfile builds the single binary and runs it on a non-root distroless base. */
import assert from "node:assert/strict";

const text = await Deno.readTextFile(new URL("../../Containerfile", import.meta.url));
const stages = text.split("\n").filter((l) => /^FROM /.test(l));
const instructions = text.split("\n").filter((l) =>
  l.trim() && !l.startsWith("#") && !l.startsWith(" ")
);

Deno.test("multi-stage: deno compile in the build stage, distroless nonroot at run time", () => {
  assert.ok(stages.length >= 2, "expected a build stage and a runtime stage");
  assert.match(stages[0], /denoland\/deno:.*2\.9\.6 AS build/);
  assert.match(stages.at(-1)!, /^FROM gcr\.io\/distroless\/cc-debian12:nonroot$/);
  assert.match(text, /RUN deno install --frozen/);
  assert.match(text, /RUN deno task compile/);
  assert.match(text, /COPY --from=build \/src\/dist\/couchestor \/usr\/local\/bin\/couchestor/);
});

Deno.test("runtime runs as a numeric non-root user with an exec-form entrypoint", () => {
  const runtime = text.slice(text.lastIndexOf("FROM "));
  const user = /^USER (\d+):(\d+)$/m.exec(runtime);
  assert.ok(user, "USER must be numeric so runAsNonRoot can verify it");
  assert.notEqual(user[1], "0");
  assert.match(runtime, /^ENTRYPOINT \["\/usr\/local\/bin\/couchestor"\]$/m);
  assert.match(runtime, /^CMD \["run"\]$/m);
  assert.ok(!/^RUN /m.test(runtime), "distroless has no shell: no RUN in the runtime stage");
});

Deno.test("every instruction is one Docker understands", () => {
  const known =
    /^(FROM|RUN|COPY|ADD|ENV|ARG|WORKDIR|USER|EXPOSE|ENTRYPOINT|CMD|LABEL|HEALTHCHECK|STOPSIGNAL|VOLUME|SHELL|ONBUILD) /;
  for (const line of instructions) assert.match(line, known, line);
});

Deno.test("the node-agent stage has smartctl and nvme-cli and runs `discover --serve`", () => {
  const start = text.indexOf("AS node-agent");
  assert.ok(start > 0, "a node-agent stage");
  const stage = text.slice(start, text.indexOf("\nFROM ", start));
  assert.match(stage, /apt-get install -y --no-install-recommends smartmontools nvme-cli/);
  assert.match(stage, /COPY --from=build \/src\/dist\/couchestor \/usr\/local\/bin\/couchestor/);
  assert.match(stage, /^CMD \["discover", "--serve", ":8080"\]$/m);
  // The DaemonSet runs this image with the same command.
  const ds = Deno.readTextFileSync(
    new URL("../../deploy/node-agent/daemonset.yaml", import.meta.url),
  );
  assert.match(ds, /image: ghcr\.io\/couchestor\/couchestor-node-agent:/);
  assert.match(ds, /args: \["discover", "--serve", ":8080"/);
});
