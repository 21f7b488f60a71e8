// report.html: one self-contained file (no scripts, fonts or images from
// anywhere else) with inline SVG charts drawn here: per workload and value
// size, p99 and p50 latency against throughput (one line per server, one
// point per in-flight depth) and ops per server CPU-second against depth;
// the ratio tables; the machine and the settings.

import { fmtNum, fmtRatio, fmtSize, depthLabel, shortServer, headlineServer, rowKeys, cellOf, ratioOf, machineLine, settingsLine } from './report-text.js';
import { geomean, type BenchResults, type CellResult, type Ratio, type Summary } from './results.js';

const COLORS: Record<string, string> = {
  apache: '#c0392b',
  'zoonode-w0': '#1f77b4',
  'zoonode-w1': '#2ca02c',
  'zoonode-w2': '#9467bd',
  'zoonode-wauto': '#e67e22',
};
const EXTRA_COLORS = ['#17becf', '#8c564b', '#7f7f7f', '#bcbd22'];

function colorOf(id: string, i: number): string {
  return COLORS[id] ?? EXTRA_COLORS[i % EXTRA_COLORS.length]!;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Point { x: number; y: number; label: string; tip: string }
interface Series { name: string; color: string; dashed: boolean; points: Point[] }
interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog: boolean;
  yLog: boolean;
  series: Series[];
}

const W = 420;
const H = 300;
const M = { l: 58, r: 14, t: 40, b: 42 };

function niceLinearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001 + step && out.length < 12; v += step) out.push(v);
  return out;
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(hi / lo);
  const mults = decades <= 1.2 ? [1, 2, 3, 5, 7] : decades <= 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (v >= 1) return `${+v.toPrecision(3)}`;
  return `${+v.toPrecision(2)}`;
}

export function svgChart(c: ChartSpec): string {
  const pts = c.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!c.xLog || p.x > 0) && (!c.yLog || p.y > 0));
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(c.title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${M.l}" y="14" class="ct">${esc(c.title)}</text>`);
  // Legend.
  let lx = M.l;
  for (const s of c.series) {
    const label = esc(s.name);
    parts.push(`<line x1="${lx}" y1="26" x2="${lx + 14}" y2="26" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="4 2"' : ''}/>`);
    parts.push(`<text x="${lx + 17}" y="29" class="lg">${label}</text>`);
    lx += 24 + s.name.length * 5.6;
  }
  if (pts.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="ax">no data</text></svg>`);
    return parts.join('');
  }
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  let xTicks: number[];
  let xMap: (v: number) => number;
  if (c.xLog) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...xs)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...xs) * 1.0001));
    xTicks = logTicks(lo, hi);
    xMap = (v) => M.l + (Math.log10(v / lo) / Math.log10(hi / lo)) * pw;
  } else {
    xTicks = niceLinearTicks(Math.max(...xs) * 1.04);
    const hi = xTicks[xTicks.length - 1]!;
    xMap = (v) => M.l + (v / hi) * pw;
  }
  let yTicks: number[];
  let yMap: (v: number) => number;
  if (c.yLog) {
    const min = Math.min(...ys);
    const max = Math.max(...ys);
    let lo = 10 ** Math.floor(Math.log10(min));
    let hi = 10 ** Math.ceil(Math.log10(max * 1.0001));
    if (hi / lo < 10) { lo = Math.min(lo, hi / 10); }
    // Tighten to 1-2-5 steps when the data sit far inside the decades.
    for (const m of [5, 2]) if (lo * m <= min) { lo *= m; break; }
    for (const m of [5, 2]) if (hi / m >= max) { hi /= m; break; }
    yTicks = logTicks(lo, hi);
    yMap = (v) => M.t + ph - (Math.log10(v / lo) / Math.log10(hi / lo)) * ph;
  } else {
    yTicks = niceLinearTicks(Math.max(...ys) * 1.04);
    const hi = yTicks[yTicks.length - 1]!;
    yMap = (v) => M.t + ph - (v / hi) * ph;
  }
  // Grid and axes.
  for (const t of yTicks) {
    const y = yMap(t).toFixed(1);
    parts.push(`<line x1="${M.l}" y1="${y}" x2="${M.l + pw}" y2="${y}" class="gr"/>`);
    parts.push(`<text x="${M.l - 5}" y="${(+y + 3.5).toFixed(1)}" text-anchor="end" class="ax">${tickLabel(t)}</text>`);
  }
  for (const t of xTicks) {
    const x = xMap(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${M.t}" x2="${x}" y2="${M.t + ph}" class="gr"/>`);
    parts.push(`<text x="${x}" y="${M.t + ph + 14}" text-anchor="middle" class="ax">${tickLabel(t)}</text>`);
  }
  parts.push(`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${M.l + pw / 2}" y="${H - 6}" text-anchor="middle" class="al">${esc(c.xLabel)}</text>`);
  parts.push(`<text transform="translate(13 ${M.t + ph / 2}) rotate(-90)" text-anchor="middle" class="al">${esc(c.yLabel)}</text>`);
  // Series.
  for (const s of c.series) {
    const ok = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!c.xLog || p.x > 0) && (!c.yLog || p.y > 0));
    if (ok.length === 0) continue;
    const d = ok.map((p) => `${xMap(p.x).toFixed(1)},${yMap(p.y).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    for (const p of ok) {
      const x = xMap(p.x);
      const y = yMap(p.y);
      parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.2" fill="${s.color}"><title>${esc(`${s.name}, ${p.tip}`)}</title></circle>`);
      parts.push(`<text x="${(x + 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" class="pl" fill="${s.color}">${esc(p.label)}</text>`);
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

