/// <reference types="node" />
/// <reference lib="dom" />
// The browser half of `make test-luci` (run.sh starts the web stack, kithd
// and the neighbour, then this): Chromium drives luci-app-kith's pages
// through LuCI's own JavaScript, uhttpd's /ubus, rpcd sessions and kithd.
// A stand-in for LuCI's dispatcher answers /cgi-bin/luci/admin/services/kith/*
// with the page the dispatcher's header would render, and admin/uci/* (Save &
// Apply) through rpcd's uci apply/confirm, then reloads kithd as procd would.
import { chromium, type Browser, type Page, type Route } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (k: string) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set (run test/luci/browser/run.sh)`); return v; };
const BASE = env('KITH_LUCI_URL');
const UBUS = env('KITH_LUCI_UBUS');
const WEB = env('KITH_LUCI_ROOT');
const SHOTS = env('KITH_LUCI_SHOTS');
const PAGES = ['overview', 'join', 'invite', 'members', 'uplink', 'devices', 'config'];

let pass = 0;
let fail = 0;
const ok = (what: string) => { pass++; console.log(`  ok   ${what}`); };
const bad = (what: string) => { fail++; console.log(`  FAIL ${what}`); };
const check = (cond: unknown, what: string) => (cond ? ok(what) : bad(what));

// ---------------------------------------------------------------- the stack

async function ubusRpc(sid: string, object: string, method: string, args: Record<string, unknown> = {}): Promise<[number, unknown]> {
  const res = await fetch(`${BASE}/ubus`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'call', params: [sid, object, method, args] }),
  });
  const j = await res.json() as { result?: [number, unknown]; error?: { code: number; message: string } };
  if (j.error) return [j.error.code, j.error];
  return [j.result![0], j.result![1]];
}

interface Session { sid: string; token: string; readonly: boolean }

async function login(username: string, password: string): Promise<Session> {
  const [rc, r] = await ubusRpc('00000000000000000000000000000000', 'session', 'login', { username, password });
  if (rc !== 0) throw new Error(`session.login ${username}: ubus status ${rc}`);
  const sid = (r as { ubus_rpc_session: string }).ubus_rpc_session;
  // The dispatcher's nodespec: the menu's ACL group with write access, or read only.
  const [, acc] = await ubusRpc(sid, 'session', 'access', { scope: 'access-group', object: 'luci-app-kith', function: 'write' });
  return { sid, token: sid.slice(0, 16), readonly: !(acc as { access?: boolean }).access };
}

function kith(method: string, args: Record<string, unknown> = {}): any {
  return JSON.parse(execFileSync(join(WEB, 'bin/ubus'), ['-s', UBUS, 'call', 'kith', method, JSON.stringify(args)], { encoding: 'utf8' }) || '{}');
}

/** The page LuCI's dispatcher renders for a view: theme, luci.js with L.env, the view. */
function bootPage(s: Session, page: string): string {
  const envJs = {
    media: '/luci-static/bootstrap', resource: '/luci-static/resources', scriptname: '/cgi-bin/luci',
    pathinfo: `/admin/services/kith/${page}`, documentroot: '/www', requestpath: ['admin', 'services', 'kith', page],
    dispatchpath: ['admin', 'services', 'kith', page], nodespec: { satisfied: true, readonly: s.readonly, action: { type: 'view', path: `kith/${page}` } },
    apply_rollback: 90, apply_holdoff: 1, apply_timeout: 5, apply_display: 1, rollback_token: null,
    sessionid: s.sid, token: s.token, ubuspath: '/ubus/', pollinterval: 5, lang: 'en',
  };
  const tabs = PAGES.map((p) => `<li class="${p === page ? 'active' : ''}"><a href="/cgi-bin/luci/admin/services/kith/${p}">${p}</a></li>`).join('');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kith - LuCI</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/luci-static/bootstrap/cascade.css">
<link rel="stylesheet" media="only screen and (max-device-width: 854px)" href="/luci-static/bootstrap/mobile.css">
<script src="/luci-static/resources/cbi.js"></script>
<script src="/luci-static/resources/luci.js"></script>
<script>L = new LuCI(${JSON.stringify(envJs)});</script>
</head><body class="lang_en" data-page="admin-services-kith-${page}">
<header><div class="fill"><div class="container"><span class="brand">OpenWrt</span><span id="indicators" class="pull-right"></span></div></div></header>
<div id="maincontent" class="container"><ul class="tabs">${tabs}</ul>
<div id="view"><div class="spinning">Loading view…</div>
<script>L.require('ui').then(function(ui) { ui.instantiateView('kith/${page}'); });</script>
</div></div></body></html>`;
}

