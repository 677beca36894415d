/// <reference types="node" />
// A stand-in for luci.js that runs the LuCI views of luci-app/ in node: the
// view source compiled the way luci.js does it (a function body whose
// 'require x' pragmas become parameters), with recording fakes for the
// modules (view, rpc, ui, dom, poll, uci, form, validation) and for E(), _()
// and String.prototype.format. No browser, no LuCI code.
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIPv4, parseIPv6 } from '../../src/uci/values.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const LUCI_APP = join(ROOT, 'luci-app');
export const VIEW_DIR = join(LUCI_APP, 'htdocs/luci-static/resources/view/kith');
export const MENU_FILE = join(LUCI_APP, 'root/usr/share/luci/menu.d/luci-app-kith.json');
export const ACL_FILE = join(LUCI_APP, 'root/usr/share/rpcd/acl.d/luci-app-kith.json');

export function viewSource(name: string): string {
  return readFileSync(join(VIEW_DIR, `${name}.js`), 'utf8');
}

/** The modules a view requires: `'require tools.widgets as widgets'` → {module, as}. */
export function requiresOf(src: string): { module: string; as: string }[] {
  return [...src.matchAll(/^\s*'require\s+([\w.]+)(?:\s+as\s+(\w+))?';/gm)].map((m) => ({
    module: m[1]!, as: m[2] ?? m[1]!.replace(/\W/g, '_'),
  }));
}

/** The view wrapped as luci.js compiles it: a function of its required modules (compiled, not run). */
export function compileView(src: string): vm.Script {
  const params = requiresOf(src).map((r) => r.as);
  return new vm.Script(`(function(${params.join(', ')}) {\n${src}\n})`, { filename: 'view.js' });
}

/** Every `rpc.declare({...})` of a view: its object, method, params and reject flag. */
export function declaredCalls(src: string): { object: string; method: string; params: string[]; reject: boolean }[] {
  return [...src.matchAll(/rpc\.declare\(\{([\s\S]*?)\}\)/g)].map((m) => {
    const body = m[1]!;
    const str = (key: string) => new RegExp(`\\b${key}:\\s*'([^']*)'`).exec(body)?.[1] ?? '';
    const params = /\bparams:\s*\[([^\]]*)\]/.exec(body)?.[1]?.match(/'[^']*'/g)?.map((p) => p.slice(1, -1)) ?? [];
    return { object: str('object'), method: str('method'), params, reject: /\breject:\s*true/.test(body) };
  });
}

// ---------------------------------------------------------------- fake DOM

export interface FakeNode {
  tag: string;
  attrs: Record<string, unknown>;
  children: Child[];
  style: { display: string };
  value: string;
  checked: boolean;
  select(): void;
}
export type Child = FakeNode | string | number;

function flatten(c: unknown): Child[] {
  if (c === null || c === undefined || c === '') return [];
  if (Array.isArray(c)) return Array.from(c as unknown[]).flatMap(flatten); // host-realm arrays, also for the view's
  return [c as Child];
}

function isNode(x: unknown): x is FakeNode {
  return typeof x === 'object' && x !== null && 'tag' in x && 'children' in x;
}

export function E(tag: string | unknown[], attrs?: unknown, children?: unknown): FakeNode {
  if (Array.isArray(tag)) return E('', {}, [...tag, ...flatten(attrs)]);
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs) || isNode(attrs)) { children = attrs; attrs = {}; }
  const a = attrs as Record<string, unknown>;
  const kids = flatten(children);
  const styleText = typeof a['style'] === 'string' ? a['style'] : '';
  const display = /display:\s*(\w+)/.exec(styleText)?.[1] ?? '';
  let value = typeof a['value'] === 'string' ? a['value'] : '';
  if (tag === 'select') {
    const opts = kids.filter(isNode);
    value = String((opts.find((o) => o.attrs['selected']) ?? opts[0])?.attrs['value'] ?? '');
  }
  return { tag, attrs: a, children: kids, style: { display }, value, checked: false, select() { /* nothing */ } };
}

/** All text under a node, including hidden parts (see visibleText). */
export function textOf(n: Child, visibleOnly = false): string {
  if (typeof n !== 'object') return String(n);
  if (visibleOnly && n.style.display === 'none') return '';
  return n.children.map((c) => textOf(c, visibleOnly)).join(' ');
}

