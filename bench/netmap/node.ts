// The netmap benchmark under Node.js (bench/netmap.sh bundles it).
import { nodePlatform } from '../../src/platform/node.ts';
import { runBench } from './run.ts';

const p = nodePlatform();
runBench(p).then(() => p.exit(0), (e: Error) => { p.stderr(`netmap bench: ${e.message}\n`); p.exit(1); });
