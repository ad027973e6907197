import { readFileSync } from 'node:fs';

/**
 * Connections the kernel dropped because a listening socket's accept queue was full (TcpExt ListenOverflows, all
 * sockets on the machine); null where /proc/net/netstat cannot be read. The client retransmits, so it waits
 * seconds, and may in the end be reset or time out.
 */
export function listenOverflows(): number | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(' ');
      const values = lines[i + 1]!.split(' ');
      const at = names.indexOf('ListenOverflows');
      if (names[0] === 'TcpExt:' && at > 0) return Number(values[at]);
    }
  } catch {
    // not Linux
  }
  return null;
}
