// What the task image would fail to import: reads Dockerfile.task's COPY lines (the contract of what
// goes into the image) and .dockerignore, lists the TypeScript files that end up in the image, and
// checks each of their imports: a relative one must resolve to a file that is copied too (never to
// test/), a package one must be a production dependency (the image installs with --omit=dev).
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/** The sources of the COPY lines of the Dockerfile's last stage that copy from the build context. */
export function copiedSources(dockerfile: string): string[] {
  const stages = dockerfile.split(/^FROM\s/m);
  const last = stages[stages.length - 1] ?? '';
  const sources: string[] = [];
  for (const line of last.replace(/\\\n/g, ' ').split('\n')) {
    const m = /^\s*COPY\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = m[1]!.trim().split(/\s+/);
    if (words.some((w) => w.startsWith('--from'))) continue;
    const args = words.filter((w) => !w.startsWith('--'));
    sources.push(...args.slice(0, -1));
  }
  return sources;
}

const globToRegExp = (pattern: string): RegExp => {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
};

/** A matcher of .dockerignore (last matching line wins; a matched directory excludes its contents). */
export function dockerIgnore(text: string): (relPath: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/$/, '');
      return { negate, re: globToRegExp(pattern) };
    });
  return (relPath) => {
    const parts = relPath.split('/');
    let ignored = false;
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join('/');
      for (const r of rules) if (r.re.test(prefix)) ignored = !r.negate;
      if (ignored) return true;
    }
    return ignored;
  };
}

function walk(root: string, rel: string, out: string[]): void {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return;
  if (fs.statSync(abs).isDirectory()) {
    for (const name of fs.readdirSync(abs).sort()) walk(root, path.posix.join(rel, name), out);
  } else out.push(rel);
}

/** The files of `root` that `Dockerfile.task` copies into its final image, relative to root. */
export function copiedFiles(root: string, dockerfileName = 'Dockerfile.task'): string[] {
  const dockerfile = fs.readFileSync(path.join(root, dockerfileName), 'utf8');
  const ignorePath = path.join(root, '.dockerignore');
  const ignored = dockerIgnore(fs.existsSync(ignorePath) ? fs.readFileSync(ignorePath, 'utf8') : '');
  const files: string[] = [];
  for (const source of copiedSources(dockerfile)) walk(root, path.posix.normalize(source), files);
  return [...new Set(files)].filter((f) => !ignored(f));
}

const packageName = (specifier: string): string => {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
};

/** Every import of a copied .ts file that would not resolve in the image, as `file: specifier (why)`. */
export function unresolvableImports(root: string, dockerfileName = 'Dockerfile.task'): string[] {
  const files = copiedFiles(root, dockerfileName);
  const copied = new Set(files);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
  const builtins = new Set(builtinModules);
  const problems: string[] = [];
  for (const file of files.filter((f) => /\.[cm]?ts$/.test(f))) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const { importedFiles } = ts.preProcessFile(text, true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith('.')) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
        if (target === 'test' || target.startsWith('test/') || target.startsWith('../'))
          problems.push(`${file}: ${specifier} (outside the product folders: ${target})`);
        else if (!copied.has(target)) problems.push(`${file}: ${specifier} (${target} is not copied)`);
      } else if (specifier.startsWith('node:') || builtins.has(specifier)) {
        continue;
      } else if (!dependencies.has(packageName(specifier))) {
        problems.push(`${file}: ${specifier} (not a production dependency)`);
      }
    }
  }
  return problems;
}
