// Main-thread CPU profile of this process over one piece of work (node:inspector, sampling), and a
// summary of where the busy time went by area of the code: TLS, HTTP, Fastify, authentication, the
// engine, the audit journal… Work on libuv's thread pool (the signatures) is not sampled here; the
// process CPU figures of bench/server.ts cover it.
import type { Profiler, Runtime } from 'node:inspector';
import { Session } from 'node:inspector/promises';

/** Sampling interval: fine enough for ~100 µs requests, coarse enough to cost little. */
const SAMPLE_INTERVAL_MICROS = 100;

export async function profileOf<T>(work: () => Promise<T>): Promise<{ result: T; profile: Profiler.Profile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLE_INTERVAL_MICROS });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    return { result, profile };
  } finally {
    session.disconnect();
  }
}

/** First match wins; a frame's area comes from the script it belongs to. */
const AREAS: readonly (readonly [RegExp, string])[] = [
  [/\/src\/audit\//, 'audit journal'],
  [/\/src\/store\//, 'store (SQLite)'],
  [/\/src\/(core|barrier)\//, 'engine, barrier'],
  [/\/src\/server\/(authentication|identity\/)/, 'authentication'],
  [/\/src\/server\//, 'server routes, hooks'],
  [/\/node_modules\/pino/, 'logger'],
  [/\/node_modules\/(ajv|fast-uri|@fastify\/ajv-compiler)\//, 'validation (ajv)'],
  [/\/node_modules\/(fast-json-stringify|@fastify\/fast-json-stringify-compiler)\//, 'serialisation'],
  [/\/node_modules\/(fastify|find-my-way|avvio|@fastify|light-my-request|secure-json-parse|fast-querystring|toad-cache|process-warning|rfdc)\//, 'fastify'],
  [/^node:(_tls|tls)|internal\/tls/, 'TLS (node)'],
  [/^node:(_http|http|https)|internal\/http/, 'HTTP (node)'],
  [/^node:(net|stream|_stream)|internal\/(streams|stream_base|net)/, 'streams, net'],
  [/^node:/, 'node, other'],
  [/\/node_modules\//, 'other dependencies'],
];

function areaOf(frame: Runtime.CallFrame): string {
  if (frame.url === '') {
    switch (frame.functionName) {
      case '(idle)': return 'idle';
      case '(garbage collector)': return 'garbage collector';
      case '(program)': return 'native, unattributed';
      case '(root)': return 'root';
      default: return 'builtins, native, generated code';
    }
  }
  for (const [pattern, area] of AREAS) if (pattern.test(frame.url)) return area;
  return 'other';
}

export interface AreaTime {
  readonly area: string;
  /** Time with a frame of this area on top of the stack. */
  readonly selfMs: number;
  /** Time with a frame of this area anywhere on the stack. */
  readonly totalMs: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly areas: readonly AreaTime[];
  readonly topFunctions: readonly { readonly name: string; readonly area: string; readonly selfMs: number }[];
}

export function summarise(profile: Profiler.Profile, topCount = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const functions = new Map<string, { name: string; area: string; selfMs: number }>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let idleMs = 0;
  let busyMs = 0;
  for (let i = 0; i < samples.length; i++) {
    // A sample stands for the time until the next one.
    const ms = (deltas[i + 1] ?? 0) / 1000;
    const leaf = byId.get(samples[i] ?? -1);
    if (leaf === undefined) continue;
    const leafArea = areaOf(leaf.callFrame);
    if (leafArea === 'idle') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    self.set(leafArea, (self.get(leafArea) ?? 0) + ms);
    const where = leaf.callFrame.url === '' ? '' : ` ${leaf.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${leaf.callFrame.lineNumber + 1}`;
    const key = `${leaf.callFrame.functionName || '(anonymous)'}${where}`;
    const fn = functions.get(key) ?? { name: key, area: leafArea, selfMs: 0 };
    fn.selfMs += ms;
    functions.set(key, fn);
    const onStack = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id);
      if (frame !== undefined) onStack.add(areaOf(frame.callFrame));
    }
    for (const area of onStack) total.set(area, (total.get(area) ?? 0) + ms);
  }
  const areas = [...new Set([...self.keys(), ...total.keys()])]
    .filter((area) => area !== 'root')
    .map((area) => ({ area, selfMs: self.get(area) ?? 0, totalMs: total.get(area) ?? 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  const topFunctions = [...functions.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, topCount);
  return { busyMs, idleMs, areas, topFunctions };
}
