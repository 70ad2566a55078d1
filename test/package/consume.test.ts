import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let scratch = '';
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

interface PackResult {
  filename: string;
  files: Array<{ path: string; size: number }>;
}

/** Packs a copy of the repository (its own dist/ is left alone: other suites run from it). */
async function pack(): Promise<{ tarball: string; result: PackResult }> {
  const copy = join(scratch, 'ice-tcp');
  await mkdir(copy);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'src']) {
    await cp(join(ROOT, f), join(copy, f), { recursive: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: copy });
  const [result] = JSON.parse(stdout.slice(stdout.indexOf('['))) as PackResult[];
  if (!result) throw new Error(`npm pack printed no result: ${stdout}`);
  return { tarball: join(scratch, result.filename), result };
}

describe('the packed tarball, installed into a fresh project', () => {
  it('ships LICENSE, no source maps, no install scripts; a strict TypeScript consumer compiles and runs', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'ice-tcp-pack-'));
    const { tarball, result } = await pack();
    const paths = result.files.map((f) => f.path);
    expect(paths).toContain('LICENSE');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(paths.filter((p) => p.startsWith('src/'))).toEqual([]);

    const app = join(scratch, 'app');
    await mkdir(app);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: app,
    });
    expect(install.stderr).not.toMatch(/install-scripts|prepare|postinstall/);
    const installed = JSON.parse(await readFile(join(app, 'node_modules/ice-tcp/package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
      expect(installed.scripts?.[hook], hook).toBeUndefined();
    }

    await cp(join(ROOT, 'test/package/fixtures/consumer.ts.txt'), join(app, 'consumer.ts'));
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          verbatimModuleSyntax: true,
          outDir: 'out',
          typeRoots: [join(ROOT, 'node_modules/@types')],
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app }).catch(
      (err: { stdout: string }) => {
        throw new Error(`consumer does not type-check:\n${err.stdout}`);
      },
    );
    const { stdout } = await run(process.execPath, ['out/consumer.js'], { cwd: app, timeout: 30_000 });
    expect(JSON.parse(stdout)).toMatchObject({
      text: 'hello from a consumer',
      state: 'completed',
      phrase: 'Unauthenticated',
      typed: 'ERR_SIGNALLING',
    });
  }, 240_000);
});
