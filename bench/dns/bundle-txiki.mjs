// Bundles bench/dns/serve-zone-txiki.ts for txiki.js with the options of the
// txiki target in build/bundle.mjs (the npm 'buffer' package stands in for
// Node's Buffer).  Usage: node bench/dns/bundle-txiki.mjs OUTFILE
import { build } from 'esbuild';
import { targets } from '../../build/bundle.mjs';

const outfile = process.argv[2];
if (!outfile) { console.error('usage: bundle-txiki.mjs OUTFILE'); process.exit(2); }
const txiki = targets.find((t) => t.outdir === 'dist/txiki');
const { entryPoints: _e, outdir: _o, outExtension: _x, ...opts } = txiki;
await build({ ...opts, entryPoints: ['bench/dns/serve-zone-txiki.ts'], outfile });
