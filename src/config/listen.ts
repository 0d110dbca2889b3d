/** Listen addresses such as ":8080", "127.0.0.1:0" or "[::1]:9000". */

/** Where a server binds. */
export interface ListenAddr {
  /** Interface to bind; "0.0.0.0" when the address leaves the host empty. */
  hostname: string;
  /** TCP port; 0 lets the kernel choose. */
  port: number;
}

const LISTEN_RE = /^(?<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):(?<port>\d{1,5})$/;

/** Parses `[host]:port`; returns undefined when the text is not a valid address. */
export function parseListenAddr(text: string): ListenAddr | undefined {
  const m = LISTEN_RE.exec(text.trim());
  if (!m?.groups) return undefined;
  const port = Number(m.groups.port);
  if (port > 65535) return undefined;
  const host = m.groups.host.replace(/^\[(.*)\]$/, "$1");
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}

/** Formats an address for logs, bracketing IPv6 hosts ("[::1]:8080"). */
export function formatListenAddr(addr: ListenAddr): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${host}:${addr.port}`;
}
