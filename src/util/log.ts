// A small line logger: ISO time, level, component, message. Worker threads
// log through the same functions; Node forwards their output to the process.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold = levelRank[(process.env.ZOONODE_LOG_LEVEL as LogLevel) ?? 'info'] ?? levelRank.info;
let threadTag = '';

export function setLogLevel(level: LogLevel): void {
  threshold = levelRank[level];
}

export function setThreadTag(tag: string): void {
  threadTag = tag;
}

export type LogSink = (level: LogLevel, component: string, msg: string) => void;
let sink: LogSink | null = null;

/** Hand log lines to a function instead of stdout/stderr (the simulator keeps them in its trace); null restores. */
export function setLogSink(s: LogSink | null): void {
  sink = s;
}

export class Logger {
  constructor(readonly component: string) {}

  debug(msg: string): void { this.write('debug', msg); }
  info(msg: string): void { this.write('info', msg); }
  warn(msg: string): void { this.write('warn', msg); }
  error(msg: string): void { this.write('error', msg); }

  enabled(level: LogLevel): boolean {
    return levelRank[level] >= threshold;
  }

  private write(level: LogLevel, msg: string): void {
    if (levelRank[level] < threshold) return;
    if (sink !== null) {
      sink(level, this.component, msg);
      return;
    }
    const tag = threadTag ? `${threadTag}/` : '';
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${tag}${this.component}] ${msg}\n`;
    if (levelRank[level] >= levelRank.warn) process.stderr.write(line);
    else process.stdout.write(line);
  }
}
