// Serves a ZoneInput JSON file with the Node platform adapter, for the
// conformance tests and the benchmark:
//   npx tsx test/dns/serve-zone.ts --port 5399 --zone-json zone.json
// Prints "listening ADDR:PORT..." on stdout once ready.
import { nodePlatform } from '../../src/platform/node.ts';
import { runStandaloneDns } from '../../src/dns/standalone.ts';

const platform = nodePlatform();
runStandaloneDns(platform, platform.args).catch((e: Error) => {
  platform.stderr(`serve-zone: ${e.message}\n`);
  platform.exit(1);
});
