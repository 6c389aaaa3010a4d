#!/usr/bin/env node
// The `yurt` command. `yurt agent ...` runs the long-lived agent; every other command is the
// CLI, which only talks HTTP to an agent. The compiled build (made by `npm ci` through the
// `prepare` script, or `npm run build`) is used when present; otherwise, or with
// YURT_FROM_SOURCE=1, the TypeScript sources are loaded through tsx.
import { existsSync } from 'node:fs';

const entry = process.argv[2] === 'agent' ? 'agent/main' : 'cli/main';
const built = new URL(`../dist/${entry}.js`, import.meta.url);
if (existsSync(built) && !process.env.YURT_FROM_SOURCE) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL(`../${entry}.ts`, import.meta.url).href);
}
