// Builds dist/buyflow.min.js from src/ with esbuild: one minified IIFE, no comments,
// the version from package.json compiled in.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const here = new URL('..', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', here), 'utf8'));

await build({
  absWorkingDir: here.pathname,
  entryPoints: ['src/buyflow.js'],
  outfile: 'dist/buyflow.min.js',
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'none',
  define: { VERSION: JSON.stringify(version) },
  logLevel: 'warning',
});
console.log(`built dist/buyflow.min.js (version ${version})`);
