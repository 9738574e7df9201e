import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from './plugin';
import { checkDistinctNames, pluginOf, PluginLoadError } from './shape';

/**
 * A real dynamic `import()`: TypeScript compiles `import()` to `require()` for CommonJS output, which
 * cannot load ES modules. Through `Function`, node's own loader runs, so `.mjs`, `"type": "module"`
 * packages and CommonJS all load.
 */
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** Whether a `--plugin` value is a path (resolved from the working directory) rather than a package name. */
function isPath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || spec.includes('\\');
}

/** The file a `--plugin` value names: a path from `cwd`, or a package as `require` resolves it from `cwd`. */
function resolvePlugin(spec: string, cwd: string): string {
  if (isPath(spec)) return resolve(cwd, spec);
  try {
    return createRequire(join(cwd, 'package.json')).resolve(spec);
  } catch (err) {
    throw new PluginLoadError(`cannot load plugin ${spec}: no such package from ${cwd} (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
}

/** Loads one plugin module (CommonJS or ES module) and checks its shape; errors name the file. */
export async function loadPlugin(spec: string, cwd = process.cwd()): Promise<Plugin> {
  const file = resolvePlugin(spec, cwd);
  const where = file === spec ? spec : `${spec} (${file})`;
  let module: unknown;
  try {
    module = await importModule(pathToFileURL(file).href);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ERR_MODULE_NOT_FOUND' && !isPath(spec) ? (err as Error).message : code === 'ERR_MODULE_NOT_FOUND' ? 'no such file' : messageOf(err);
    throw new PluginLoadError(`cannot load plugin ${where}: ${reason}`, { cause: err });
  }
  return pluginOf(module, where);
}

/** Loads the `--plugin` modules in order. */
export async function loadPlugins(specs: readonly string[], cwd = process.cwd()): Promise<Plugin[]> {
  const loaded: Array<{ plugin: Plugin; where: string }> = [];
  for (const spec of specs) loaded.push({ plugin: await loadPlugin(spec, cwd), where: spec });
  checkDistinctNames(loaded);
  return loaded.map(({ plugin }) => plugin);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message.split('\n')[0]}` : String(err);
}
