import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCpuinfo, readInventory } from '../../agent/resources/inventory.ts';
import { tempDir } from './helpers.ts';

/** Two sockets, two cores each, hyper-threaded: 8 logical processors, 4 physical cores. */
const MODEL = 'Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz';
const CPUINFO = Array.from({ length: 8 }, (_, i) =>
  [
    `processor\t: ${i}`,
    'vendor_id\t: GenuineIntel',
    'model name\t: Intel(R) Xeon(R)  CPU E5-2620 v4 @ 2.10GHz',
    `physical id\t: ${i >> 2}`,
    `core id\t\t: ${(i >> 1) & 1}`,
    '',
  ].join('\n'),
).join('\n');

describe('agent inventory (OS and CPU labels without systeminformation)', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('counts logical and physical cores and keeps the model name', () => {
    assert.deepEqual(parseCpuinfo(CPUINFO), { model: MODEL, cores: 8, physicalCores: 4 });
  });

  it('reads NAME and VERSION_ID from os-release', async () => {
    const osRelease = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n';
    writeFileSync(join(dir.path, 'os-release'), osRelease);
    writeFileSync(join(dir.path, 'cpuinfo'), CPUINFO);
    const paths = { osRelease: join(dir.path, 'os-release'), cpuinfo: join(dir.path, 'cpuinfo') };
    const [os, cpu] = await readInventory(paths);
    const { name, version } = os!.labels!;
    assert.deepEqual({ name, version }, { name: 'Debian GNU/Linux', version: '12' });
    assert.deepEqual(cpu!.labels, { model: MODEL, cores: '8', physical_cores: '4' });
  });
});
