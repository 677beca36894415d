// The crypto benchmark under Node.js (bench/crypto.sh).
import { nodePlatform } from '../../src/platform/node.ts';
import { runBench } from './run.ts';

const p = nodePlatform();
runBench(p).then(() => p.exit(0), (e: Error) => { p.stderr(`crypto bench: ${e.message}\n`); p.exit(1); });
