/** The daemon's own events, one line each: `<ISO time> lambdad <event> key=value …`. */
export type DaemonLog = (event: string, fields?: Readonly<Record<string, string | number>>) => void;

export function consoleDaemonLog(write: (line: string) => void = (line) => process.stdout.write(line)): DaemonLog {
  return (event, fields = {}) => {
    const pairs = Object.entries(fields).map(([key, value]) => `${key}=${value}`);
    write(`${[new Date().toISOString(), 'lambdad', event, ...pairs].join(' ')}\n`);
  };
}

export const silentDaemonLog: DaemonLog = () => undefined;
