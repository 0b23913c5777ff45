import { kafkaClasspath } from './kafka';
import { postgresBin } from './postgres';
import { temporalCli, timeSkippingServer } from './temporal';

/**
 * Installs (into the cache outside the repo) whatever the local stack lacks, and says where each
 * piece comes from. Starting the stack does the same lazily; CI calls this first to time it.
 */
const began = Date.now();
const pieces: [string, () => string][] = [
  ['temporal CLI', temporalCli],
  ['time-skipping test server', timeSkippingServer],
  ['kafka classpath', kafkaClasspath],
  ['postgres binaries', postgresBin],
];
for (const [name, locate] of pieces) console.log(`${name.padEnd(26)} ${locate()}`);
console.log(`stack installed in ${((Date.now() - began) / 1000).toFixed(1)} s`);