function throughputName(workload: string): string {
  if (workload === 'watch') return 'notifications/s (watchers ÷ time to last)';
  if (workload === 'connect') return 'sessions established per second';
  if (workload === 'multi') return 'multi requests/s (4 setData each)';
  return 'ops/s';
}

function latencyName(workload: string, q: string): string {
  if (workload === 'watch') return `${q} write → last notification, ms`;
  if (workload === 'connect') return `${q} connect → session, ms`;
  return `${q} latency, ms`;
}

function groupCharts(r: BenchResults, workload: CellResult['workload'], valueSize: number): string {
  const cells = r.cells.filter((c) => c.workload === workload && c.valueSize === valueSize);
  const series = (pick: (m: Summary, c: CellResult) => [number, number]): Series[] => r.servers.map((s, i) => ({
    name: shortServer(s.id),
    color: colorOf(s.id, i),
    dashed: s.kind === 'apache',
    points: cells.filter((c) => c.server === s.id && c.median !== null).sort((a, b) => a.depth - b.depth).map((c) => {
      const [x, y] = pick(c.median!, c);
      const m = c.median!;
      return {
        x, y, label: String(c.depth),
        tip: `${depthLabel(c.workload, c.depth)}: ${fmtNum(m.opsPerSec)} ops/s, p50 ${fmtNum(m.p50)} ms, p99 ${fmtNum(m.p99)} ms, p99.9 ${fmtNum(m.p999)} ms, ${fmtNum(m.opsPerServerCpuSecond)} ops per server CPU-s`,
      };
    }),
  }));
  const what = `${workload} ${fmtSize(valueSize)}`;
  const charts = [
    svgChart({ title: `${what}: p99 latency vs throughput`, xLabel: throughputName(workload), yLabel: latencyName(workload, 'p99'), xLog: false, yLog: true,
      series: series((m) => [m.opsPerSec, m.p99]) }),
    svgChart({ title: `${what}: p50 latency vs throughput`, xLabel: throughputName(workload), yLabel: latencyName(workload, 'p50'), xLog: false, yLog: true,
      series: series((m) => [m.opsPerSec, m.p50]) }),
    svgChart({ title: `${what}: efficiency`, xLabel: workload === 'watch' ? 'watchers' : workload === 'connect' ? 'handshakes in flight' : 'requests in flight',
      yLabel: 'ops per server CPU-second', xLog: true, yLog: false, series: series((m, c) => [c.depth, m.opsPerServerCpuSecond]) }),
  ];
  return `<section class="wl" id="${workload}-${valueSize}"><h3>${esc(what)}</h3><div class="charts">${charts.join('')}</div></section>`;
}

