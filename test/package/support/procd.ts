/// <reference types="node" />
// Runs an init script's actions under the rc.common and procd.sh stand-ins
// (rc-harness.sh, procd-shim.sh, functions-shim.sh) with dash, and turns the
// recorded calls into what procd would be sent: the `service set` message
// (instances and triggers, built as procd.sh builds them), signals and
// procd_running queries, in order.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASH } from './package.ts';

const SUPPORT = fileURLToPath(new URL('.', import.meta.url));
/** procd.sh's PROCD_RELOAD_DELAY: triggers wait this long (ms) for more events. */
export const RELOAD_DELAY_MS = 1000;
/** system.@service[0] respawn defaults that procd_close_instance fills into an empty respawn. */
export const RESPAWN_DEFAULTS = ['3600', '5', '5'];

export type Instance = Record<string, unknown>;
export interface ServiceMessage { method: string; name: string; script: string; instances: Record<string, Instance>; triggers: unknown[] }
export type ProcdEvent =
  | { kind: 'service'; msg: ServiceMessage }
  | { kind: 'signal'; service: string; instance: string; signal: number | null }
  | { kind: 'running'; service: string; instance: string }
  | { kind: 'config_changed'; package: string }
  | { kind: 'kill'; service: string; instance: string };
export interface ProcdRun { events: ProcdEvent[]; errors: string[]; status: number | null; stderr: string }

const TABLES = new Set(['env', 'data', 'limits']);
const ARRAYS = new Set(['command', 'netdev', 'file', 'respawn', 'watch', 'watchdog', 'error']);
const NUMBERS = new Set(['nice', 'term_timeout', 'reload_signal']);
const BOOLEANS = new Set(['stdout', 'stderr', 'no_new_privs']);

function trigger(event: string, field: string, value: string, run: string[]): unknown {
  return [event, ['if', ['eq', field, value], ['run_script', ...run]], RELOAD_DELAY_MS];
}

/** The procd messages in a PROCD_LOG written by procd-shim.sh. */
export function parseProcdLog(text: string): { events: ProcdEvent[]; errors: string[] } {
  const events: ProcdEvent[] = [];
  const errors: string[] = [];
  let svc: ServiceMessage | null = null;
  let inst: Instance | null = null;
  let seq = 0;
  let inTriggers = false;
  // procd_open_data ... procd_close_data: the jshn calls build inst.data
  let data: { stack: (Record<string, unknown> | unknown[])[] } | null = null;
  const addJson = (name: string, value: unknown) => {
    const top = data!.stack[data!.stack.length - 1]!;
    if (Array.isArray(top)) top.push(value);
    else top[name] = value;
  };
  for (const line of text.split('\n').filter(Boolean)) {
    const [fn, ...a] = line.split('\t') as [string, ...string[]];
    const need = (ok: boolean, what: string) => { if (!ok) errors.push(`${fn} ${what}`); return ok; };
    switch (fn) {
      case 'open_service': svc = { method: 'set', name: a[0]!, script: a[1] ?? '', instances: {}, triggers: [] }; seq = 0; break;
      case 'close_service': if (need(svc !== null && inst === null, 'outside a service or inside an instance')) { svc!.method = a[0]!; events.push({ kind: 'service', msg: svc! }); } svc = null; break;
      case 'open_instance':
        if (!need(svc !== null && inst === null, 'outside a service or inside another instance')) break;
        seq++;
        inst = {};
        svc!.instances[a[0] || `instance${seq}`] = inst;
        break;
      case 'close_instance':
        if (!need(inst !== null, 'without an open instance')) break;
        if (Array.isArray(inst!['respawn']) && (inst!['respawn'] as string[]).length === 0) inst!['respawn'] = [...RESPAWN_DEFAULTS];
        inst = null;
        break;
      case 'set_param': {
        if (!need(inst !== null, 'outside an instance')) break;
        const [type, ...v] = a as [string, ...string[]];
        if (TABLES.has(type)) inst![type] = Object.fromEntries(v.map((kv) => (kv.includes('=') ? [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] : [kv, ''])));
        else if (ARRAYS.has(type)) inst![type] = v;
        else if (NUMBERS.has(type)) inst![type] = Number(v[0]);
        else if (BOOLEANS.has(type)) inst![type] = v[0] === '1';
        else inst![type] = v[0];
        break;
      }
      case 'open_triggers': inTriggers = true; break;
      case 'close_triggers': inTriggers = false; break;
      case 'reload_trigger':
        if (need(inTriggers && svc !== null, 'outside service_triggers')) for (const pkg of a) svc!.triggers.push(trigger('config.change', 'package', pkg, [`/etc/init.d/${svc!.name}`, 'reload']));
        break;
      case 'interface_trigger':
        if (need(inTriggers && svc !== null, 'outside service_triggers')) svc!.triggers.push(trigger(a[0]!, 'interface', a[1]!, a.slice(2)));
        break;
      case 'open_data':
        if (!need(inst !== null && data === null, 'outside an instance or inside data')) break;
        data = { stack: [(inst!['data'] ??= {}) as Record<string, unknown>] };
        break;
      case 'close_data':
        if (need(data !== null && data.stack.length === 1, 'without open data, or with an array or object left open')) data = null;
        break;
      case 'json_array': case 'json_object': {
        if (!need(data !== null, 'outside procd_open_data')) break;
        const v = fn === 'json_array' ? [] : {};
        addJson(a[0] ?? '', v);
        data!.stack.push(v);
        break;
      }
      case 'json_string': case 'json_int': case 'json_boolean':
        if (!need(data !== null, 'outside procd_open_data')) break;
        addJson(a[0] ?? '', fn === 'json_string' ? a[1] ?? '' : fn === 'json_int' ? Number(a[1]) : a[1] === '1');
        break;
      case 'json_close': {
        if (!need(data !== null && data.stack.length > 1, 'with nothing open')) break;
        const top = data!.stack.pop();
        need(Array.isArray(top) === (a[0] === 'array'), `closes an ${Array.isArray(top) ? 'array' : 'object'} as ${a[0]}`);
        break;
      }
      case 'kill': events.push({ kind: 'kill', service: a[0]!, instance: a[1] ?? '' }); break;
      case 'config_changed': events.push({ kind: 'config_changed', package: a[0] ?? '' }); break;
      case 'send_signal': events.push({ kind: 'signal', service: a[0]!, instance: a[1] ?? '', signal: a[2] ? Number(a[2]) : null }); break;
      case 'running': events.push({ kind: 'running', service: a[0]!, instance: a[1] ?? '' }); break;
      case 'error': errors.push(a.join(' ')); break;
      default: errors.push(`unexpected call ${fn}`);
    }
  }
  if (svc || inst || data) errors.push('a service, instance or data was left open');
  return { events, errors };
}

/**
 * `dash rc-harness.sh <initScript> <action>` with the uci shim on PATH and
 * UCI_CONFDIR=confDir (for config_load), procd_running answering `running`.
 */
export function runInitScript(initScript: string, action: string, o: { confDir: string; path: string; running?: boolean; dir: string }): ProcdRun {
  const log = join(o.dir, `procd-${action}-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const r = spawnSync(DASH, [join(SUPPORT, 'rc-harness.sh'), initScript, action], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: o.path, UCI_CONFDIR: o.confDir, PROCD_LOG: log, PROCD_SHIM_RUNNING: o.running ? '1' : '0' },
  });
  const parsed = parseProcdLog(existsSync(log) ? readFileSync(log, 'utf8') : '');
  return { ...parsed, status: r.status, stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}
