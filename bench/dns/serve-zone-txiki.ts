// The standalone DNS server on txiki.js, for the benchmark's kithd-txiki row:
// bundled by bench/dns/bench.sh when TJS names a txiki.js binary.
//   tjs run serve-zone-txiki.js --port 5399 --zone-json zone.json
import { txikiPlatform } from '../../src/platform/txiki.ts';
import { runStandaloneDns } from '../../src/dns/standalone.ts';

const platform = txikiPlatform();
runStandaloneDns(platform, platform.args).catch((e: Error) => {
  platform.stderr(`serve-zone: ${e.message}\n`);
  platform.exit(1);
});
