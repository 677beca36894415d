// UPnP-IGD port mapping, the wire part (no I/O): the SSDP search and its
// answer, the gateway's device description (which service maps ports, and
// where it is controlled), and the SOAP calls GetExternalIPAddress,
// AddPortMapping and DeletePortMapping over HTTP/1.1. Everything from the
// router is parsed defensively: bounded sizes, only what is needed, and a bad
// message is a DecodeError, never another exception.
import { DecodeError } from './codec.ts';
import { utf8Decode, utf8Encode } from './bytes.ts';
import { parseIPv4 } from './ip.ts';

export const SSDP_PORT = 1900;
export const SSDP_MULTICAST = '239.255.255.250';
/** Bounds on what the router sends: an SSDP answer, a whole HTTP response (description or SOAP). */
export const MAX_SSDP_BYTES = 2048;
export const MAX_HTTP_BYTES = 65536;

const IGD = 'urn:schemas-upnp-org:device:InternetGatewayDevice:1';
/** Services that map ports, best first. */
export const WAN_SERVICES = ['urn:schemas-upnp-org:service:WANIPConnection:2', 'urn:schemas-upnp-org:service:WANIPConnection:1', 'urn:schemas-upnp-org:service:WANPPPConnection:1'];

/** The M-SEARCH request for an Internet gateway device. */
export function ssdpSearch(): Uint8Array {
  return utf8Encode(`M-SEARCH * HTTP/1.1\r\nHOST: ${SSDP_MULTICAST}:${SSDP_PORT}\r\nMAN: "ssdp:discover"\r\nMX: 2\r\nST: ${IGD}\r\n\r\n`);
}

export interface HttpUrl { host: string; port: number; path: string }

/** An http:// URL with an IPv4 host (a router's own address; no names, no https). */
export function parseHttpUrl(s: string): HttpUrl {
  const m = /^http:\/\/([0-9.]+)(?::(\d{1,5}))?(\/[\x21-\x7e]*)?$/i.exec(s.trim());
  if (!m || parseIPv4(m[1]!) === null) throw new DecodeError(`upnp: not an http URL on an IPv4 address: "${s.slice(0, 80)}"`);
  const port = m[2] ? Number(m[2]) : 80;
  if (port < 1 || port > 65535) throw new DecodeError('upnp: bad port in URL');
  return { host: m[1]!, port, path: m[3] ?? '/' };
}

