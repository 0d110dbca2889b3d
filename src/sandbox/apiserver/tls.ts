/** A throwaway CA and a server certificate for 127.0.0.1, made with the `openssl` binary. */

/** PEM texts of the CA certificate and the server's certificate and key. */
export interface TlsMaterial {
  caCert: string;
  cert: string;
  key: string;
}

async function run(bin: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(bin, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${bin} ${args[0]} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** True when an `openssl` binary can be run. */
export async function haveOpenssl(bin = "openssl"): Promise<boolean> {
  try {
    return (await new Deno.Command(bin, { args: ["version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/**
 * Creates (or reuses, when `dir` already holds them) a CA and a server certificate with
 * SANs IP:127.0.0.1 and DNS:localhost. Files: ca.crt, ca.key, server.crt, server.key.
 */
export async function ensureTls(dir: string, bin = "openssl"): Promise<TlsMaterial> {
  await Deno.mkdir(dir, { recursive: true });
  const read = async () => ({
    caCert: await Deno.readTextFile(`${dir}/ca.crt`),
    cert: await Deno.readTextFile(`${dir}/server.crt`),
    key: await Deno.readTextFile(`${dir}/server.key`),
  });
  try {
    return await read();
  } catch { /* not made yet */ }
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run(bin, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "3650",
    "-subj",
    "/CN=couchestor-sandbox-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await run(bin, [
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=couchestor-sandbox",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await run(bin, [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "3650",
    "-extfile",
    "server.ext",
  ], dir);
  return await read();
}
