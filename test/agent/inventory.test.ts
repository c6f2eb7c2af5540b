import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCpuinfo, readInventory } from '../../agent/resources/inventory.ts';
import { tempDir } from './helpers.ts';

/** Two sockets, two cores each, hyper-threaded: 8 logical processors, 4 physical cores. */
const CPUINFO = Array.from({ length: 8 }, (_, i) => `processor\t: ${i}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)  CPU E5-2620 v4 @ 2.10GHz\nphysical id\t: ${i >> 2}\ncore id\t\t: ${(i >> 1) & 1}\n`).join('\n');

describe('agent inventory (OS and CPU labels without systeminformation)', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('counts logical and physical cores and keeps the model name', () => {
    assert.deepEqual(parseCpuinfo(CPUINFO), { model: 'Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz', cores: 8, physicalCores: 4 });
  });

  it('reads NAME and VERSION_ID from os-release', async () => {
    writeFileSync(join(dir.path, 'os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n');
    writeFileSync(join(dir.path, 'cpuinfo'), CPUINFO);
    const [os, cpu] = await readInventory({ osRelease: join(dir.path, 'os-release'), cpuinfo: join(dir.path, 'cpuinfo') });
    assert.deepEqual({ name: os!.labels!.name, version: os!.labels!.version }, { name: 'Debian GNU/Linux', version: '12' });
    assert.deepEqual(cpu!.labels, { model: 'Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz', cores: '8', physical_cores: '4' });
  });
});
