// Prints the gzipped size of dist/buyflow.min.js (zlib level 9) and fails when it is over
// the budget: 2,048 bytes, the most a seller's page pays for our script.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 2048;
const file = new URL('../dist/buyflow.min.js', import.meta.url);
const raw = readFileSync(file);
const gzipped = gzipSync(raw, { level: 9 }).length;
console.log(`dist/buyflow.min.js: ${raw.length} bytes, ${gzipped} bytes gzipped (budget ${BUDGET})`);
if (gzipped > BUDGET) {
  console.error(`over budget by ${gzipped - BUDGET} bytes`);
  process.exit(1);
}