function ratioClass(x: number | undefined, higherIsBetter: boolean): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  const good = higherIsBetter ? x > 1.05 : x < 0.95;
  const bad = higherIsBetter ? x < 0.95 : x > 1.05;
  return good ? ' class="good"' : bad ? ' class="bad"' : '';
}

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.join('')}</tr>`).join('') + '</tbody></table>';
}

const td = (s: string, attrs = '') => `<td${attrs}>${esc(s)}</td>`;

function ratioTable(r: BenchResults, server: string): string {
  const rows = rowKeys(r).map((k) => {
    const x: Ratio | undefined = ratioOf(r, k, server);
    const a = cellOf(r, k, 'apache')?.median;
    const z = cellOf(r, k, server)?.median;
    return [td(k.workload), td(fmtSize(k.valueSize)), td(depthLabel(k.workload, k.depth), ' class="n"'),
      td(`${fmtNum(z?.opsPerSec)} / ${fmtNum(a?.opsPerSec)}`, ' class="n"'),
      td(fmtRatio(x?.opsPerSec), ratioClass(x?.opsPerSec, true)), td(fmtRatio(x?.opsPerServerCpuSecond), ratioClass(x?.opsPerServerCpuSecond, true)),
      td(fmtRatio(x?.p50), ratioClass(x?.p50, false)), td(fmtRatio(x?.p99), ratioClass(x?.p99, false)),
      td(fmtRatio(x?.p999), ratioClass(x?.p999, false)), td(fmtRatio(x?.rssMiB), ratioClass(x?.rssMiB, false))];
  });
  return table(['workload', 'value', 'in flight', 'ops/s zoonode / Apache', 'ops/s', 'ops per server CPU-s', 'p50', 'p99', 'p99.9', 'RSS'], rows, 'ratio');
}

function bySettingTable(r: BenchResults): string {
  const zs = r.servers.filter((s) => s.kind === 'zoonode').map((s) => s.id);
  const groups = new Map<string, ReturnType<typeof rowKeys>>();
  for (const k of rowKeys(r)) {
    const g = `${k.workload}|${k.valueSize}`;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(k);
  }
  const rows = [...groups.values()].map((ks) => {
    const row = [td(ks[0]!.workload), td(fmtSize(ks[0]!.valueSize))];
    for (const z of zs) {
      const xs = ks.map((k) => ratioOf(r, k, z)).filter((x): x is Ratio => x !== undefined);
      const ops = geomean(xs.map((x) => x.opsPerSec));
      const eff = geomean(xs.map((x) => x.opsPerServerCpuSecond));
      const p99 = geomean(xs.map((x) => x.p99));
      row.push(td(fmtRatio(ops), ratioClass(ops, true)), td(fmtRatio(eff), ratioClass(eff, true)), td(fmtRatio(p99), ratioClass(p99, false)));
    }
    return row;
  });
  const head = ['workload', 'value', ...zs.flatMap((z) => [`${shortServer(z)} ops/s`, `${shortServer(z)} ops/CPU-s`, `${shortServer(z)} p99`])];
  return table(head, rows, 'ratio');
}

function allCellsTable(r: BenchResults): string {
  const rows: string[][] = [];
  for (const k of rowKeys(r)) {
    for (const s of r.servers) {
      const c = cellOf(r, k, s.id);
      if (c === undefined) continue;
      const m = c.median;
      const err = c.samples.find((x) => x.error !== undefined)?.error ?? '';
      const extra = c.samples[0]?.extra ?? {};
      const extras = Object.entries(extra).map(([a, b]) => `${a}=${typeof b === 'number' ? fmtNum(b) : b}`).join(' ');
      rows.push([td(k.workload), td(fmtSize(k.valueSize)), td(depthLabel(k.workload, k.depth), ' class="n"'), td(`${c.sessions}×${c.perSession}`, ' class="n"'),
        td(shortServer(s.id)), td(fmtNum(m?.opsPerSec), ' class="n"'), td(fmtNum(m?.p50), ' class="n"'), td(fmtNum(m?.p99), ' class="n"'),
        td(fmtNum(m?.p999), ' class="n"'), td(fmtNum(m?.opsPerServerCpuSecond), ' class="n"'), td(fmtNum(m?.serverCpuSeconds), ' class="n"'),
        td(fmtNum(m?.clientCpuSeconds), ' class="n"'), td(fmtNum(m?.rssMiB), ' class="n"'), td(m ? String(m.errors) : '-', ' class="n"'),
        td(`${c.samples.length}`, ' class="n"'), td(`${extras} ${err}`.trim())]);
    }
  }
  return table(['workload', 'value', 'in flight', 'sessions × per session', 'server', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'ops per server CPU-s',
    'server CPU-s', 'client CPU-s', 'RSS MiB', 'errors', 'runs', 'notes'], rows, 'cells');
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
p,li{font-size:13px;line-height:1.45}.meta{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:12px;margin:6px 0 12px}th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.ratio td:nth-child(n+4){text-align:right;font-variant-numeric:tabular-nums}
td.good{background:#e3f4e6}td.bad{background:#fbe4e1}
.charts{display:flex;flex-wrap:wrap;gap:10px}.charts svg{border:1px solid #e2e2e2;border-radius:4px}
svg .ct{font-size:12.5px;font-weight:600;fill:#222}svg .lg{font-size:10.5px;fill:#333}svg .ax{font-size:10px;fill:#555}
svg .al{font-size:10.5px;fill:#333}svg .gr{stroke:#ececec;stroke-width:1}svg .pl{font-size:8.5px}
.note{background:#fff6dd;border:1px solid #f0d98c;padding:6px 10px;font-size:13px;border-radius:4px}
details summary{cursor:pointer;font-size:14px;margin:8px 0}
`;

