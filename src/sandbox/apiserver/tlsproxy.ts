/**
 * TLS front for the plain-HTTP listener, offering only HTTP/1.1 in ALPN.
 *
 * Why: `Deno.serve` with a certificate always offers h2, and @kubernetes/client-node 2
 * (undici, allowH2 on by default) then speaks HTTP/2 through Deno's node:http2 layer,
 * which crashes the client process (nghttp2 assertion / segfault) on our machines. With
 * `http/1.1` as the only protocol every client stays on HTTP/1.1, kubectl included.
 */

/** A running TLS front. */
export interface TlsProxy {
  port: number;
  close(): void;
}

/** Accepts TLS on 127.0.0.1:`port` and pipes each connection to 127.0.0.1:`targetPort`. */
export function startTlsProxy(
  o: { port: number; cert: string; key: string; targetPort: number },
): TlsProxy {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: o.port,
    cert: o.cert,
    key: o.key,
    alpnProtocols: ["http/1.1"],
  });
  const open = new Set<Deno.Conn>();
  const closeQuietly = (c: Deno.Conn) => {
    open.delete(c);
    try {
      c.close();
    } catch { /* already closed */ }
  };
  const pipe = async (conn: Deno.TlsConn) => {
    open.add(conn);
    let up: Deno.TcpConn | undefined;
    try {
      await conn.handshake();
      up = await Deno.connect({ hostname: "127.0.0.1", port: o.targetPort });
      open.add(up);
      await Promise.race([
        conn.readable.pipeTo(up.writable, { preventClose: false }),
        up.readable.pipeTo(conn.writable, { preventClose: false }),
      ]);
    } catch {
      /* a client that goes away or fails the handshake ends its own pipe */
    } finally {
      closeQuietly(conn);
      if (up) closeQuietly(up);
    }
  };
  (async () => {
    try {
      for await (const conn of listener) void pipe(conn);
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const c of [...open]) closeQuietly(c);
    },
  };
}
