// Output: JSON for --json (bytes as base64), otherwise aligned tables and `field: value` lines.

/** Bytes become base64 strings, recursively; everything else is JSON as is. */
export function jsonSafe(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(jsonSafe(value), null, 2)}\n`);
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(cell).join(',');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

export type Column<T> = readonly [header: string, value: (row: T) => unknown];

export function printTable<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
  const table = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, value]) => cell(value(row))))];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => (line[i] ?? '').length)));
  for (const line of table) {
    process.stdout.write(`${line.map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i] ?? 0))).join('  ')}\n`);
  }
}

/** One object as `field: value` lines, in the order given; absent fields are skipped. */
export function printFields(object: object, fields: readonly string[]): void {
  const record = object as Record<string, unknown>;
  const present = fields.filter((f) => record[f] !== undefined);
  const width = Math.max(0, ...present.map((f) => f.length));
  for (const field of present) process.stdout.write(`${`${field}:`.padEnd(width + 2)}${cell(record[field])}\n`);
}

/** --json or the human form. */
export function show(json: boolean, value: object, fields: readonly string[]): void {
  if (json) printJson(value);
  else printFields(value, fields);
}
