#!/usr/bin/env node
// Runs the test suite with node:test. Node 20's --test takes no globs and finds nothing
// in a directory argument, so the file list is built here. Usage:
//   npm test                 all *.test.ts files
//   npm test -- consensus    only files whose path contains "consensus"
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const skipDirs = new Set(['node_modules', 'dist', '.git', 'e2e', '.tmp']);

function find(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!skipDirs.has(name)) find(p, out);
    } else if (name.endsWith('.test.ts')) {
      out.push(relative(root, p));
    }
  }
  return out;
}

const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const extra = process.argv.slice(2).filter((a) => a.startsWith('-'));
let files = find(root, []).sort();
if (filters.length > 0) files = files.filter((f) => filters.some((flt) => f.includes(flt)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...extra, ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(res.status ?? 1);