export function walk(n: Child, fn: (n: FakeNode) => void): void {
  if (typeof n !== 'object') return;
  fn(n);
  for (const c of n.children) walk(c, fn);
}

/** Every string put into the page as text (not attributes). */
export function textNodes(n: Child): string[] {
  const out: string[] = [];
  const visit = (c: Child) => { if (typeof c === 'string') out.push(c); else if (typeof c === 'object') c.children.forEach(visit); };
  visit(n);
  return out;
}

export function findButton(root: FakeNode, label: string): FakeNode {
  let found: FakeNode | null = null;
  walk(root, (n) => { if (n.tag === 'button' && textOf(n).trim() === label) found = n; });
  if (!found) throw new Error(`no button "${label}"`);
  return found;
}

export async function click(root: FakeNode, label: string): Promise<void> {
  const b = findButton(root, label);
  await (b.attrs['click'] as (ev: unknown) => unknown)({ currentTarget: b, target: b });
}

// ---------------------------------------------------------------- the fake LuCI

export interface RpcCall { object: string; method: string; args: Record<string, unknown> }
/** A reply: the ubus data, or a number for a non-zero ubus status. */
export type Responder = (method: string, args: Record<string, unknown>) => unknown;

/** An option as the view set it up (form.Value etc.): what it binds and how it checks. */
export interface FakeOption {
  kind: string; name: string; title: string; description: string;
  values: [string, string | undefined][]; deps: unknown[];
  datatype?: string; placeholder?: string; default?: string; rmempty?: boolean;
  validate?: (sectionId: string, value: string) => true | string;
}
export interface FakeSection { kind: string; args: string[]; options: FakeOption[]; anonymous?: boolean; addremove?: boolean }

export interface Harness {
  view: Record<string, any>;
  calls: RpcCall[];
  translated: Set<string>;
  notifications: string[];
  polls: { fn: () => unknown; interval: number }[];
  sections: FakeSection[];
  map: { config: string; title: string; description: string } | null;
}

const FORMAT = `
String.prototype.format = function() {
  var args = arguments, i = 0, self = String(this);
  var out = self.replace(/%(1024mB|[sdhf%])/g, function(m, k) {
    if (k === '%') return '%';
    var v = args[i++];
    if (k === 'd') return String(Math.floor(+v));
    if (k === 'f') return String(+v);
    if (k === '1024mB') return String(+v) + ' B';
    return String(v);
  });
  if (__translated.has(self)) __translated.add(out);
  return out;
};`;

export interface LoadOptions {
  respond?: Responder;
  uciServices?: { name: string }[];
}

