import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLine } from '../../native/index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const STUB = join(HERE, 'fixtures', 'vpb-stub.c');
const SHIM_SCRIPT = join(HERE, '../../native/vpb-shim.sh');

/** Two driver generations: the same functions, the second with other parameter types (so other mangled names). */
const GENERATIONS = {
  '1999': { header: join(HERE, 'fixtures/vpbapi-1999'), defines: [] as string[] },
  gen4: {
    header: join(HERE, 'fixtures/vpbapi-gen4'),
    defines: [
      '-DVPB_STR=const std::string &',
      '-DVPB_CSTR(s)=(s).c_str()',
      '-DVPB_MASK=unsigned long',
      '-DVPB_RECMODE=AudioCompress',
      '-DVPB_ERRSTR=const char *',
    ],
  },
};
type Generation = keyof typeof GENERATIONS;

describe("native vpb: the shim compiled against the driver's vpbapi.h, and the dlsym lookup without it", function () {
  this.timeout(120_000);
  let dir: string;
  const built: Record<string, { library: string; shim: string; shimOutput: string }> = {};

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'offhook-vpbshim-'));
    for (const [name, generation] of Object.entries(GENERATIONS)) {
      const libDir = join(dir, name);
      mkdirSync(libDir);
      const library = join(libDir, 'libvpb.so');
      // The stub as the driver would be built: C++, from its own header, exporting the mangled names. Each
      // generation gets its own soname so both can be loaded into this one test process (a host has one libvpb).
      const soname = `libvpb.so.${name}`;
      execFileSync('g++', [
        '-x',
        'c++',
        '-shared',
        '-fPIC',
        '-O1',
        `-DVPB_STUB_HEADER="${generation.header}/vpbapi.h"`,
        ...generation.defines,
        `-Wl,-soname,${soname}`,
        '-o',
        library,
        STUB,
        '-lpthread',
      ]);
      symlinkSync('libvpb.so', join(libDir, soname));
      const shim = join(libDir, 'offhook_vpb_shim.so');
      const shimArgs = ['--include', generation.header, '--lib', libDir, '--out', shim];
      const shimOutput = execFileSync('bash', [SHIM_SCRIPT, ...shimArgs], { encoding: 'utf8' });
      built[name] = { library, shim, shimOutput };
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** One outbound call's worth of libvpb calls, through whichever binding `vpb` selects; returns the stub's log. */
  type Binding = { shimPath?: string; libraryPath?: string };
  async function call(vpb: Binding, name: string): Promise<{ calls: string[]; binding: string }> {
    const log = join(dir, `${name}.log`);
    const control = join(dir, `${name}.control`);
    writeFileSync(control, '');
    process.env.OFFHOOK_VPB_STUB_LOG = log;
    process.env.OFFHOOK_VPB_STUB_CONTROL = control;
    delete process.env.OFFHOOK_VPB_STUB_OPEN_FAIL; // another test file's failing-open case may have left it set
    const line = await openLine({ backend: 'vpb', vpb });
    const binding = line.binding;
    try {
      await line.offHook();
      await line.dial('5551234');
      await line.onHook();
    } finally {
      await line.close();
    }
    return { calls: readFileSync(log, 'utf8').trim().split('\n'), binding };
  }

  for (const generation of Object.keys(GENERATIONS) as Generation[]) {
    it(`${generation} header: the shim builds and every call reaches the driver's own functions`, async () => {
      const { shim, shimOutput } = built[generation]!;
      assert.match(shimOutput, /vpb-shim: built .* against .*vpbapi\.h/);
      assert.ok(existsSync(shim));
      const { calls, binding } = await call({ shimPath: shim }, `shim-${generation}`);
      assert.equal(binding, `shim compiled against ${GENERATIONS[generation].header}/vpbapi.h`);
      assert.ok(calls.includes('vpb_open 0 0'), calls.join('\n'));
      assert.ok(calls.includes('vpb_dial_sync 3 5551234'), calls.join('\n'));
      assert.ok(
        calls.some((c) => c.startsWith('vpb_set_event_mask 3 ')),
        calls.join('\n'),
      );
      assert.ok(calls.includes('vpb_sethook_sync 3 0'), 'back on hook');
    });
  }

  it('without the shim, the 1999-2001 library is found by its mangled names', async () => {
    const { calls, binding } = await call({ libraryPath: built['1999']!.library }, 'dlsym-1999');
    assert.equal(binding, `dlsym lookup of the VPBAPI.H 1999-2001 names in ${built['1999']!.library}`);
    assert.ok(calls.includes('vpb_dial_sync 3 5551234'), calls.join('\n'));
  });

  it('without the shim, a library with other parameter types is refused at open, naming the function', async () => {
    const opening = openLine({ backend: 'vpb', vpb: { libraryPath: built.gen4!.library } });
    await assert.rejects(opening, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENOVPB');
      assert.match(err.message, /no vpb_set_event_mask \(looked for vpb_set_event_mask and _Z18vpb_set_event_maskit\)/);
      assert.match(err.message, /native\/vpb-shim\.sh/, 'says how to bind this driver generation');
      return true;
    });
  });

  it('no vpbapi.h: nothing is built and the script says the lookup by name stays', () => {
    const out = join(dir, 'none.so');
    const args = ['--include', join(dir, 'no-such-dir'), '--out', out];
    const output = execFileSync('bash', [SHIM_SCRIPT, ...args], { encoding: 'utf8' });
    assert.match(output, /no vpbapi\.h/);
    assert.ok(!existsSync(out));
  });
});
