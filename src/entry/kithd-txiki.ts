// Entry point: kithd on txiki.js.
import { txikiPlatform } from '../platform/txiki.ts';
import { runKithd } from '../daemon/kithd.ts';

void runKithd(txikiPlatform());