export function renderHtml(r: BenchResults): string {
  const head = headlineServer(r);
  const hasApache = r.servers.some((s) => s.id === 'apache');
  const groups: [CellResult['workload'], number][] = [];
  for (const c of r.cells) if (!groups.some(([w, v]) => w === c.workload && v === c.valueSize)) groups.push([c.workload, c.valueSize]);
  const o = r.options;
  const serverRows = r.servers.map((s, i) => [
    `<td><span style="display:inline-block;width:12px;height:3px;background:${colorOf(s.id, i)};vertical-align:middle"></span> ${esc(shortServer(s.id))}</td>`,
    td(s.label), td(s.version), td(s.workersResolved !== null ? `${s.workersResolved}` : '-', ' class="n"'),
    td(`${s.startupMs.toFixed(0)} ms`, ' class="n"'), td(`${s.idleRssMiB.toFixed(0)} MiB`, ' class="n"'), td(String(s.restarts), ' class="n"')]);
  const m = r.machine;
  const machineRows = [
    ['CPU', `${m.cpuModel}, ${m.cores} cores`], ['memory', `${m.memoryGiB} GiB`], ['OS', `${m.os}; ${m.kernel}`], ['Node.js', m.node],
    ['Java', m.java ?? 'not installed'], ['data directories on', m.dataDirFs],
    ['load average (1, 5, 15 min)', `${m.loadAvgStart.map((x) => x.toFixed(2)).join(' ')} at start; ${(m.loadAvgEnd ?? []).map((x) => x.toFixed(2)).join(' ')} at end`],
  ].map(([a, b]) => [td(a!), td(b!)]);
  const settingRows = [
    ['command', r.command], ['grid', `${o.quick ? 'quick' : 'full'}: workloads ${o.workloads.join(', ')}; in-flight depths ${o.depths.join(', ')}; value sizes ${o.valueSizes.map(fmtSize).join(', ')} (swept for ${o.sizedWorkloads.join(', ')}); watchers ${o.watchers.join(', ')}`],
    ['cells', `${o.warmupMs} ms warm-up, ${o.durationMs} ms measured; ${o.repeat} run(s) per cell per server in alternating order (A B1 B2 … then … B2 B1 A), medians reported`],
    ['sessions', o.sessions === null ? 'min(depth, 8) sessions, ceil(depth / sessions) requests in flight each' : `${o.sessions} sessions, ceil(depth / ${o.sessions}) in flight each`],
    ['servers', `fsync ${o.fsync ? 'on' : 'off'} (forceSync=${o.fsync ? 'yes' : 'no'} on both), tickTime=${o.tickTime}, maxClientCnxns=0, admin server off, zoonode without the metrics endpoint; Apache on the JVM's default heap`],
    ['load generator', `${o.clientThreads} client thread(s) in the benchmark process, sharing the machine's CPUs with the server under test`],
    ['workloads', `mixed = ${Math.round(o.readRatio * 100)}% getData / ${100 - Math.round(o.readRatio * 100)}% setData; getChildren of a node with ${o.children} children; multi = 4 setData; watch = ${o.watchRounds} rounds (after ${o.watchWarmupRounds} warm-up) of one setData seen by every watcher; connect = a storm of ${o.stormSessions} sessions`],
    ['run', `${r.startedAt} → ${r.finishedAt} (${(r.durationSeconds / 60).toFixed(1)} min)`],
  ].map(([a, b]) => [td(a!), td(b!)]);
  const body: string[] = [];
  body.push(`<h1>zoonode benchmark</h1><div class="meta">${esc(r.startedAt)} · ${(r.durationSeconds / 60).toFixed(1)} min · ${esc(machineLine(r))}</div>`);
  for (const n of r.notes) body.push(`<p class="note">${esc(n)}</p>`);
  body.push(`<p>Each point is the median of ${o.repeat} run(s) of one cell: a workload at one in-flight depth (the small number beside the point; for watch the number of watchers, for connect the handshakes in flight). ` +
    'Latency is per request, from the moment the generator wrote it to the moment it read the reply. Server CPU-seconds and RSS come from /proc/&lt;pid&gt; of the server process (for Apache, the JVM). ' +
    'On a 2-core machine the load generator competes with the server for CPU, so raw ops/s is bounded by both; ops per server CPU-second is the fairer efficiency figure. ' +
    'The machine is shared and noisy: compare servers within one run, not across runs.</p>');
  if (hasApache && head !== null) {
    body.push(`<h2>Ratios: zoonode (${esc(shortServer(head))}) ÷ Apache ZooKeeper</h2>`);
    body.push('<p>ops/s and ops per server CPU-second above 1 (green) mean zoonode does more; latency and RSS below 1 (green) mean zoonode is lower. Within ±5 % is left white.</p>');
    body.push(ratioTable(r, head));
    body.push('<h3>By workers= setting (geometric mean over depths)</h3>');
    body.push(bySettingTable(r));
  }
  body.push('<h2>Curves</h2>');
  for (const [w, v] of groups) body.push(groupCharts(r, w, v));
  body.push('<h2>Servers</h2>');
  body.push(table(['', 'server', 'version', 'I/O workers', 'start-up', 'idle RSS', 'restarts'], serverRows));
  body.push('<h2>Machine</h2>');
  body.push(table(['', ''], machineRows));
  body.push('<h2>Settings</h2>');
  body.push(table(['', ''], settingRows));
  body.push(`<p class="meta">${esc(settingsLine(r))}</p>`);
  body.push('<h2>Every cell</h2><details><summary>medians of every cell on every server</summary>');
  body.push(allCellsTable(r));
  body.push('</details>');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>zoonode benchmark ${esc(r.startedAt)}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}
