// Plain-text views of results.json: the compact terminal table printed at
// the end of a run, and summary.md (the ratio tables in markdown).

import { geomean, slowerBelow, type BenchResults, type CellResult, type Ratio } from './results.js';
import type { WorkloadName } from './options.js';

export function fmtSize(bytes: number): string {
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export function fmtNum(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (Math.abs(x) >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (Math.abs(x) >= 100) return x.toFixed(0);
  return x.toPrecision(digits);
}

export function fmtRatio(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2);
}

/** What "depth" means for a workload. */
export function depthLabel(workload: WorkloadName, depth: number): string {
  if (workload === 'watch') return `${depth} watchers`;
  if (workload === 'connect') return `${depth} handshakes`;
  return String(depth);
}

export function shortServer(id: string): string {
  return id === 'apache' ? 'apache' : id.replace(/^zoonode-w/, 'w');
}

/** The zoonode setting whose ratios headline the summary: workers=auto if it ran, else the last one. */
export function headlineServer(r: BenchResults): string | null {
  const z = r.servers.filter((s) => s.kind === 'zoonode').map((s) => s.id);
  if (z.length === 0) return null;
  return z.includes('zoonode-wauto') ? 'zoonode-wauto' : z[z.length - 1]!;
}

export interface RowKey { workload: WorkloadName; valueSize: number; depth: number }

export function rowKeys(r: BenchResults): RowKey[] {
  const seen = new Set<string>();
  const out: RowKey[] = [];
  for (const c of r.cells) {
    const k = `${c.workload}|${c.valueSize}|${c.depth}`;
    if (!seen.has(k)) { seen.add(k); out.push({ workload: c.workload, valueSize: c.valueSize, depth: c.depth }); }
  }
  return out;
}

export function cellOf(r: BenchResults, k: RowKey, server: string): CellResult | undefined {
  return r.cells.find((c) => c.workload === k.workload && c.valueSize === k.valueSize && c.depth === k.depth && c.server === server);
}

export function ratioOf(r: BenchResults, k: RowKey, server: string): Ratio | undefined {
  return r.ratios.find((x) => x.workload === k.workload && x.valueSize === k.valueSize && x.depth === k.depth && x.server === server);
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function terminalTable(r: BenchResults): string {
  const servers = r.servers.map((s) => s.id);
  const head = headlineServer(r);
  const withRatio = servers.includes('apache') && head !== null;
  const lines: string[] = [];
  const cols = ['workload', 'value', 'depth', ...servers.map((s) => `${shortServer(s)} ops/s  p99ms`)];
  if (withRatio) cols.push(`${shortServer(head!)}÷apache ops/s  ops/CPU-s  p99`);
  const widths = [12, 8, 14, ...servers.map(() => 17), 34];
  lines.push(cols.map((c, i) => pad(c, widths[i]!, i > 2)).join(' '));
  for (const k of rowKeys(r)) {
    const row = [pad(k.workload, 12), pad(fmtSize(k.valueSize), 8), pad(depthLabel(k.workload, k.depth), 14)];
    for (const s of servers) {
      const m = cellOf(r, k, s)?.median;
      row.push(pad(m ? `${fmtNum(m.opsPerSec)} ${fmtNum(m.p99)}` : 'error', 17, true));
    }
    if (withRatio) {
      const x = ratioOf(r, k, head!);
      row.push(pad(x ? `${fmtRatio(x.opsPerSec)}  ${fmtRatio(x.opsPerServerCpuSecond)}  ${fmtRatio(x.p99)}` : '-', 34, true));
    }
    lines.push(row.join(' '));
  }
  return lines.join('\n');
}

function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function settingsLine(r: BenchResults): string {
  const o = r.options;
  return `${o.quick ? 'quick' : 'full'} grid; cells ${o.warmupMs} ms warm-up + ${o.durationMs} ms measured, median of ${o.repeat} run(s) in alternating order; ` +
    `fsync ${o.fsync ? 'on' : 'off'} (forceSync=${o.fsync ? 'yes' : 'no'} on both), tickTime ${o.tickTime}; ${o.clientThreads} client thread(s); ` +
    `sessions = ${o.sessions ?? 'min(depth, 8)'}; mixed = ${Math.round(o.readRatio * 100)}% reads; getChildren of ${o.children} children; ` +
    `watch: ${o.watchRounds} rounds; connect storm: ${o.stormSessions} sessions`;
}

export function machineLine(r: BenchResults): string {
  const m = r.machine;
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, ${m.kernel}, Node ${m.node}, ${m.java ?? 'no Java'}, data on ${m.dataDirFs}; ` +
    `load average ${m.loadAvgStart.map((x) => x.toFixed(2)).join(' ')} at start, ${(m.loadAvgEnd ?? []).map((x) => x.toFixed(2)).join(' ')} at end`;
}

/** Ratios of the headline setting: every metric, per cell. */
export function ratioTableMd(r: BenchResults, server: string): string {
  const rows = rowKeys(r).map((k) => {
    const x = ratioOf(r, k, server);
    const a = cellOf(r, k, 'apache')?.median;
    const z = cellOf(r, k, server)?.median;
    return [k.workload, fmtSize(k.valueSize), depthLabel(k.workload, k.depth),
      `${fmtNum(z?.opsPerSec)} / ${fmtNum(a?.opsPerSec)}`,
      fmtRatio(x?.opsPerSec), fmtRatio(x?.opsPerServerCpuSecond), fmtRatio(x?.p50), fmtRatio(x?.p99), fmtRatio(x?.p999), fmtRatio(x?.rssMiB)];
  });
  return mdTable(['workload', 'value', 'in flight', 'ops/s zoonode / Apache', 'ops/s', 'ops per server CPU-s', 'p50', 'p99', 'p99.9', 'RSS'], rows);
}

/** Geometric means over depths of the ops/s and efficiency ratios, per workers= setting. */
export function ratioBySettingMd(r: BenchResults): string {
  const zs = r.servers.filter((s) => s.kind === 'zoonode').map((s) => s.id);
  const groups = new Map<string, RowKey[]>();
  for (const k of rowKeys(r)) {
    const g = `${k.workload}|${k.valueSize}`;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(k);
  }
  const rows = [...groups.values()].map((ks) => {
    const row = [ks[0]!.workload, fmtSize(ks[0]!.valueSize)];
    for (const z of zs) {
      const xs = ks.map((k) => ratioOf(r, k, z)).filter((x): x is Ratio => x !== undefined);
      row.push(fmtRatio(geomean(xs.map((x) => x.opsPerSec))), fmtRatio(geomean(xs.map((x) => x.opsPerServerCpuSecond))),
        fmtRatio(geomean(xs.map((x) => x.p99))));
    }
    return row;
  });
  const head = ['workload', 'value', ...zs.flatMap((z) => [`${shortServer(z)} ops/s`, `${shortServer(z)} ops/CPU-s`, `${shortServer(z)} p99`])];
  return mdTable(head, rows);
}

export function allCellsMd(r: BenchResults): string {
  const rows: string[][] = [];
  for (const k of rowKeys(r)) {
    for (const s of r.servers) {
      const c = cellOf(r, k, s.id);
      if (c === undefined) continue;
      const m = c.median;
      const err = c.samples.find((x) => x.error !== undefined)?.error;
      rows.push([k.workload, fmtSize(k.valueSize), depthLabel(k.workload, k.depth), shortServer(s.id),
        fmtNum(m?.opsPerSec), fmtNum(m?.p50), fmtNum(m?.p99), fmtNum(m?.p999), fmtNum(m?.opsPerServerCpuSecond),
        fmtNum(m?.serverCpuSeconds), fmtNum(m?.clientCpuSeconds), fmtNum(m?.rssMiB), m ? String(m.errors) : '-', err ?? '']);
    }
  }
  return mdTable(['workload', 'value', 'in flight', 'server', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'ops per server CPU-s',
    'server CPU-s', 'client CPU-s', 'RSS MiB', 'errors', 'failure'], rows);
}

/** This run ÷ the --baseline run, one row per cell found in both (empty if none). */
export function baselineLines(r: BenchResults): string[] {
  const b = r.baseline;
  if (b === undefined) return [];
  const slower = b.rows.filter((x) => x.slower);
  const lines = [`against ${b.path} (${b.startedAt}): ${b.rows.length} cells in both runs, ${slower.length} slower ` +
    `(ops/s or ops per CPU-second below ${slowerBelow} of then; Apache's rows show how much the machine itself moved)`];
  for (const x of b.rows) {
    lines.push(`${x.slower ? 'SLOWER ' : '       '}${x.workload.padEnd(12)} ${fmtSize(x.valueSize).padEnd(8)} ${depthLabel(x.workload, x.depth).padEnd(15)} ` +
      `${shortServer(x.server).padEnd(8)} ops/s ${fmtRatio(x.opsPerSec).padStart(5)}  ops/CPU-s ${fmtRatio(x.opsPerServerCpuSecond).padStart(5)}  p99 ${fmtRatio(x.p99).padStart(5)}`);
  }
  return lines;
}

export function markdownSummary(r: BenchResults): string {
  const head = headlineServer(r);
  const parts = [
    `# zoonode benchmark, ${r.startedAt}`,
    '',
    `Took ${(r.durationSeconds / 60).toFixed(1)} min: \`${r.command}\``,
    '',
    `Machine: ${machineLine(r)}.`,
    '',
    `Settings: ${settingsLine(r)}.`,
    '',
    `Servers: ${r.servers.map((s) => `${s.label} ${s.version}${s.workersResolved !== null ? ` (${s.workersResolved} I/O workers)` : ''}`).join('; ')}.`,
  ];
  for (const n of r.notes) parts.push('', `Note: ${n}`);
  if (head !== null && r.servers.some((s) => s.id === 'apache')) {
    parts.push('', `## Ratios zoonode (${shortServer(head)}) ÷ Apache`, '',
      'Medians over the repeats. ops/s and ops per server CPU-second: above 1 means zoonode does more; p50/p99/p99.9 latency and RSS: below 1 means zoonode is lower.',
      '', ratioTableMd(r, head),
      '', '## By workers= setting (geometric mean over in-flight depths, zoonode ÷ Apache)', '', ratioBySettingMd(r));
  }
  if (r.baseline !== undefined) {
    const rows = r.baseline.rows.map((x) => [x.slower ? '**slower**' : '', x.workload, fmtSize(x.valueSize), depthLabel(x.workload, x.depth),
      shortServer(x.server), fmtRatio(x.opsPerSec), fmtRatio(x.opsPerServerCpuSecond), fmtRatio(x.p99)]);
    parts.push('', `## Against ${r.baseline.path} (${r.baseline.startedAt}), now ÷ then`, '',
      `Marked slower: ops/s or ops per server CPU-second below ${slowerBelow} of the earlier run's. Apache's rows show how much the machine itself moved.`,
      '', mdTable(['', 'workload', 'value', 'in flight', 'server', 'ops/s', 'ops per server CPU-s', 'p99'], rows));
  }
  parts.push('', '## Every cell (medians)', '', allCellsMd(r), '');
  return parts.join('\n');
}
