// UPnP-IGD wire (src/core/upnp.ts): the SSDP answer, the device description,
// the SOAP calls and answers, in the shapes miniupnpd sends; and fuzzing of
// every parser (bad input is a DecodeError, never another exception).
//   KITH_FUZZ_LONG=1 npx tsx test/core/upnp.test.ts   (1,000,000 inputs per target)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseSsdpResponse, parseDescription, parseSoapResponse, parseHttpResponse, parseHttpUrl, soapRequest, ssdpSearch, httpGet, MAX_SSDP_BYTES,
} from '../../src/core/upnp.ts';
import { DecodeError } from '../../src/core/codec.ts';
import { utf8Decode, utf8Encode } from '../../src/core/bytes.ts';
import { mulberry32, seededBytes } from '../support/rand.ts';
import { mutator } from '../support/fuzz.ts';

const isDecode = (e: unknown) => e instanceof DecodeError;
const SEED = Number(process.env.KITH_SEED ?? 1234);
const FUZZ = Number(process.env.KITH_FUZZ ?? (process.env.KITH_FUZZ_LONG === '1' ? 1_000_000 : 20_000));

const SSDP = 'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n'
  + 'USN: uuid:6b697468-706d-4000-8000-000000000001::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\n'
  + 'SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nLOCATION: http://198.18.1.1:45123/rootDesc.xml\r\n\r\n';
const DESC = '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>'
  + '<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/ctl/L3F</controlURL></service></serviceList>'
  + '<deviceList><device><deviceList><device><serviceList>'
  + '<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>/ctl/IPConn</controlURL></service>'
  + '</serviceList></device></deviceList></device></deviceList></device></root>';
const http = (status: string, body: string, extra = '') => utf8Encode(`HTTP/1.1 ${status}\r\nContent-Type: text/xml\r\n${extra}Content-Length: ${utf8Encode(body).length}\r\n\r\n${body}`);
const soapOk = (action: string, inner: string) => http('200 OK', `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:${action}Response xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">${inner}</u:${action}Response></s:Body></s:Envelope>`);
const FAULT = http('500 Internal Server Error', '<s:Envelope><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>');

test('SSDP: the search, and an answer gives the description URL; other devices and bad answers are refused', () => {
  assert.match(utf8Decode(ssdpSearch()), /^M-SEARCH \* HTTP\/1\.1\r\n[\s\S]*ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n$/);
  assert.equal(parseSsdpResponse(utf8Encode(SSDP)), { host: '198.18.1.1', port: 45123, path: '/rootDesc.xml' });
  assert.throws(() => parseSsdpResponse(utf8Encode(SSDP.replace('InternetGatewayDevice', 'MediaServer').replace('InternetGatewayDevice', 'MediaServer'))), isDecode);
  assert.throws(() => parseSsdpResponse(utf8Encode(SSDP.replace('200 OK', '404 Not Found'))), isDecode);
  assert.throws(() => parseSsdpResponse(utf8Encode(SSDP.replace('http://198.18.1.1:45123', 'http://router.lan:45123'))), isDecode);
  assert.throws(() => parseSsdpResponse(new Uint8Array(MAX_SSDP_BYTES + 1)), isDecode);
  assert.throws(() => parseHttpUrl('https://198.18.1.1/x'), isDecode);
});

test('description: the WANIPConnection control URL (relative to the description), not another service\'s', () => {
  const at = { host: '198.18.1.1', port: 45123, path: '/rootDesc.xml' };
  assert.equal(parseDescription(DESC, at), { serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1', control: { host: '198.18.1.1', port: 45123, path: '/ctl/IPConn' } });
  const ppp = DESC.replace('WANIPConnection:1', 'WANPPPConnection:1').replace('/ctl/IPConn', 'http://198.18.1.1:5000/ppp');
  assert.equal(parseDescription(ppp, at).control, { host: '198.18.1.1', port: 5000, path: '/ppp' });
  assert.throws(() => parseDescription(DESC.replace('WANIPConnection:1', 'WANCommonInterfaceConfig:1'), at), /no WANIPConnection/);
  assert.equal(parseHttpResponse(http('200 OK', DESC)).body, DESC);
  assert.equal(parseHttpResponse(utf8Encode(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`)).body, 'hello world');
  assert.throws(() => parseHttpResponse(utf8Encode('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort')), /cut short/);
});

test('SOAP: the request carries the action, service and escaped arguments; answers give values or the UPnP error', () => {
  const svc = { serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1', control: { host: '198.18.1.1', port: 45123, path: '/ctl/IPConn' } };
  const req = utf8Decode(soapRequest(svc, 'AddPortMapping', [['NewExternalPort', 51820], ['NewPortMappingDescription', 'kith <&>']]));
  assert.match(req, /^POST \/ctl\/IPConn HTTP\/1\.1\r\nHost: 198\.18\.1\.1:45123\r\n/);
  assert.match(req, /SOAPAction: "urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"/);
  assert.match(req, /<NewExternalPort>51820<\/NewExternalPort><NewPortMappingDescription>kith &lt;&amp;&gt;<\/NewPortMappingDescription>/);
  const body = req.slice(req.indexOf('\r\n\r\n') + 4);
  assert.is(Number(/Content-Length: (\d+)/.exec(req)![1]), utf8Encode(body).length);
  assert.match(utf8Decode(httpGet({ host: '198.18.1.1', port: 45123, path: '/rootDesc.xml' })), /^GET \/rootDesc\.xml HTTP\/1\.1\r\nHost: 198\.18\.1\.1:45123\r\n/);
  const ip = parseSoapResponse(soapOk('GetExternalIPAddress', '<NewExternalIPAddress>198.51.100.1</NewExternalIPAddress>'), ['NewExternalIPAddress']);
  assert.ok(ip.ok && ip.values.get('NewExternalIPAddress') === '198.51.100.1');
  assert.equal(parseSoapResponse(FAULT, []), { ok: false, code: 718, description: 'ConflictInMappingEntry' });
  assert.throws(() => parseSoapResponse(soapOk('GetExternalIPAddress', ''), ['NewExternalIPAddress']), /without NewExternalIPAddress/);
});

test(`fuzz: ${FUZZ} random and mutated router messages to every parser (seed ${SEED})`, () => {
  const rand = mulberry32(SEED);
  const rnd = seededBytes(SEED);
  const mutate = mutator(rand, rnd);
  const at = { host: '198.18.1.1', port: 45123, path: '/rootDesc.xml' };
  const valid = [utf8Encode(SSDP), http('200 OK', DESC), FAULT, soapOk('GetExternalIPAddress', '<NewExternalIPAddress>198.51.100.1</NewExternalIPAddress>')];
  let rejected = 0;
  for (let i = 0; i < FUZZ; i++) {
    const input = rand() < 0.2 ? rnd(Math.floor(rand() * 200)) : mutate(valid[Math.floor(rand() * valid.length)]!);
    for (const parse of [
      () => parseSsdpResponse(input),
      () => parseDescription(parseHttpResponse(input).body, at),
      () => parseSoapResponse(input, ['NewExternalIPAddress']),
    ]) {
      try { parse(); } catch (e) {
        rejected++;
        if (!(e instanceof DecodeError)) assert.unreachable(`${JSON.stringify(utf8Decode(input).slice(0, 200))} threw ${(e as Error).name}: ${(e as Error).message} (KITH_SEED=${SEED})`);
      }
    }
  }
  assert.ok(rejected > FUZZ / 2, `only ${rejected} of ${3 * FUZZ} rejected: is the fuzzer reaching the parsers?`);
});

test.run();