/** Header lines of an HTTP-style message (lowercased names), and where its body starts. */
function headers(text: string): { status: string; fields: Map<string, string>; bodyAt: number } {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new DecodeError('upnp: no end of headers');
  const lines = text.slice(0, end).split('\r\n');
  const fields = new Map<string, string>();
  for (const l of lines.slice(1, 64)) {
    const i = l.indexOf(':');
    if (i > 0) fields.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { status: lines[0]!, fields, bodyAt: end + 4 };
}

/** An SSDP answer: the description's URL, if it is an Internet gateway's. */
export function parseSsdpResponse(b: Uint8Array): HttpUrl {
  if (b.length > MAX_SSDP_BYTES) throw new DecodeError('upnp: SSDP answer too long');
  const text = utf8Decode(b);
  const h = headers(text.includes('\r\n\r\n') ? text : `${text}\r\n\r\n`);
  if (!/^HTTP\/1\.[01] 200\b/.test(h.status)) throw new DecodeError('upnp: SSDP answer is not 200 OK');
  const st = h.fields.get('st') ?? '';
  if (!/InternetGatewayDevice|WAN(IP|PPP)Connection/.test(st)) throw new DecodeError('upnp: SSDP answer for another device');
  const loc = h.fields.get('location');
  if (!loc) throw new DecodeError('upnp: SSDP answer without LOCATION');
  return parseHttpUrl(loc);
}

/** A whole HTTP/1.x response: status code and body (Content-Length honoured when given). */
export function parseHttpResponse(b: Uint8Array): { code: number; body: string } {
  if (b.length > MAX_HTTP_BYTES) throw new DecodeError('upnp: HTTP response too long');
  const text = utf8Decode(b);
  const h = headers(text);
  const m = /^HTTP\/1\.[01] (\d{3})\b/.exec(h.status);
  if (!m) throw new DecodeError('upnp: not an HTTP response');
  if (/chunked/i.test(h.fields.get('transfer-encoding') ?? '')) return { code: Number(m[1]), body: unchunk(text.slice(h.bodyAt)) };
  const len = h.fields.get('content-length');
  const body = text.slice(h.bodyAt);
  if (len !== undefined) {
    if (!/^\d{1,6}$/.test(len)) throw new DecodeError('upnp: bad Content-Length');
    if (utf8Encode(body).length < Number(len)) throw new DecodeError('upnp: HTTP body cut short');
  }
  return { code: Number(m[1]), body };
}

function unchunk(s: string): string {
  let out = '';
  for (let i = 0, guard = 0; guard < 4096; guard++) {
    const nl = s.indexOf('\r\n', i);
    if (nl < 0) throw new DecodeError('upnp: bad chunk');
    const n = parseInt(s.slice(i, nl).split(';')[0]!.trim(), 16);
    if (!Number.isInteger(n) || n < 0) throw new DecodeError('upnp: bad chunk size');
    if (n === 0) return out;
    out += s.slice(nl + 2, nl + 2 + n);
    i = nl + 2 + n + 2;
  }
  throw new DecodeError('upnp: too many chunks');
}

/** The text of the first <tag> element (namespace prefix allowed) in xml, XML entities decoded. */
function element(xml: string, tag: string): string | null {
  const m = new RegExp(`<(?:[A-Za-z0-9_-]+:)?${tag}(?:\\s[^>]*)?>([^<]{0,1024})</(?:[A-Za-z0-9_-]+:)?${tag}>`).exec(xml);
  return m ? m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&').trim() : null;
}

export interface WanService { serviceType: string; control: HttpUrl }

/** From the device description at `at`: the best port-mapping service and its control URL. */
export function parseDescription(body: string, at: HttpUrl): WanService {
  if (body.length > MAX_HTTP_BYTES) throw new DecodeError('upnp: description too long');
  const found: WanService[] = [];
  for (const m of body.matchAll(/<service>([\s\S]{0,4096}?)<\/service>/g)) {
    const type = element(m[1]!, 'serviceType');
    const url = element(m[1]!, 'controlURL');
    if (!type || !url || !WAN_SERVICES.includes(type)) continue;
    const control = /^http:/i.test(url) ? parseHttpUrl(url) : { host: at.host, port: at.port, path: url.startsWith('/') ? url : `/${url}` };
    if (!/^\/[\x21-\x7e]*$/.test(control.path)) continue;
    found.push({ serviceType: type, control });
  }
  found.sort((a, b) => WAN_SERVICES.indexOf(a.serviceType) - WAN_SERVICES.indexOf(b.serviceType));
  if (!found.length) throw new DecodeError('upnp: the gateway offers no WANIPConnection or WANPPPConnection service');
  return found[0]!;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An HTTP GET of the description. */
export function httpGet(u: HttpUrl): Uint8Array {
  return utf8Encode(`GET ${u.path} HTTP/1.1\r\nHost: ${u.host}:${u.port}\r\nConnection: close\r\n\r\n`);
}

/** A SOAP action as an HTTP POST to the service's control URL. */
export function soapRequest(s: WanService, action: string, args: [string, string | number][]): Uint8Array {
  const body = '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
    + `<s:Body><u:${action} xmlns:u="${s.serviceType}">${args.map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`).join('')}</u:${action}></s:Body></s:Envelope>\r\n`;
  const bytes = utf8Encode(body);
  return utf8Encode(`POST ${s.control.path} HTTP/1.1\r\nHost: ${s.control.host}:${s.control.port}\r\nContent-Type: text/xml; charset="utf-8"\r\n`
    + `SOAPAction: "${s.serviceType}#${action}"\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${body}`);
}

export type SoapResult = { ok: true; values: Map<string, string> } | { ok: false; code: number | null; description: string };

/** A SOAP answer: the named values of a success, or the UPnP error code and text of a fault. */
export function parseSoapResponse(b: Uint8Array, names: readonly string[]): SoapResult {
  const r = parseHttpResponse(b);
  if (r.code === 200) {
    const values = new Map<string, string>();
    for (const n of names) {
      const v = element(r.body, n);
      if (v === null) throw new DecodeError(`upnp: answer without ${n}`);
      values.set(n, v);
    }
    return { ok: true, values };
  }
  const code = element(r.body, 'errorCode');
  return { ok: false, code: code !== null && /^\d{1,4}$/.test(code) ? Number(code) : null, description: (element(r.body, 'errorDescription') ?? `HTTP ${r.code}`).slice(0, 120) };
}
