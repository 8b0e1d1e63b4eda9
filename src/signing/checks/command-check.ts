// The external command check: runs a program with no shell, a built environment, a bounded capture of
// its interleaved output and a timeout that kills its whole process group (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgTemplate, renderArgs } from './argv-template.ts';
import { BoundedOutput, OUTPUT_LIMIT_BYTES } from './bounded-output.ts';
import type { CommandSpec } from './check-spec.ts';
import type { Check, CheckContext, CheckResult } from './check-types.ts';

/** Long enough for a scanner to flush its report on SIGTERM, short enough not to hold a job. */
export const KILL_GRACE_MS = 2_000;

export interface CommandCheckOptions {
  /** The service's environment; only the names in the spec's `env` are taken from it. Default process.env. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  readonly killGraceMs?: number;
  readonly outputLimitBytes?: number;
}

/** `build-id` → COFFER_META_BUILD_ID: upper-cased, anything but A–Z and 0–9 becomes `_`. */
export function metadataVariable(key: string): string {
  return `COFFER_META_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Exactly the allow-listed variables, the job's metadata and the COFFER_* facts; nothing inherited. */
export function commandEnvironment(spec: CommandSpec, context: CheckContext, environment: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of spec.env) {
    const value = environment[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [key, value] of Object.entries(context.metadata)) env[metadataVariable(key)] = value;
  env['COFFER_ARTIFACT_PATH'] = context.path;
  env['COFFER_ARTIFACT_SIZE'] = String(context.size);
  for (const [hash, digest] of Object.entries(context.digests)) env[`COFFER_ARTIFACT_${hash.replace('-', '')}`] = digest.toString('hex');
  env['COFFER_SUBMITTER'] = context.submitter;
  env['COFFER_PROJECT'] = context.project;
  env['COFFER_PROFILE'] = context.profile;
  return env;
}

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unexpected error';
}

/** Signals the child's process group (it leads one: spawned detached); a group already gone is fine. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: every process of the group has exited.
  }
}

interface Outcome {
  readonly passed: boolean;
  readonly note?: string;
  readonly exitCode?: number;
  readonly timedOut?: boolean;
}

export function commandCheck(spec: CommandSpec, options: CommandCheckOptions = {}): Check {
  const [program = '', ...argTemplates] = spec.argv;
  const templates = argTemplates.map((arg, i) => parseArgTemplate(arg, `argv[${String(i + 1)}]`));
  const environment = options.environment ?? process.env;
  const killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;

  async function run(context: CheckContext, signal: AbortSignal): Promise<CheckResult> {
    const started = performance.now();
    const output = new BoundedOutput(options.outputLimitBytes ?? OUTPUT_LIMIT_BYTES);
    const outcome = await execute(context, signal, output);
    const text = outcome.note === undefined ? output.text() : `${output.text()}${output.text() === '' ? '' : '\n'}[coffer: ${outcome.note}]`;
    return {
      name: spec.name,
      kind: spec.kind,
      passed: outcome.passed,
      output: text,
      durationMs: performance.now() - started,
      ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
      ...(outcome.timedOut === true ? { timedOut: true } : {}),
    };
  }

  function execute(context: CheckContext, signal: AbortSignal, output: BoundedOutput): Promise<Outcome> {
    const rendered = renderArgs(templates, context);
    if ('missingKey' in rendered) return Promise.resolve({ passed: false, note: `metadata "${rendered.missingKey}" named in argv is missing` });
    if (signal.aborted) return Promise.resolve({ passed: false, note: 'aborted before the command started' });
    let child: ChildProcess;
    try {
      // shell: false: argv goes to execve as is, so no value is ever parsed by a shell.
      // detached: the child leads a process group, so a timeout kills what it spawned too.
      child = spawn(program, rendered.args, {
        shell: false,
        detached: true,
        env: commandEnvironment(spec, context, environment),
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      });
    } catch (error) {
      return Promise.resolve({ passed: false, note: `cannot start "${program}": ${errorCode(error)}` });
    }
    return new Promise<Outcome>((resolve) => {
      let stopReason: 'timeout' | 'abort' | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (reason: 'timeout' | 'abort'): void => {
        stopReason ??= reason;
        signalGroup(child, 'SIGTERM');
        killTimer ??= setTimeout(() => { signalGroup(child, 'SIGKILL'); }, killGraceMs);
      };
      const timer = setTimeout(() => { stop('timeout'); }, spec.timeoutMs);
      const onAbort = (): void => { stop('abort'); };
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (outcome: Outcome): void => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      // One sink for both streams, in arrival order: stdout and stderr interleaved.
      child.stdout?.on('data', (chunk: Buffer) => { output.append(chunk); });
      child.stderr?.on('data', (chunk: Buffer) => { output.append(chunk); });
      // A finished check leaves nothing behind: whatever it started in its group goes with it.
      child.on('exit', () => { signalGroup(child, 'SIGKILL'); });
      child.on('error', (error) => {
        if (child.pid === undefined) {
          const code = errorCode(error);
          settle({ passed: false, note: `cannot start "${program}": ${code === 'ENOENT' ? 'program or cwd not found (ENOENT)' : code}` });
        }
      });
      child.on('close', (code: number | null, killedBy: NodeJS.Signals | null) => {
        if (stopReason === 'timeout') settle({ passed: false, timedOut: true, note: `timed out after ${String(spec.timeoutMs)} ms; process group killed` });
        else if (stopReason === 'abort') settle({ passed: false, note: 'aborted; process group killed' });
        else if (code !== null) settle({ passed: code === 0, exitCode: code });
        else settle({ passed: false, note: `killed by ${killedBy ?? 'a signal'}` });
      });
    });
  }

  return { name: spec.name, kind: spec.kind, run };
}
