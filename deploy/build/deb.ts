// Writes one Debian binary package from a staged tree with dpkg-deb: control file, maintainer scripts, conffiles.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DebControl {
  name: string;
  version: string;
  architecture: string;
  depends: string[];
  recommends?: string[];
  suggests?: string[];
  summary: string;
  description: string;
  conffiles: string[];
  scripts: Partial<Record<'postinst' | 'prerm' | 'postrm', string>>;
}

const MAINTAINER = 'offhook maintainers <offhook@localhost>';

function installedSizeKiB(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    bytes += entry.isDirectory() ? installedSizeKiB(path) * 1024 : statSync(path).size;
  }
  return Math.ceil(bytes / 1024);
}

/** `root` holds the package's files as installed (root/usr/..., root/etc/...); writes <out>/<name>_<ver>_<arch>.deb. */
export function writeDeb(root: string, control: DebControl, out: string): string {
  const size = installedSizeKiB(root);
  const debian = join(root, 'DEBIAN');
  mkdirSync(debian, { recursive: true });
  const fields = [
    `Package: ${control.name}`,
    `Version: ${control.version}`,
    `Architecture: ${control.architecture}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${size}`,
    `Depends: ${control.depends.join(', ')}`,
    ...(control.recommends?.length ? [`Recommends: ${control.recommends.join(', ')}`] : []),
    ...(control.suggests?.length ? [`Suggests: ${control.suggests.join(', ')}`] : []),
    'Section: admin',
    'Priority: optional',
    'Homepage: https://github.com/offhook/offhook',
    `Description: ${control.summary}`,
    ...control.description
      .trim()
      .split('\n')
      .map((line) => (line.trim() ? ` ${line.trim()}` : ' .')),
  ];
  writeFileSync(join(debian, 'control'), `${fields.join('\n')}\n`);
  if (control.conffiles.length) writeFileSync(join(debian, 'conffiles'), `${control.conffiles.join('\n')}\n`);
  for (const [name, body] of Object.entries(control.scripts)) {
    writeFileSync(join(debian, name), `#!/bin/sh\nset -e\n${body.trim()}\n\nexit 0\n`);
    chmodSync(join(debian, name), 0o755);
  }
  const file = join(out, `${control.name}_${control.version}_${control.architecture}.deb`);
  // --root-owner-group: files owned by root whatever user builds; xz as Debian's own packages are.
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return file;
}
