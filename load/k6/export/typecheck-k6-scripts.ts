import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/*
 * Type-checks exported k6 scripts the way k6 sees them: ES2020 without DOM or Node typings (k6 has
 * neither), the k6 globals and modules from @types/k6, and `.ts` imports kept as written because k6
 * loads imports by path. The scripts may live anywhere (a temp folder): k6's modules resolve to this
 * project's @types/k6.
 */

const K6_TYPES_DIR = fileURLToPath(new URL('../../../node_modules/@types/k6', import.meta.url));
const TYPE_ROOTS_DIR = fileURLToPath(new URL('../../../node_modules/@types', import.meta.url));

export const K6_COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2020,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2020.d.ts'],
  types: ['k6'],
  typeRoots: [TYPE_ROOTS_DIR],
  paths: { k6: [`${K6_TYPES_DIR}/index.d.ts`], 'k6/*': [`${K6_TYPES_DIR}/*/index.d.ts`] },
  strict: true,
  noUncheckedIndexedAccess: true,
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
  noEmit: true,
  skipLibCheck: true,
};

/** One line per problem (`file:line:column message`); empty when the scripts type-check. */
export function typeCheckK6Scripts(scriptPaths: readonly string[]): string[] {
  const program = ts.createProgram(scriptPaths, K6_COMPILER_OPTIONS);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!diagnostic.file || diagnostic.start === undefined) return message;
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${diagnostic.file.fileName}:${line + 1}:${character + 1} ${message}`;
  });
}
