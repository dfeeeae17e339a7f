/** The daemon's own events, one line each: `<ISO time> lambdad <event> key=value …`. */
export type DaemonLog = (event: string, fields?: Readonly<Record<string, string | number>>) => void;

/** Lines to stdout; a stdout that closed (the parent went away: EPIPE) must not take the daemon down with it. */
function stdoutLines(): (line: string) => void {
  process.stdout.on('error', () => undefined);
  return (line) => process.stdout.write(line);
}

export function consoleDaemonLog(write: (line: string) => void = stdoutLines()): DaemonLog {
  return (event, fields = {}) => {
    const pairs = Object.entries(fields).map(([key, value]) => `${key}=${value}`);
    write(`${[new Date().toISOString(), 'lambdad', event, ...pairs].join(' ')}\n`);
  };
}

export const silentDaemonLog: DaemonLog = () => undefined;
