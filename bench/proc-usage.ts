import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/**
 * CPU and memory of one process, read from /proc (Linux): the benchmarks compare the saga
 * worker, the Temporal server and themselves, each in its own process, without a dependency.
 */
const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this project runs on (`getconf CLK_TCK`)

/** CPU time (user + system) the process has used so far, in ms; NaN once it is gone. */
export function cpuMs(pid: number): number {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Resident set size in bytes (VmRSS); NaN once the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Processes on this machine whose arguments match (read from /proc/<pid>/cmdline). */
export function processesMatching(match: (args: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (match(readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'))) pids.push(Number(entry));
    } catch {
      // gone between the listing and the read
    }
  }
  return pids;
}

/** The Temporal dev server listening on `port` (its command line names it), if it runs on this machine. */
export function temporalServerPid(port: number): number | undefined {
  return processesMatching((args) => {
    const at = args.indexOf('--port');
    return args.includes('start-dev') && at >= 0 && Number(args[at + 1]) === port;
  })[0];
}

/** CPU used by each named process between start() and the returned stop(), in ms; plus the load average range seen. */
export function cpuMeter(pids: Record<string, number | undefined>) {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? cpuMs(pid) : NaN]));
  const loads: number[] = [loadavg()[0]!];
  const sampler = setInterval(() => loads.push(loadavg()[0]!), 5_000);
  return () => {
    clearInterval(sampler);
    loads.push(loadavg()[0]!);
    const used = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? cpuMs(pid) - before[k]! : NaN]));
    return { used, load: { min: Math.min(...loads), max: Math.max(...loads) } };
  };
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
