// Parses Mermaid files with the real `mermaid` package (jsdom supplies the DOM it needs).
// Usage: NODE_PATH=<dir with node_modules> node check.mjs FILE...   (exit 1 on the first error)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const base = path.resolve(process.env.MERMAID_CHECK_DIR || process.cwd());
const require = createRequire(path.join(base, 'package.json'));
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import(require.resolve('mermaid'))).default;
mermaid.initialize({ startOnLoad: false, securityLevel: 'loose' });

let failed = 0;
for (const f of process.argv.slice(2)) {
  const text = readFileSync(f, 'utf8');
  try {
    const r = await mermaid.parse(text);
    if (!r) throw new Error('parse returned false');
    console.log(`ok ${f} (${r.diagramType})`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${f}: ${String(e.message || e).split('\n').slice(0, 6).join('\n')}`);
  }
}
process.exit(failed ? 1 : 0);