/** Save & Apply: the dispatcher's admin/uci/apply_rollback and confirm, through rpcd; procd's reload of kithd. */
async function applyRoute(s: Session, route: Route): Promise<void> {
  const url = new URL(route.request().url());
  if (url.pathname.endsWith('/apply_rollback') || url.pathname.endsWith('/apply_unchecked')) {
    const rollback = url.pathname.endsWith('/apply_rollback');
    const [rc] = await ubusRpc(s.sid, 'uci', 'apply', rollback ? { rollback: true, timeout: 90 } : {});
    if (rc !== 0) { await route.fulfill({ status: 500, body: `uci apply: ubus status ${rc}` }); return; }
    if (rollback) await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ token: s.token }) });
    else { kith('reload'); await route.fulfill({ status: 204, body: '' }); }
    return;
  }
  if (url.pathname.endsWith('/confirm')) {
    const [rc] = await ubusRpc(s.sid, 'uci', 'confirm', {});
    if (rc === 0) kith('reload');
    await route.fulfill({ status: rc === 0 ? 204 : 500, body: '' });
    return;
  }
  await route.fulfill({ status: 404, body: 'not here' });
}

// ---------------------------------------------------------------- pages

interface Tab { page: Page; errors: string[] }

async function open(browser: Browser, s: Session, width = 1280): Promise<Tab> {
  const ctx = await browser.newContext({ viewport: { width, height: width < 500 ? 844 : 900 } });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  await page.route('**/cgi-bin/luci/admin/services/kith/**', (r) => {
    const name = new URL(r.request().url()).pathname.split('/').pop()!;
    return r.fulfill({ status: 200, contentType: 'text/html', body: bootPage(s, PAGES.includes(name) ? name : 'overview') });
  });
  await page.route('**/cgi-bin/luci/admin/uci/**', (r) => applyRoute(s, r));
  // LuCI pings cgi-io's /cgi-bin/cgi-exec while applying, to see that the router is still there.
  await page.route('**/cgi-bin/cgi-exec*', (r) => r.fulfill({ status: 200, body: '' }));
  return { page, errors };
}

async function visit(t: Tab, name: string): Promise<void> {
  await t.page.goto(`${BASE}/cgi-bin/luci/admin/services/kith/${name}`);
  await t.page.waitForSelector('#view > :not(.spinning)', { timeout: 15000 });
  await t.page.waitForFunction(() => !document.querySelector('#view .spinning'), null, { timeout: 15000 });
}

