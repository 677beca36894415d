// Entry point: the kith CLI on txiki.js.
import { txikiPlatform } from '../platform/txiki.ts';
import { runKith } from '../cli/kith.ts';

void runKith(txikiPlatform());
