import { readdirSync } from 'node:fs';
import { summary } from './summary.ts';

/**
 * `npm run bench` runs every bench/<name>.bench.ts; `npm run bench -- agent collector` runs those.
 * Each module exports `run(): Promise<void>` and prints its own table through bench/lib.ts; at the end one table
 * of every row with a baseline (offhook, the peer, the ratio) from bench/results/*.json (bench/summary.ts).
 * `npm run bench -- --summary` runs nothing: it only rewrites that table (bench/results/summary.md) from the results.
 */
const available = readdirSync(new URL('.', import.meta.url))
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.replace(/\.bench\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
for (const name of process.argv.includes('--summary') ? [] : wanted.length > 0 ? wanted : available) {
  const module = (await import(new URL(`./${name}.bench.ts`, import.meta.url).href)) as { run: () => Promise<void> };
  await module.run();
}
process.stdout.write(`${summary()}\n`);
process.exit(0);
