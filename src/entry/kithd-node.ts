// Entry point: kithd on Node.js.
import { nodePlatform } from '../platform/node.ts';
import { runKithd } from '../daemon/kithd.ts';

void runKithd(nodePlatform());