/** Runs a view's top level (as luci.js would) against the fakes; returns its view object. */
export function loadView(name: string, o: LoadOptions = {}): Harness {
  const src = viewSource(name);
  const h: Harness = { view: {}, calls: [], translated: new Set(), notifications: [], polls: [], sections: [], map: null };
  const respond = o.respond ?? (() => 4);
  const tr = (s: string) => { h.translated.add(s); return s; };

  const rpc = {
    declare(d: { object: string; method: string; params?: string[]; expect?: Record<string, unknown>; reject?: boolean }) {
      return (...argv: unknown[]) => {
        const args: Record<string, unknown> = {};
        (d.params ?? []).forEach((p, i) => { if (argv[i] !== undefined) args[p] = argv[i]; });
        h.calls.push({ object: d.object, method: d.method, args });
        let ret = respond(d.method, args);
        if (typeof ret === 'number' && ret !== 0 && d.reject) {
          return Promise.reject(new Error(`RPC call to ${d.object}/${d.method} failed with ubus code ${ret}: Invalid argument`));
        }
        if (d.expect) {
          const key = Object.keys(d.expect)[0]!;
          if (ret !== null && ret !== undefined && key !== '') ret = (ret as Record<string, unknown>)[key];
          const type = (x: unknown) => Object.prototype.toString.call(x);
          if (ret === null || ret === undefined || type(ret) !== type(d.expect[key])) ret = d.expect[key];
        }
        return Promise.resolve(ret);
      };
    },
  };

  class Table {
    rows: unknown[][] = [];
    constructor(readonly captions: unknown[], readonly options: { id?: string }, readonly placeholder: unknown) {}
    update(rows: unknown[][]) { this.rows = rows; }
    render() {
      const cell = (c: unknown) => E('td', { class: 'td' }, Array.isArray(c) ? c[1] : c);
      return E('table', { class: 'table', id: this.options.id }, [
        E('tr', { class: 'tr table-titles' }, this.captions.filter((c) => c !== null).map((c) => E('th', { class: 'th' }, [c]))),
        ...(this.rows.length ? this.rows.map((r) => E('tr', { class: 'tr' }, r.map(cell))) : [E('tr', { class: 'tr placeholder' }, [E('td', {}, [this.placeholder])])]),
      ]);
    }
  }
  const ui = {
    Table,
    createHandlerFn(ctx: any, fn: string | ((...a: unknown[]) => unknown), ...bound: unknown[]) {
      return (ev: unknown) => (typeof fn === 'string' ? ctx[fn] : fn).apply(ctx, [...bound, ev]);
    },
    addNotification(_title: unknown, body: Child) { h.notifications.push(textOf(body).trim()); },
  };
  const dom = { content(node: FakeNode, children: unknown) { node.children = flatten(children); return node; } };
  const poll = { add(fn: () => unknown, interval: number) { h.polls.push({ fn, interval }); } };
  const uci = {
    load: () => Promise.resolve(['kith']),
    sections: (config: string, type: string) => (config === 'kith' && type === 'service' ? o.uciServices ?? [] : []),
  };

  class Option {
    values: [string, string | undefined][] = [];
    deps: unknown[] = [];
    constructor(readonly kind: string, readonly name: string, readonly title = '', readonly description = '') {}
    value(k: string, label?: string) { this.values.push([k, label]); }
    depends(...d: unknown[]) { this.deps.push(d); }
  }
  const optionKinds = ['Value', 'Flag', 'ListValue', 'DynamicList', 'MultiValue', 'DummyValue', 'TextValue', 'Button'];
  const form: Record<string, unknown> = {};
  for (const k of optionKinds) {
    form[k] = class extends Option {
      constructor(name: string, title?: string, description?: string) {
        super(k, name, title, description);
        if (k === 'Flag') Object.assign(this, { enabled: '1', disabled: '0' });
      }
    };
  }
  class Section {
    options: FakeSection['options'] = [];
    constructor(readonly kind: string, readonly args: string[]) {}
    option(cls: new (...a: string[]) => Option, ...a: string[]) {
      const opt = new cls(...a);
      this.options.push(opt as unknown as FakeOption);
      return opt;
    }
  }
  form['NamedSection'] = 'NamedSection';
  form['TypedSection'] = 'TypedSection';
  form['GridSection'] = 'GridSection';
  form['Map'] = class {
    constructor(config: string, title = '', description = '') { h.map = { config, title, description }; }
    section(kind: string, ...args: string[]) {
      const s = new Section(kind, args);
      h.sections.push(s as unknown as FakeSection);
      return s;
    }
    render() { return Promise.resolve(E('div', {}, [])); }
  };

  const words16 = (b: Uint8Array) => Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  const validation = {
    parseIPv4: (s: string) => { const b = parseIPv4(s); return b ? Array.from(b) : null; },
    parseIPv6: (s: string) => { const b = parseIPv6(s); return b ? words16(b) : null; },
  };

  const L = {
    env: {},
    isObject: (v: unknown) => v !== null && typeof v === 'object',
    bind: (fn: (...a: unknown[]) => unknown, self: unknown, ...a: unknown[]) => fn.bind(self, ...a),
    resolveDefault: (p: Promise<unknown>, d: unknown) => Promise.resolve(p).catch(() => d),
    raise: (type: string, fmt: string) => { throw new Error(`${type}: ${fmt}`); },
  };
  const view = { extend: (o: Record<string, unknown>) => o };
  const modules: Record<string, unknown> = { view, rpc, ui, dom, poll, uci, form, validation };

  const ctx = vm.createContext({
    L, E, _: tr, N_: (_n: number, s: string) => tr(s), __translated: h.translated, console,
    navigator: {}, window: { isSecureContext: false }, document: { execCommand: () => false },
  });
  vm.runInContext(FORMAT, ctx);
  const fn = compileView(src).runInContext(ctx) as (...m: unknown[]) => Record<string, any>;
  const reqs = requiresOf(src);
  for (const r of reqs) if (!(r.module in modules)) throw new Error(`the harness has no fake for module "${r.module}"`);
  h.view = fn(...reqs.map((r) => modules[r.module]));
  return h;
}
