// After tsc: the published declarations import 'noise-handshake', which ships no types of its own
// (src/secure/noise-handshake.d.ts declares them, and tsc never copies a .d.ts). Copy that
// declaration into dist beside the files that import the module and reference it from them, so a
// program built on @netchat/core typechecks strictly without skipLibCheck.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const declaration = 'dist/secure/noise-handshake.d.ts';
copyFileSync('src/secure/noise-handshake.d.ts', declaration);
for (const entry of readdirSync('dist', { recursive: true, encoding: 'utf8' })) {
  const file = join('dist', entry);
  if (!file.endsWith('.d.ts') || file === declaration) continue;
  const text = readFileSync(file, 'utf8');
  if (!/from 'noise-handshake'/.test(text)) continue;
  const path = relative(dirname(file), declaration);
  writeFileSync(file, `/// <reference path="${path.startsWith('.') ? path : `./${path}`}" />\n${text}`);
}
