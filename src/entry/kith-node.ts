// Entry point: the kith CLI on Node.js.
import { nodePlatform } from '../platform/node.ts';
import { runKith } from '../cli/kith.ts';

void runKith(nodePlatform());
