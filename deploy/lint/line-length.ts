// Part of `npm run lint`: no line over 120 characters in the TypeScript and JavaScript sources. Biome wraps code at
// 120 but never splits a string, a template literal or a comment; those are written wrapped, and this says where one
// is not: `file:line: N characters (limit 120)` for each, exit 1 on any.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const LIMIT = 120;
const PATTERNS = ['*.ts', '*.mts', '*.cts', '*.js', '*.mjs', '*.cjs'];

// Tracked and new (not ignored) files, as Biome sees the tree; a file deleted in the working tree is skipped.
const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', ...PATTERNS], {
  encoding: 'utf8',
});
const files = [...new Set(listed.split('\0'))].filter((file) => file !== '' && existsSync(file));

const long: string[] = [];
for (const file of files) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      // Code points, as an editor counts columns: an emoji or an accented letter is one character.
      const length = [...line].length;
      if (length > LIMIT) long.push(`${file}:${index + 1}: ${length} characters (limit ${LIMIT})`);
    });
}
if (long.length > 0) {
  process.stderr.write(
    `${long.join('\n')}\n${long.length} line(s) over ${LIMIT} characters: wrap the string or comment\n`,
  );
  process.exit(1);
}
