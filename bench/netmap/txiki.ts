// The netmap benchmark under txiki.js (bench/netmap.sh bundles it).
import { txikiPlatform } from '../../src/platform/txiki.ts';
import { runBench } from './run.ts';

const p = txikiPlatform();
runBench(p).then(() => p.exit(0), (e: Error) => { p.stderr(`netmap bench: ${e.message}\n`); p.exit(1); });