async function shot(t: Tab, name: string): Promise<void> {
  await t.page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const texts = (t: Tab, sel: string) => t.page.locator(sel).allInnerTexts();

async function main(): Promise<void> {
  const browser = await chromium.launch({ executablePath: env('CHROMIUM'), args: ['--no-sandbox'] });
  try {
    const root = await login('root', '');
    const t = await open(browser, root);

    // A fresh node: the overview points at Join; a bad code is refused with kithd's reason.
    const t0 = Date.now();
    await visit(t, 'overview');
    check((await t.page.innerText('#view')).includes('not a member'), 'fresh node: the overview says it is not a member and links to Join');
    await shot(t, 'fresh-overview');
    await visit(t, 'join');
    await t.page.fill('#kith-join-code', 'not-an-invite');
    await t.page.click('button:has-text("Join")');
    await t.page.waitForSelector('#kith-join-msg .alert-message.warning', { timeout: 15000 });
    const refusal = await t.page.innerText('#kith-join-msg');
    check(/refused: \S/.test(refusal), `a bad code is refused with a reason: "${refusal.trim()}"`);

    // Join with the neighbour's invite, then the neighbour on the map, direct.
    await t.page.fill('#kith-join-code', env('KITH_LUCI_INVITE'));
    await t.page.fill('#kith-join-name', 'home');
    await shot(t, 'join');
    await t.page.click('button:has-text("Join")');
    await t.page.waitForSelector('#kith-joined', { timeout: 30000 });
    ok(`joined: "${(await t.page.innerText('#kith-joined')).trim()}"`);
    await t.page.click('#kith-joined a');
    await t.page.waitForSelector('#kith-map g.kith-node[data-name="nbr"][data-path="direct"]', { timeout: 40000 });
    ok('the neighbour is on the map with a direct link; this node is highlighted as self');
    const onMap = Date.now();
    check(await t.page.locator('#kith-map g.kith-node[data-path="self"][data-name="home"]').count() === 1, 'this node is on the map as "self"');
    await t.page.waitForSelector('#kith-map g.kith-node[data-name="fri"][data-path="relayed"]', { timeout: 60000 });
    ok('fri, whom home cannot reach directly, is on the map as relayed, with a dashed link from nbr');
    check((await texts(t, '#kith-why li')).some((x) => x.includes('fri') && x.includes('nbr')), 'the overview says why fri is not direct');
    check((await t.page.locator('#kith-map g.kith-node[data-name="nbr"] title').textContent())?.includes('direct'), 'hovering the neighbour says direct');
    // The neighbour's router by name: kithd's DNS on home answers nbr.<zone>, then a ping to it.
    const zone = kith('status').network.zone as string;
    const ns = env('KITH_LUCI_HOME_NS');
    const addr = execFileSync('ip', ['netns', 'exec', ns, 'dig', '+short', '+time=1', '+tries=3', '-p', '5353', '@127.0.0.1', `nbr.${zone}`, 'A'], { encoding: 'utf8' }).trim();
    let pinged = false;
    for (let i = 0; i < 20 && !pinged; i++) {
      try { execFileSync('ip', ['netns', 'exec', ns, 'ping', '-c1', '-W1', addr], { stdio: 'ignore' }); pinged = true; } catch { /* again */ }
    }
    check(pinged, `home pings nbr.${zone} (${addr})`);
    console.log(`  figure: fresh node to the neighbour on the map ${((onMap - t0) / 1000).toFixed(1)} s, to a ping by name ${((Date.now() - t0) / 1000).toFixed(1)} s (pages only; the invite was pasted, no terminal on home)`);
    await shot(t, 'overview');
    check(await t.page.locator('#kith-diag').evaluate((d) => !(d as HTMLDetailsElement).open), 'diagnostics are folded away');

    // Services: add, see, remove.
    await t.page.fill('#kith-svc-name', 'nas');
    await t.page.fill('#kith-svc-port', '445');
    await t.page.click('button:has-text("Add service")');
    await t.page.waitForSelector('#kith-services td:has-text("nas")', { timeout: 10000 });
    check(kith('services').services.some((x: { name: string }) => x.name === 'nas'), 'service "nas" added: kithd lists it');
    await t.page.click('#kith-services button:has-text("Remove")');
    await t.page.waitForSelector('#kith-services .placeholder, #kith-services em', { timeout: 10000 });
    check(!kith('services').services.some((x: { name: string }) => x.name === 'nas'), 'service "nas" removed');
    check((await t.page.innerText('#kith-services')).includes('publishes no services'), 'the empty services table says so (not "No data")');

    // Invite: QR that decodes back to the code.
    await visit(t, 'invite');
    await t.page.fill('#kith-inv-name', 'carol');
    await t.page.click('button:has-text("Create invite")');
    await t.page.waitForSelector('#kith-inv-qr svg', { timeout: 10000 });
    const code = await t.page.inputValue('#kith-inv-code');
    await t.page.locator('#kith-inv-qr svg').screenshot({ path: join(SHOTS, 'invite-qr.png') });
    const decoded = execFileSync('zbarimg', ['-q', '--raw', join(SHOTS, 'invite-qr.png')], { encoding: 'utf8' }).trim();
    check(code.length > 20 && decoded.toUpperCase() === code.toUpperCase(), `the invite's QR decodes (zbarimg) to the code (${code.length} characters)`);
    await t.page.waitForSelector('#kith-invites td:has-text("carol")', { timeout: 15000 });
    ok('the pending invite is listed with its expiry');
    await shot(t, 'invite');
    await t.page.click('#kith-invites tr:has(td:text-is("carol")) button:has-text("Withdraw")');
    await t.page.waitForSelector('#kith-inv-list-msg .alert-message.success', { timeout: 10000 });
    check(!kith('invites').invites.some((i: { name?: string }) => i.name === 'carol'), 'Withdraw takes the unused invite out of kithd (it admits nobody)');

    // Uplink and Members render; revoke shows its confirmation (cancelled here).
    await visit(t, 'uplink');
    check(await t.page.locator('#kith-exits').count() === 1, 'the uplink page lists donors');
    await visit(t, 'members');
    await t.page.click('#kith-members tr:has(td:text-is("nbr")) button:has-text("Revoke")');
    await t.page.waitForSelector('#kith-members-msg .alert-message.warning', { timeout: 10000 });
    check((await t.page.innerText('#kith-members-msg')).includes('founder'), 'revoking the founder is refused with kithd\'s reason');
    await t.page.click('#kith-members tr:has(td:text-is("fri")) button:has-text("Revoke")');
    await t.page.waitForSelector('#kith-revoke-confirm', { timeout: 10000 });
    ok('revoking fri asks for confirmation first (after a dry run)');
    await shot(t, 'members-confirm');
    await t.page.click('.modal button:has-text("Cancel")');
    check(kith('peers').peers.some((p: { name: string }) => p.name === 'fri'), 'cancelled: fri is still a member');
    await t.page.click('#kith-members tr:has(td:text-is("fri")) button:has-text("Revoke")');
    await t.page.click('#kith-revoke-confirm');
    await t.page.waitForSelector('#kith-members-msg .alert-message.success', { timeout: 10000 });
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) { gone = !kith('peers').peers.some((p: { name: string }) => p.name === 'fri'); if (!gone) await t.page.waitForTimeout(200); }
    check(gone, 'confirmed: fri is revoked and leaves home\'s peers');

    // Settings: Save & Apply changes kithd's running settings.
    await visit(t, 'config');
    check((await t.page.innerText('#view')).includes('(<network>.internal)'), 'the DNS description shows "<network>.internal"');
    await t.page.selectOption('select[id$=".main.log_level"]', 'debug');
    // A public endpoint, which devices need (their config points at it).
    await t.page.fill('[data-name="endpoint"] input[type="text"]', '192.0.2.10:51820');
    await t.page.press('[data-name="endpoint"] input[type="text"]', 'Enter');
    // LuCI reloads the page once the apply is confirmed.
    const reloaded = t.page.waitForEvent('load', { timeout: 30000 });
    await t.page.locator('.cbi-page-actions').getByText('Save & Apply').first().click();
    let level = '';
    for (let i = 0; i < 50 && level !== 'debug'; i++) { level = kith('status').config.logLevel; await t.page.waitForTimeout(200); }
    check(level === 'debug', `Save & Apply: kithd runs with log level "${level}"`);
    const eps = kith('status').node.endpoints as string[];
    check(eps.some((e) => e.endsWith(' 192.0.2.10:51820') && e.startsWith('configured')), `Save & Apply: kithd announces the endpoint from the form (${eps.join(', ')})`);
    await reloaded;
    ok('LuCI confirmed the apply and reloaded the page');


    // Devices: add one, its config as a QR for the WireGuard app; remove it.
    await visit(t, 'devices');
    await t.page.fill('#kith-client-name', 'phone');
    await t.page.click('button:has-text("Add device")');
    await t.page.waitForSelector('#kith-client-qr svg', { timeout: 10000 });
    await t.page.locator('#kith-client-qr svg').screenshot({ path: join(SHOTS, 'device-qr.png') });
    const conf = execFileSync('zbarimg', ['-q', '--raw', join(SHOTS, 'device-qr.png')], { encoding: 'utf8' });
    check(/\[Interface\]\nPrivateKey = \S{44}\n/.test(conf) && conf.includes('[Peer]'), 'the device QR decodes to a WireGuard config with its private key');
    await shot(t, 'devices-added');
    await t.page.click('.modal button:has-text("Done")');
    await t.page.click('#kith-clients button:has-text("Remove")');
    await t.page.waitForSelector('#kith-clients td:has-text("No devices yet")', { timeout: 10000 });
    check(kith('clients').clients.length === 0, 'device removed');

    // Every page, desktop and phone width, without console errors.
    for (const [width, tag] of [[1280, 'desktop'], [390, 'phone']] as const) {
      const tt = await open(browser, root, width);
      for (const p of PAGES) { await visit(tt, p); await tt.page.waitForTimeout(300); await shot(tt, `${p}-${tag}`); }
      check(tt.errors.length === 0, `all pages at ${width} px, no console errors${tt.errors.length ? ': ' + tt.errors.join(' | ') : ''}`);
      if (width === 390) {
        const wide = await tt.page.evaluate(() => document.documentElement.scrollWidth);
        check(wide <= 420, `phone width: the settings page is ${wide} px wide`);
      }
    }
    check(t.errors.length === 0, `the walk-through had no console errors${t.errors.length ? ': ' + t.errors.join(' | ') : ''}`);

    // A read-only login: no write controls, and a write call is refused.
    const ro = await login('test', 'test');
    check(ro.readonly, 'the "test" login has read-only access to luci-app-kith');
    const tr = await open(browser, ro);
    for (const p of PAGES) {
      await visit(tr, p);
      const writes = await tr.page.evaluate(() => Array.from(document.querySelectorAll('#view button, #view .cbi-button, #view .cbi-dropdown'))
        .filter((b) => /cbi-button-(add|remove|action|negative|positive|apply|save)/.test(b.className) && !(b as HTMLButtonElement).disabled &&
          !b.closest('[disabled]') && (b as HTMLElement).offsetParent !== null).length);
      check(writes === 0, `read-only: ${p} shows no write controls (${writes})`);
      await shot(tr, `${p}-readonly`);
    }
    const [rc] = await ubusRpc(ro.sid, 'kith', 'invite', { name: 'x' });
    check(rc === -32002, `read-only: kith.invite is refused by uhttpd and rpcd (JSON-RPC error ${rc}, -32002 = access denied)`);
    check(kith("invites").invites.every((i: { name?: string }) => i.name !== "x"), "read-only: the refused invite was not created");
    check(tr.errors.length === 0, `read-only pages: no console errors${tr.errors.length ? ': ' + tr.errors.join(' | ') : ''}`);
  } catch (e) {
    for (const c of browser.contexts()) for (const p of c.pages()) console.log(`  (page ${p.url()} says: ${(await p.innerText('#maincontent').catch(() => '?')).replace(/\s+/g, ' ').slice(0, 600)})`);
    throw e;
  } finally {
    await browser.close();
  }
  writeFileSync(join(SHOTS, 'RESULT'), `${pass} passed, ${fail} failed\n`);
  console.log(`test-luci: ${pass} passed, ${fail} failed; screenshots in ${SHOTS}`);
  if (fail) process.exitCode = 1;
}

main().catch((e) => { console.log(`  FAIL ${e instanceof Error ? e.stack : e}`); process.exitCode = 1; });

